"""Enrollments: a finished wizard, its certificate order and installation, and the consents given."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import connections, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from ca import interface as ca
from enrollment.choices import Channel, EnrollmentStatus, HolderKind
from enrollment.managers.enrollments import EnrollmentManager
from enrollment.models.holders import Holder
from enrollment.models.pins import ActivationCode

CERTIFICATE_NAME_MAX_LENGTH = 7
# Anchored with \A and \Z: "$" also matches before a trailing line feed, and a regex
# validator searches, so "ABC\n" would pass "^…$".
CERTIFICATE_NAME_PATTERN = r"\A[A-Za-z0-9-]{1,7}\Z"


class InstallProgress(models.TextChoices):
    """What the step-7 page and the installer API report, in the order it happens."""

    WAITING = "waiting_for_csr", _("Waiting for the installer")
    RECEIVED = "csr_received", _("Request received")
    SIGNING = "signing", _("Certificate is being signed")
    ISSUED = "issued", _("Certificate issued")
    INSTALLED = "installed", _("Installation confirmed")
    FAILED = "failed", _("The certificate could not be issued")
    EXPIRED = "expired", _("Expired")


class Installation(NamedTuple):
    """An installation's progress with, once issued, its certificate's fingerprints."""

    progress: str
    error_code: str = ""
    sha1: str | None = None
    serial: str | None = None


# What an order's status (ca.interface.OrderStatus) means for the installation.
ORDER_PROGRESS = {
    "pending": InstallProgress.RECEIVED,
    "processing": InstallProgress.SIGNING,
    "issued": InstallProgress.ISSUED,
    "failed": InstallProgress.FAILED,
}


@cache
def _installation_sql() -> str:
    # Asked on every status poll: hand-written, as Django takes longer to compile the
    # queryset than the database needs to answer it. Only the table name is put in.
    sql = "SELECT status, expires_at <= %s, certificate_id FROM {enrollments} WHERE id = %s"
    return sql.format(enrollments=Enrollment._meta.db_table)


class Enrollment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    holder = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="enrollments")
    kind = models.CharField(_("kind"), max_length=10, choices=HolderKind.choices)
    activation_code = models.OneToOneField(
        ActivationCode, on_delete=models.PROTECT, related_name="enrollment", null=True, blank=True
    )
    # The certificate the CA issued for this enrollment (recorded from ca.signals).
    certificate = models.OneToOneField(
        "ca.Certificate",
        on_delete=models.PROTECT,
        related_name="enrollment",
        null=True,
        blank=True,
        editable=False,
    )
    # A renewal or an installation again: the certificate this enrollment replaces (instead
    # of a PIN).
    renews = models.ForeignKey(
        "ca.Certificate", on_delete=models.PROTECT, related_name="renewals", null=True, blank=True
    )
    # Installed again (another computer, a broken first run): once this certificate is
    # installed, the one it replaces is revoked as superseded, unless the holder keeps both.
    supersedes_on_install = models.BooleanField(
        _("replaces the earlier certificate"), default=False
    )
    # EST renewals keep the certificate name (their subject must equal the old one's) and
    # retire the certificate they renew after the overlap (RENEWAL_OVERLAP_DAYS).
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.WEB
    )
    email = models.EmailField(_("e-mail address"))
    certificate_name = models.CharField(
        _("certificate name"),
        max_length=CERTIFICATE_NAME_MAX_LENGTH,
        validators=[RegexValidator(CERTIFICATE_NAME_PATTERN)],
    )
    password_hash = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.READY
    )
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    installed_at = models.DateTimeField(_("installation confirmed"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    expiry_notice_sent_at = models.DateTimeField(null=True, blank=True)

    objects = EnrollmentManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            # An EST renewal carries its predecessor's name: RFC 7030 wants the same subject.
            models.UniqueConstraint(
                Lower("certificate_name"),
                "holder",
                condition=~Q(status="expired") & ~Q(channel="est"),
                name="enrollment_certificate_name_unique_per_holder",
            ),
            models.CheckConstraint(
                condition=Q(kind="system", password_hash="")
                | Q(kind="personal") & ~Q(password_hash=""),
                name="enrollment_password_only_for_personal",
            ),
            models.CheckConstraint(
                condition=Q(activation_code__isnull=False) | Q(renews__isnull=False),
                name="enrollment_by_pin_or_renewal",
            ),
            # A reload or a second click on "install again" finds the open one.
            models.UniqueConstraint(
                "renews",
                condition=Q(status__in=["ready", "issued"]),
                name="enrollment_one_open_successor",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_name} — {self.holder.display_name}"

    def progress(self) -> tuple[str, str]:
        """The installation's progress and, for a failure, the CA's error code."""
        installation = self.installation()
        return installation.progress, installation.error_code

    def installation(self) -> Installation:
        """The installation as it stands in the database now (not as this instance was read):
        what the CA says of its order and, once it has a certificate, the enrollment's state.

        While the order waits or is signed (most long-poll wake-ups) one query answers: the
        enrollment can then only be ready, and it expires by its date alone, which does not
        change. Installed and expired are read from the RA's row once a certificate exists.
        """
        using = self._state.db or "default"
        order = ca.order_progress(self.public_id, using=using)
        if order is not None and order.certificate_id is None:
            if self.expires_at <= timezone.now():
                return Installation(InstallProgress.EXPIRED)
            return Installation(ORDER_PROGRESS[order.status], order.error_code)
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_installation_sql(), [now, self.pk])
            row = cursor.fetchone()
        if row is None:
            raise Enrollment.DoesNotExist(self.pk)
        status, expired, certificate_id = row
        sha1, serial = (order.sha1, order.serial) if order else (None, None)
        if status == EnrollmentStatus.INSTALLED:
            return Installation(InstallProgress.INSTALLED, sha1=sha1, serial=serial)
        if status == EnrollmentStatus.EXPIRED or expired:
            return Installation(InstallProgress.EXPIRED, sha1=sha1, serial=serial)
        if order is None:
            return Installation(InstallProgress.WAITING)
        if certificate_id is None:
            # The worker's report did not arrive (its process died after the commit): the
            # CA's own record says issued, so the RA records it now.
            Enrollment.objects.record_issued({self.public_id: order.certificate_id})
        return Installation(ORDER_PROGRESS[order.status], order.error_code, sha1, serial)

    def ca_subject(self) -> ca.Subject:
        """The subject the CA is to write, as the RA's records say it now."""
        holder = self.holder
        return ca.Subject(
            certificate_name=self.certificate_name,
            display_name=holder.display_name,
            user_number=holder.user_number,
            organisation=holder.organisation.name,
        )

    def order_certificate(
        self, csr: ca.AcceptedCsr, *, client_address: str | None = None
    ) -> ca.Placed:
        """Order this enrollment's certificate from the CA, with the subject as it is now."""
        holder = self.holder
        request = ca.OrderRequest(
            reference=self.public_id,
            holder=holder.ca_reference,
            profile=self.kind,
            csr=csr,
            subject=self.ca_subject(),
        )
        return ca.order_certificate(
            request, actor=f"holder:{holder.user_number}", client_address=client_address
        )

    @property
    def is_open(self) -> bool:
        """Still waiting for its installer: not installed, not expired."""
        return self.status in (EnrollmentStatus.READY, EnrollmentStatus.ISSUED) and (
            self.expires_at > timezone.now()
        )

    def mark_installed(self) -> bool:
        """The installer proved over mutual TLS that the certificate works.

        An installation again then retires the certificate it replaces, in the same
        transaction: the holder is never left without a working certificate, and not with
        one more than they chose to keep.
        """
        with transaction.atomic():
            updated = Enrollment.objects.filter(pk=self.pk, status=EnrollmentStatus.ISSUED).update(
                status=EnrollmentStatus.INSTALLED, installed_at=timezone.now()
            )
            self.refresh_from_db(fields=["status", "installed_at"])
            if updated and self.supersedes_on_install and self.renews_id is not None:
                ca.Certificate.objects.get(pk=self.renews_id).revoke(
                    ca.RevocationReason.SUPERSEDED, actor=f"holder:{self.holder.user_number}"
                )
        return bool(updated)

    @property
    def est_renewal(self) -> Enrollment | None:
        """The EST renewal of this enrollment's certificate, once its certificate is issued
        (read from prefetched ``certificate__renewals`` where the page prefetched them)."""
        if self.certificate is None:
            return None
        for renewal in self.certificate.renewals.all():
            if (
                renewal.channel == Channel.EST
                and renewal.certificate_id is not None
                and renewal.status != EnrollmentStatus.EXPIRED
            ):
                return renewal
        return None

    @property
    def retires_at(self) -> datetime | None:
        """When this certificate, renewed over EST, is revoked as superseded: the overlap
        after its renewal's certificate was issued."""
        renewal = self.est_renewal
        if renewal is None or renewal.certificate is None:
            return None
        return renewal.certificate.issued_at + timedelta(days=settings.RENEWAL_OVERLAP_DAYS)

    def deliver_over_est(self, certificate: ca.Certificate, *, client_address: str) -> bool:
        """EST handed the issued certificate to the software that asked for it: EST has no
        confirmation step, so that counts as installed (and an installation again retires
        what it replaces, as ``mark_installed`` does). False if it was delivered before."""
        with transaction.atomic():
            # The CA's record says issued; its report to the RA may still be on its way.
            Enrollment.objects.record_issued({self.public_id: certificate.pk})
            delivered = self.mark_installed()
            if delivered:
                AuditEntry.objects.record(
                    "certificate_delivered",
                    self,
                    actor=f"holder:{self.holder.user_number}",
                    client_address=client_address,
                    details={"serial": certificate.serial_hex},
                )
        return delivered

    @property
    def can_install_again(self) -> bool:
        """A new installer cannot work once a certificate was issued for another key:
        installing on another computer, or after a broken run, takes an installation again."""
        return self.certificate_id is not None and self.status in (
            EnrollmentStatus.ISSUED,
            EnrollmentStatus.INSTALLED,
        )

    def expire(self) -> bool:
        """Close an enrollment that was not installed in time; its install codes stop working."""
        updated = (
            Enrollment.objects.past_expiry()
            .filter(pk=self.pk)
            .update(status=EnrollmentStatus.EXPIRED)
        )
        self.refresh_from_db(fields=["status"])
        return bool(updated)
