"""The audit log: a hash chain that `verify_audit_log` checks; read-only everywhere."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client

from audit.models import AppendOnly, AuditEntry, AuditEvent
from ca.models import CertificateAuthority

pytestmark = pytest.mark.django_db


def _log(count: int) -> list[AuditEntry]:
    return [
        AuditEntry.objects.record(
            AuditEvent.ORDER_RECEIVED,
            actor=f"holder:{n}",
            client_address="192.0.2.9",
            details={"n": n},
        )
        for n in range(count)
    ]


def _verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_log", stdout=out)
    return out.getvalue()


def test_an_untouched_log_verifies(hierarchy: CertificateAuthority) -> None:
    _log(3)
    assert "intact" in _verify()
    events = set(AuditEntry.objects.values_list("event", flat=True))
    assert {"ca_created", "crl_published", "ocsp_responder_created", "order_received"} <= events


def test_each_entry_carries_the_hash_of_the_one_before() -> None:
    first, second = _log(2)
    assert second.prev_hash == first.entry_hash
    assert second.seq == first.seq + 1


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_deleting_a_row_is_detected(position: str) -> None:
    entries = _log(5)
    victim = {"first": entries[0], "middle": entries[2], "last": entries[4]}[position]
    with connection.cursor() as cursor:  # bypassing the model, as an attacker with SQL would
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match="tampered"):
        _verify()


def test_editing_a_row_is_detected() -> None:
    entries = _log(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor = %s WHERE id = %s", ["admin:mallory", entries[1].pk]
        )
    with pytest.raises(CommandError, match="entry 2 was altered"):
        _verify()


def test_rehashing_an_edited_row_still_breaks_the_chain() -> None:
    entries = _log(3)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.actor = "admin:mallory"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor = %s, entry_hash = %s WHERE id = %s",
            [forged.actor, forged.compute_hash(), forged.pk],
        )
    with pytest.raises(CommandError, match="entry 3 does not follow"):
        _verify()


def test_the_orm_refuses_to_change_or_delete_entries() -> None:
    (entry,) = _log(1)
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(actor="x")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for n in range(10):
                AuditEntry.objects.record(
                    AuditEvent.ORDER_RECEIVED, actor=f"w{worker}", details={"n": n}
                )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert AuditEntry.objects.count() == 40
    assert AuditEntry.objects.verify() == []


def test_the_admin_shows_the_log_read_only(client: Client) -> None:
    _log(1)
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    listing = client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200
    assert b"holder:0" in listing.content
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    entry = AuditEntry.objects.get()
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEntry.objects.count() == 1


def test_the_admin_revokes_through_the_model_method(
    client: Client,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Any],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from ca.models import Certificate
    from tests.fixtures.ca import fixture_bytes, order_for

    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    certificate = Certificate.objects.get(order=order)
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/ca/certificate/",
            {"action": "revoke_keyCompromise", "_selected_action": [certificate.pk]},
            REMOTE_ADDR="198.51.100.4",
        )
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revocation_reason == "keyCompromise"
    entry = AuditEntry.objects.get(event="certificate_revoked")
    assert (entry.actor, entry.client_address) == ("admin:root", "198.51.100.4")


def test_entries_recorded_together_chain_in_order_and_verify() -> None:
    _log(2)
    together = AuditEntry.objects.record_many(
        [
            (AuditEvent.LINT_PASSED, None, {"serial": "1f"}),
            (AuditEvent.CERTIFICATE_ISSUED, None, {"serial": "1f"}),
        ],
        actor="system:worker",
    )
    _log(1)
    assert [entry.seq for entry in together] == [3, 4]
    assert together[1].prev_hash == together[0].entry_hash
    assert AuditEntry.objects.get(seq=5).prev_hash == together[1].entry_hash
    assert AuditEntry.objects.verify() == []
