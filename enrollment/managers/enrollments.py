"""The queryset and manager of enrollments (enrollment.models.enrollments): completing a wizard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca import interface as ca
from enrollment.choices import Channel, EnrollmentStatus, HolderKind, HolderStatus

if TYPE_CHECKING:
    from enrollment.models.consents import Consent
    from enrollment.models.enrollments import Enrollment
    from enrollment.models.holders import Holder
    from enrollment.models.policies import PolicyDocument


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def awaiting_installation(self) -> EnrollmentQuerySet:
        return self.filter(status__in=[EnrollmentStatus.READY, EnrollmentStatus.ISSUED])

    def record_issued(self, certificates: dict[uuid.UUID, int]) -> int:
        """Record the certificates the CA issued, by enrollment public id (ca.signals).

        One UPDATE for a worker's batch; an enrollment that has its certificate already (a
        report that came twice, or after the step-7 page repaired a lost one) is left alone.
        """
        if not certificates:
            return 0
        certificate_of = Case(
            *[When(public_id=ref, then=Value(pk)) for ref, pk in certificates.items()],
            output_field=models.BigIntegerField(),
        )
        recorded = self.filter(public_id__in=list(certificates), certificate=None).update(
            certificate_id=certificate_of,
            status=Case(
                When(status=EnrollmentStatus.READY, then=Value(EnrollmentStatus.ISSUED)),
                default=F("status"),
            ),
        )
        if recorded:
            self._hold_for_blocked_holders(list(certificates))
        return recorded

    def _hold_for_blocked_holders(self, references: list[uuid.UUID]) -> None:
        """A certificate signed for a holder blocked while its order waited is put on hold
        at once, as the block put the holder's other certificates on hold."""
        holder_model = cast("type[Holder]", self.model._meta.get_field("holder").related_model)
        blocked = holder_model.objects.filter(
            status=HolderStatus.BLOCKED, enrollments__public_id__in=references
        ).distinct()
        for holder in blocked:
            ca.revoke_holder_certificates(holder.ca_reference, actor="system:holder_blocked")

    def record_missed_certificates(self, *, older_than: timedelta, limit: int = 500) -> int:
        """Record certificates whose report from the CA was lost (its worker died after the
        commit): the CA's own record is asked for enrollments still waiting after
        ``older_than``, at most ``limit`` per call."""
        waiting = self.filter(
            status=EnrollmentStatus.READY,
            certificate=None,
            created_at__lte=timezone.now() - older_than,
        ).values_list("public_id", flat=True)
        return self.record_issued(ca.issued_under(list(waiting[:limit])))

    def replacements_issued(self) -> EnrollmentQuerySet:
        """EST renewals and installations again that retire what they renew, whose new
        certificate was issued: the certificates they renew (``renews``) are on their way
        out. (A holder who keeps both certificates still uses the earlier one.)"""
        return (
            self.filter(renews__isnull=False, certificate__isnull=False)
            .filter(Q(channel=Channel.EST) | Q(supersedes_on_install=True))
            .exclude(status=EnrollmentStatus.EXPIRED)
        )

    def past_expiry(self) -> EnrollmentQuerySet:
        return self.awaiting_installation().filter(expires_at__lte=timezone.now())

    def due_for_reminder(self) -> EnrollmentQuerySet:
        soon = timezone.now() + timedelta(days=settings.ENROLLMENT_REMINDER_DAYS)
        return self.awaiting_installation().filter(
            expires_at__gt=timezone.now(), expires_at__lte=soon, reminder_sent_at=None
        )


