"""Block, unblock, PIN issue and registration write their own audit entry, with the actor, or
nothing at all."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry, AuditEvent
from enrollment.models import (
    ActivationCode,
    BlockReason,
    Enrollment,
    Holder,
    HolderStatus,
    PinCheck,
)
from tests.enrollment import admin_pages
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker

pytestmark = pytest.mark.django_db


class AuditWriteFailed(Exception):
    pass


def _raise(*args: Any, **kwargs: Any) -> NoReturn:
    """Stands in for an audit write that fails, as on a full disk or a lost connection."""
    raise AuditWriteFailed


@pytest.fixture
def admin_client(client: Client) -> Client:
    admin = User.objects.create_superuser("beheer", "beheer@example.org", "Beheer-Wachtwoord1!")
    client.force_login(admin)
    return client


def _entries(event: str, holder: Holder) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=event, object_id=str(holder.pk)).order_by("seq"))


def _block_for_wrong_pins(holder: Holder) -> None:
    for _attempt in range(5):
        ActivationCode.verify(holder.user_number, "00000000")
    holder.refresh_from_db()
    assert holder.block_reason == BlockReason.PIN_ATTEMPTS


def test_blocking_records_one_entry_with_the_actor_and_the_reason() -> None:
    holder, _pin = issue_holder()
    assert holder.block(BlockReason.ADMIN, actor="admin:alice", client_address="192.0.2.7")
    [entry] = _entries(AuditEvent.HOLDER_BLOCKED, holder)
    assert entry.actor == "admin:alice" and entry.client_address == "192.0.2.7"
    assert entry.details == {"user_number": holder.user_number, "reason": "admin"}


def test_blocking_a_blocked_holder_changes_and_records_nothing() -> None:
    holder, _pin = issue_holder()
    _block_for_wrong_pins(holder)
    assert not holder.block(BlockReason.ADMIN, actor="admin:alice")
    holder.refresh_from_db()
    # Still the block that only a new PIN lifts.
    assert holder.block_reason == BlockReason.PIN_ATTEMPTS
    assert [e.actor for e in _entries(AuditEvent.HOLDER_BLOCKED, holder)] == ["system:pin_attempts"]


def test_a_block_whose_audit_entry_fails_is_rolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    holder, _pin = issue_holder()
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        holder.block(actor="admin:alice")
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE and holder.blocked_at is None


def test_an_unblock_records_an_entry_only_when_it_lifts_a_block() -> None:
    holder, _pin = issue_holder()
    assert not holder.unblock(actor="admin:alice")  # not blocked
    _block_for_wrong_pins(holder)
    assert not holder.unblock(actor="admin:alice")  # needs a new PIN
    assert not _entries(AuditEvent.HOLDER_UNBLOCKED, holder)

    other, _pin = issue_holder(name="B. Bakker")
    other.block(BlockReason.CONTACT_PERSON, actor="holder:1")
    assert other.unblock(actor="admin:alice", client_address="192.0.2.7")
    [entry] = _entries(AuditEvent.HOLDER_UNBLOCKED, other)
    assert entry.actor == "admin:alice" and entry.client_address == "192.0.2.7"
    assert entry.details == {"user_number": other.user_number, "reason": "contact_person"}


def test_an_unblock_whose_audit_entry_fails_is_rolled_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder, _pin = issue_holder()
    holder.block(actor="admin:alice")
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        holder.unblock(actor="admin:alice")
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED and holder.block_reason == BlockReason.ADMIN


def test_a_new_pin_records_one_entry_naming_the_block_it_lifted() -> None:
    holder, _pin = issue_holder()
    _block_for_wrong_pins(holder)
    pin = holder.issue_pin(actor="admin:alice", client_address="192.0.2.7")
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.OK
    [entry] = _entries(AuditEvent.PIN_ISSUED, holder)
    assert entry.actor == "admin:alice" and entry.client_address == "192.0.2.7"
    assert entry.details == {"user_number": holder.user_number, "lifted_block": "pin_attempts"}


def test_a_new_holder_s_first_pin_is_recorded_by_the_holder_s_issue_alone() -> None:
    holder, _pin = issue_holder()
    assert len(_entries(AuditEvent.HOLDER_ISSUED, holder)) == 1
    assert not _entries(AuditEvent.PIN_ISSUED, holder)


def test_a_pin_whose_audit_entry_fails_is_not_issued(monkeypatch: pytest.MonkeyPatch) -> None:
    holder, old_pin = issue_holder()
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        holder.issue_pin(actor="admin:alice")
    assert holder.activation_codes.count() == 1
    assert ActivationCode.verify(holder.user_number, old_pin).result is PinCheck.OK


def test_the_admin_s_block_and_unblock_actions_record_the_admin(admin_client: Client) -> None:
    holder, _pin = issue_holder()
    for action in ("block_holders", "unblock_holders"):
        admin_client.post(
            "/admin/enrollment/holder/",
            {"action": action, "_selected_action": [holder.pk]},
            REMOTE_ADDR="192.0.2.7",
        )
    [blocked] = _entries(AuditEvent.HOLDER_BLOCKED, holder)
    [unblocked] = _entries(AuditEvent.HOLDER_UNBLOCKED, holder)
    assert blocked.actor == unblocked.actor == "admin:beheer"
    assert blocked.details["reason"] == BlockReason.ADMIN


@pytest.mark.parametrize("action", ["issue_pins", "issue_pin_letters"])
def test_the_admin_s_pin_actions_record_the_admin(admin_client: Client, action: str) -> None:
    holder, _pin = issue_holder()
    # With the change list's one-time token, as the admin's browser sends it.
    admin_pages.run_action(admin_client, action, [holder])
    [entry] = _entries(AuditEvent.PIN_ISSUED, holder)
    assert entry.actor == "admin:beheer"


def test_a_finished_wizard_records_one_registration_with_the_holder_as_actor(
    client: Client,
) -> None:
    make_policy()
    holder, pin = issue_holder()
    WizardWalker(client).complete(holder.user_number, pin, name="MIJNPC")
    enrollment = Enrollment.objects.get(holder=holder)
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.ENROLLMENT_REGISTERED)
    assert entry.actor == f"holder:{holder.user_number}"
    assert entry.object_id == str(enrollment.pk) and entry.client_address == "127.0.0.1"
    assert entry.details == {"certificate_name": "MIJNPC"}


def test_a_registration_whose_audit_entry_fails_makes_nothing_and_keeps_the_pin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_policy()
    holder, _pin = issue_holder()
    code = ActivationCode.objects.get(holder=holder)
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        Enrollment.objects.complete(
            holder_id=holder.pk,
            activation_code_id=code.pk,
            email="a.janssen@example.org",
            certificate_name="MIJNPC",
            password_hash="!",
            consents=[],
            client_address="192.0.2.1",
        )
    assert not Enrollment.objects.exists()
    code.refresh_from_db()
    assert code.used_at is None
