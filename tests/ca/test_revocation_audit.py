"""Revocation and holds write their audit entries themselves, with the actor the caller names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import pytest

from audit.models import AuditEntry, AuditEvent
from ca.models import Certificate, CertificateAuthority, RevocationReason
from enrollment.models import BlockReason, Enrollment
from tests.fixtures.ca import fixture_bytes, order_for

pytestmark = pytest.mark.django_db


class AuditWriteFailed(Exception):
    pass


def _raise(*args: Any, **kwargs: Any) -> NoReturn:
    raise AuditWriteFailed


@pytest.fixture
def certificate(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Certificate:
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    return Certificate.objects.get(order=order)


def _entries(event: str, certificate: Certificate) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=event, object_id=str(certificate.pk)))


def test_a_revocation_is_recorded_once_and_a_second_revocation_records_nothing(
    certificate: Certificate, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert certificate.revoke(
            RevocationReason.SUPERSEDED, actor="holder:1", client_address="192.0.2.7"
        )
        assert not certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="admin:alice")
    [entry] = _entries(AuditEvent.CERTIFICATE_REVOKED, certificate)
    assert entry.actor == "holder:1" and entry.client_address == "192.0.2.7"
    assert entry.details["reason"] == RevocationReason.SUPERSEDED


def test_a_revocation_whose_audit_entry_fails_is_rolled_back(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="admin:alice")
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_the_holds_of_a_block_and_their_release_by_a_new_pin_name_who_did_it(
    certificate: Certificate, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    holder = certificate.enrollment.holder
    with django_capture_on_commit_callbacks(execute=True):
        holder.block(BlockReason.ADMIN, actor="admin:alice", client_address="192.0.2.7")
        holder.issue_pin(actor="admin:bob", client_address="192.0.2.8")
    [held] = _entries(AuditEvent.CERTIFICATE_REVOKED, certificate)
    [released] = _entries(AuditEvent.HOLD_RELEASED, certificate)
    assert (held.actor, held.client_address) == ("admin:alice", "192.0.2.7")
    assert (released.actor, released.client_address) == ("admin:bob", "192.0.2.8")