class EnrollmentError(Exception):
    """The enrollment could not be completed; ``code`` says why, for the page to explain."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ConsentGiven:
    kind: str
    client_address: str
    user_agent: str


class EnrollmentManager(models.Manager.from_queryset(EnrollmentQuerySet)):  # type: ignore[misc]
    @transaction.atomic
    def complete(
        self,
        *,
        holder_id: int,
        activation_code_id: int | None,
        email: str,
        certificate_name: str,
        password_hash: str,
        consents: list[ConsentGiven],
        client_address: str,
        renews_id: int | None = None,
        supersedes_on_install: bool = False,
    ) -> Enrollment:
        """Turn a finished wizard into an enrollment, consuming the PIN; all or nothing.

        A renewal (``renews_id``, the certificate it replaces) needs no PIN: the holder
        proved who they are by logging in with that certificate, password and code.
        """
        # The related models through the fields that name them: the models import the
        # managers, so the managers do not import the models.
        holder_model = cast("type[Holder]", self.model._meta.get_field("holder").related_model)
        consent_model = cast("type[Consent]", self.model._meta.get_field("consents").related_model)
        policy_model = cast(
            "type[PolicyDocument]", consent_model._meta.get_field("policy").related_model
        )
        holder = holder_model.objects.select_for_update().get(pk=holder_id)
        if holder.is_blocked:
            raise EnrollmentError("blocked")
        policy = policy_model.objects.current()
        if policy is None:
            raise EnrollmentError("no_policy")
        code = None
        if renews_id is None:
            if activation_code_id is None:
                raise EnrollmentError("pin_used")
            code = holder.activation_codes.get(pk=activation_code_id)
            if not code.consume():
                raise EnrollmentError("pin_used")
        if self.name_taken(holder, certificate_name):
            raise EnrollmentError("name_taken")
        now = timezone.now()
        enrollment = self.create(
            holder=holder,
            kind=holder.kind,
            activation_code=code,
            renews_id=renews_id,
            supersedes_on_install=supersedes_on_install,
            email=email,
            certificate_name=certificate_name,
            password_hash=password_hash,
            client_address=client_address,
            expires_at=now + timedelta(days=settings.ENROLLMENT_VALIDITY_DAYS),
        )
        consent_model.objects.bulk_create(
            consent_model(
                enrollment=enrollment,
                kind=consent.kind,
                policy=policy,
                accepted_at=now,
                client_address=consent.client_address,
                user_agent=consent.user_agent[:500],
            )
            for consent in consents
        )
        # In this transaction: no registration without its entry, no entry without it.
        event = AuditEvent.ENROLLMENT_REGISTERED
        details: dict[str, object] = {"certificate_name": certificate_name}
        if renews_id is not None:
            event = AuditEvent.INSTALL_AGAIN_REQUESTED
            details["keeps_previous"] = not supersedes_on_install
        AuditEntry.objects.record(
            event,
            enrollment,
            actor=f"holder:{holder.user_number}",
            client_address=client_address or None,
            details=details,
        )
        return enrollment

    @transaction.atomic
    def install_again(
        self,
        previous: Enrollment,
        *,
        certificate_name: str,
        keep_previous: bool,
        consents: list[ConsentGiven],
        client_address: str,
    ) -> tuple[Enrollment, bool]:
        """A new certificate with a new key for the holder of ``previous``, without a PIN.

        Returns the enrollment and whether it was made now: while one made from the same
        certificate still waits for its installer, that one is returned (a reload, a double
        click). Keeping both certificates is allowed up to ``MAX_LIVE_CERTIFICATES``.
        """
        if previous.certificate_id is None:
            raise EnrollmentError("nothing_to_replace")
        # Locked: of two requests at once, the second waits here and finds the first's.
        waiting = (
            self.select_for_update()
            .filter(renews_id=previous.certificate_id)
            .awaiting_installation()
            .first()
        )
        if waiting is not None:
            if waiting.expires_at > timezone.now():
                return waiting, False
            waiting.expire()
        if (
            keep_previous
            and self.live_certificates(previous.holder) >= settings.MAX_LIVE_CERTIFICATES
        ):
            raise EnrollmentError("too_many_certificates")
        enrollment = self.complete(
            holder_id=previous.holder_id,
            activation_code_id=None,
            email=previous.email,
            certificate_name=certificate_name,
            password_hash=previous.password_hash,
            consents=consents,
            client_address=client_address,
            renews_id=previous.certificate_id,
            supersedes_on_install=not keep_previous,
        )
        return enrollment, True

    def successor_of(self, previous: Enrollment) -> Enrollment | None:
        """The installation again of ``previous`` that still waits for its installer."""
        return (
            self.filter(renews_id=previous.certificate_id, expires_at__gt=timezone.now())
            .awaiting_installation()
            .first()
        )

    def replaceable_of(self, holder: Holder) -> Enrollment | None:
        """The holder's most recent enrollment whose certificate was issued: what installing
        again replaces."""
        return (
            self.filter(
                holder=holder,
                certificate__isnull=False,
                status__in=[EnrollmentStatus.ISSUED, EnrollmentStatus.INSTALLED],
            )
            .select_related("holder__organisation")
            .order_by("-created_at")
            .first()
        )

    @transaction.atomic
    def renew_over_est(
        self, previous: Enrollment, csr: ca.AcceptedCsr, *, client_address: str
    ) -> tuple[Enrollment, ca.Placed]:
        """Renew a system certificate for the key in ``csr`` (EST ``simplereenroll``), with
        the same name and subject; the old certificate retires after the overlap.

        Idempotent: asked again (the client repeats its request while a worker signs, or
        after a lost answer), the renewal already made answers; its order tells whether the
        key is the same. ``EnrollmentError("already_renewed")``: another renewal or an
        installation again replaces this certificate already.
        """
        if previous.certificate_id is None or previous.kind != HolderKind.SYSTEM:
            raise EnrollmentError("nothing_to_replace")
        # Locked: of two requests at once, the second waits here and finds the first's.
        self.select_for_update().filter(pk=previous.pk).first()
        successor = (
            self.filter(renews_id=previous.certificate_id)
            .exclude(status=EnrollmentStatus.EXPIRED)
            .order_by("-created_at")
            .first()
        )
        if successor is not None:
            if successor.channel != Channel.EST:
                raise EnrollmentError("already_renewed")
            return successor, successor.order_certificate(csr, client_address=client_address)
        actor = f"holder:{previous.holder.user_number}"
        renewal = self.create(
            holder_id=previous.holder_id,
            kind=HolderKind.SYSTEM,
            channel=Channel.EST,
            renews_id=previous.certificate_id,
            email=previous.email,
            certificate_name=previous.certificate_name,
            client_address=client_address,
            expires_at=timezone.now() + timedelta(days=settings.ENROLLMENT_VALIDITY_DAYS),
        )
        AuditEntry.objects.record(
            AuditEvent.RENEWAL_REQUESTED,
            renewal,
            actor=actor,
            client_address=client_address,
            details={"renews": previous.certificate.serial_hex if previous.certificate else ""},
        )
        return renewal, renewal.order_certificate(csr, client_address=client_address)

    def overlap_over(self, now: datetime | None = None) -> EnrollmentQuerySet:
        """EST renewals whose certificate was issued ``RENEWAL_OVERLAP_DAYS`` ago while the
        one they renew still works: time to retire that one."""
        now = now or timezone.now()
        return self.filter(
            channel=Channel.EST,
            certificate__issued_at__lte=now - timedelta(days=settings.RENEWAL_OVERLAP_DAYS),
            renews__revoked_at=None,
            renews__not_after__gt=now,
        ).exclude(status=EnrollmentStatus.EXPIRED)

    def retire_renewed(self, now: datetime | None = None) -> int:
        """Revoke, as superseded, the certificates whose EST renewal's overlap is over; the
        holder is the actor (the software asked for it). How many were revoked now."""
        retired = 0
        for renewal in self.overlap_over(now).select_related("renews", "holder"):
            assert renewal.renews is not None
            with transaction.atomic():
                retired += renewal.renews.revoke(
                    ca.RevocationReason.SUPERSEDED, actor=f"holder:{renewal.holder.user_number}"
                )
        return retired

    def live_certificates(self, holder: Holder) -> int:
        """The holder's certificates that work now, and those on their way (a certificate of
        an installation that replaces another is not counted twice)."""
        now = timezone.now()
        issued = self.filter(
            holder=holder,
            certificate__revoked_at=None,
            certificate__not_after__gt=now,
        ).count()
        coming = (
            self.filter(holder=holder, certificate=None, supersedes_on_install=False)
            .awaiting_installation()
            .filter(expires_at__gt=now)
            .count()
        )
        return issued + coming

    def of_certificate(self, certificate: ca.Certificate) -> Enrollment:
        """The enrollment a certificate was issued for, recording the link if the CA's report
        of it has not arrived (yet)."""
        try:
            return certificate.enrollment
        except self.model.DoesNotExist:
            self.record_issued({certificate.reference: certificate.pk})
            enrollment = self.select_related("holder__organisation").get(
                public_id=certificate.reference
            )
            certificate.enrollment = enrollment
            return enrollment

    def name_taken(self, holder: Holder, certificate_name: str) -> bool:
        return (
            self.filter(holder=holder, certificate_name__iexact=certificate_name)
            .exclude(status=EnrollmentStatus.EXPIRED)
            .exists()
        )
