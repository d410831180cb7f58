"""The audit log: hash-chained and append-only, written by CA, RA and site alike.

Every entry names its actor and is appended in the caller's transaction, so an entry exists
exactly when the state change it records was committed. ``verify_audit_log`` checks the chain.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.TextChoices):
    CA_CREATED = "ca_created", _("CA created")
    CA_ACTIVATED = "ca_activated", _("CA activated")
    OCSP_RESPONDER_CREATED = "ocsp_responder_created", _("OCSP responder created")
    ORDER_RECEIVED = "order_received", _("order received")
    LINT_PASSED = "lint_passed", _("lint passed")
    LINT_FAILED = "lint_failed", _("lint failed")
    CERTIFICATE_ISSUED = "certificate_issued", _("certificate issued")
    ORDER_FAILED = "order_failed", _("order failed")
    CERTIFICATE_REVOKED = "certificate_revoked", _("certificate revoked")
    HOLD_RELEASED = "hold_released", _("hold released")
    CRL_PUBLISHED = "crl_published", _("CRL published")
    # Recorded by the site for the use of certificates and by the RA for holders.
    LOGIN = "login", _("logged in")
    LOGIN_FAILED = "login_failed", _("login failed")
    CERTIFICATE_USED = "certificate_used", _("system certificate used")
    RENEWAL_REQUESTED = "renewal_requested", _("renewal requested over EST")
    ENROLLMENT_REGISTERED = "enrollment_registered", _("registration completed")
    INSTALL_AGAIN_REQUESTED = "install_again_requested", _("installing again requested")
    CERTIFICATE_DELIVERED = "certificate_delivered", _("certificate delivered over EST")
    ACCESS_REFUSED = "access_refused", _("access refused")
    HOLDER_BLOCKED = "holder_blocked", _("holder blocked")
    HOLDER_UNBLOCKED = "holder_unblocked", _("holder unblocked")
    HOLDER_ISSUED = "holder_issued", _("holder issued")
    PIN_ISSUED = "pin_issued", _("PIN issued")
    # Recorded by the back office (the admin), each with the admin as its actor.
    HOLDER_CHANGED = "holder_changed", _("holder changed")
    ORGANISATION_CREATED = "organisation_created", _("organisation created")
    ORGANISATION_CHANGED = "organisation_changed", _("organisation changed")
    HOLDERS_IMPORTED = "holders_imported", _("holders imported from CSV")
    PIN_LETTERS_PRINTED = "pin_letters_printed", _("PIN letters downloaded")


GENESIS_HASH = "0" * 64


class AppendOnly(Exception):
    pass


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("audit entries are never changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted")


class AuditEntryManager(models.Manager["AuditEntry"]):
    def get_queryset(self) -> AuditEntryQuerySet:
        return AuditEntryQuerySet(self.model, using=self._db)

    def record(
        self,
        event: str,
        obj: models.Model | None = None,
        *,
        actor: str,
        client_address: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append an entry, chained to the previous one, in the caller's transaction."""
        return self.record_many(
            [(event, obj, details)], actor=actor, client_address=client_address
        )[0]

    def record_many(
        self,
        events: list[tuple[str, models.Model | None, dict[str, Any] | None]],
        *,
        actor: str,
        client_address: str | None = None,
    ) -> list[AuditEntry]:
        """Append ``(event, object, details)`` entries in order, under one lock of the head.

        The chain head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
        IMMEDIATE transaction holds the database's write lock), so concurrent writers append
        one after the other and never fork the chain. Several entries of one action share
        the lock and one INSERT, which keeps the lock short on the issuance hot path.
        """
        # No savepoint: an error here fails the caller's transaction as a whole, which is
        # what every caller wants, and it saves two round trips per entry.
        with transaction.atomic(savepoint=False):
            head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
            if head is None:
                try:
                    with transaction.atomic():
                        AuditChainHead.objects.create(pk=1, seq=0, entry_hash=GENESIS_HASH)
                except IntegrityError:
                    pass  # created by a concurrent writer; lock theirs
                head = AuditChainHead.objects.select_for_update().get(pk=1)
            entries: list[AuditEntry] = []
            seq, previous_hash = head.seq, head.entry_hash
            for event, obj, details in events:
                seq += 1
                entry = AuditEntry(
                    seq=seq,
                    created_at=timezone.now(),
                    event=event,
                    actor=actor[:150],
                    client_address=client_address or None,
                    object_type=obj._meta.label_lower if obj is not None else "",
                    object_id=str(obj.pk) if obj is not None else "",
                    details=details or {},
                    prev_hash=previous_hash,
                )
                entry.entry_hash = previous_hash = entry.compute_hash()
                entries.append(entry)
            self.bulk_create(entries)
            AuditChainHead.objects.filter(pk=1).update(seq=seq, entry_hash=previous_hash)
        return entries

    def verify(self) -> list[str]:
        """Problems found in the chain: empty when no row was removed, altered or inserted."""
        problems: list[str] = []
        previous_hash = GENESIS_HASH
        expected_seq = 1
        for entry in self.order_by("seq").iterator(chunk_size=2000):
            if entry.seq != expected_seq:
                problems.append(f"entry {expected_seq} is missing (next is {entry.seq})")
            if entry.prev_hash != previous_hash:
                problems.append(f"entry {entry.seq} does not follow the entry before it")
            if entry.compute_hash() != entry.entry_hash:
                problems.append(f"entry {entry.seq} was altered")
            previous_hash = entry.entry_hash
            expected_seq = entry.seq + 1
        head = AuditChainHead.objects.filter(pk=1).first()
        head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
        if head_seq != expected_seq - 1 or head_hash != previous_hash:
            problems.append(
                f"the log ends at entry {expected_seq - 1} but the chain head records entry {head_seq}"
            )
        return problems


class AuditEntry(models.Model):
    seq = models.BigIntegerField(_("number"), unique=True)
    created_at = models.DateTimeField(_("time"))
    event = models.CharField(_("event"), max_length=30, choices=AuditEvent.choices)
    actor = models.CharField(_("actor"), max_length=150)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object"), max_length=40, blank=True)
    details = models.JSONField(_("details"), default=dict)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    objects = AuditEntryManager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.seq} {self.event}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("audit entries are never deleted")

    def compute_hash(self) -> str:
        # Canonical JSON over every column but the hash itself, timestamps in UTC.
        payload = [
            self.seq,
            self.created_at.astimezone(UTC).isoformat(),
            self.event,
            self.actor,
            self.client_address or "",
            self.object_type,
            self.object_id,
            self.details,
            self.prev_hash,
        ]
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


class AuditChainHead(models.Model):
    """One row: the number and hash of the newest entry, locked by every writer."""

    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain head at entry {self.seq}"
