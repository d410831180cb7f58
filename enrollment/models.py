"""The registration authority's records: who may enroll, with which PIN, and what they agreed to."""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry, AuditEvent
from ca import interface as ca
from core.plain_text import PlainTextEmailField, PlainTextField, first_forbidden
from enrollment import user_numbers
from enrollment.mail import check_issue_mails, user_number_message
from enrollment.outbox import OutgoingMail  # a model of its own module; registered from here

PIN_LENGTH = 8
CERTIFICATE_NAME_MAX_LENGTH = 7
# Anchored with \A and \Z: "$" also matches before a trailing line feed, and a regex
# validator searches, so "ABC\n" would pass "^…$".
CERTIFICATE_NAME_PATTERN = r"\A[A-Za-z0-9-]{1,7}\Z"


class OrganisationManager(models.Manager["Organisation"]):
    def find_or_create(self, name: str, agb_code: str = "") -> Organisation:
        """The organisation of this name as the field normalises it, created if new.

        Validated like the admin form validates it (ValidationError), so the CSV import and
        ``issue_holder`` store no name that the form would refuse.
        """
        candidate = self.model(name=name, agb_code=agb_code)
        candidate.full_clean(validate_unique=False)
        organisation, _created = self.get_or_create(
            name=candidate.name, defaults={"agb_code": candidate.agb_code}
        )
        return organisation


class Organisation(models.Model):
    name = PlainTextField(_("name"), max_length=200, unique=True)
    agb_code = PlainTextField(
        _("AGB code"),
        max_length=8,
        blank=True,
        # [0-9], not \d: \d also takes other scripts' digits ("١٢٣…").
        validators=[RegexValidator(r"\A[0-9]{8}\Z", _("An AGB code has 8 digits."))],
        help_text=_("Optional: the organisation's 8-digit AGB code."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class HolderKind(models.TextChoices):
    PERSONAL = "personal", _("personal certificate")
    SYSTEM = "system", _("system certificate")


class HolderStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    BLOCKED = "blocked", _("blocked")


class BlockReason(models.TextChoices):
    PIN_ATTEMPTS = "pin_attempts", _("too many wrong PINs")
    ADMIN = "admin", _("blocked by an administrator")
    LOGIN_ATTEMPTS = "login_attempts", _("too many wrong passwords or codes")
    CONTACT_PERSON = "contact_person", _("blocked by the contact person")


# Blocks that an unblock lifts; a block for wrong PINs is lifted only by a new PIN.
UNBLOCKABLE_REASONS = (BlockReason.ADMIN, BlockReason.LOGIN_ATTEMPTS, BlockReason.CONTACT_PERSON)


def validate_networks(value: str) -> None:
    for line in value.split():
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError:
            raise ValidationError(
                _("%(value)s is not an IP address or range (CIDR)."), params={"value": line}
            ) from None


class HolderQuerySet(models.QuerySet["Holder"]):
    def active(self) -> HolderQuerySet:
        return self.filter(status=HolderStatus.ACTIVE)


class HolderManager(models.Manager["Holder"]):
    def get_queryset(self) -> HolderQuerySet:
        return HolderQuerySet(self.model, using=self._db)

    @transaction.atomic
    def issue(
        self,
        *,
        display_name: str,
        organisation: Organisation,
        contact_email: str,
        kind: str = HolderKind.PERSONAL,
        allowed_networks: str = "",
        pin_delivery: str = "letter",
        messagebox_address: str = "",
        actor: str = "system",
        client_address: str | None = None,
    ) -> tuple[Holder, str]:
        """Create a holder with a fresh user number and PIN; e-mail the number to the contact.

        Returns the holder and the PIN in clear, which the caller shows once and forgets.
        One transaction holds the holder, its PIN, the composed mail (outbox) and the audit
        entry: whatever can fail, the mail's headers included, fails before it commits, and
        the mail is sent after it (enrollment.outbox), so sending cannot undo or hide it.
        """
        holder = self.model(
            display_name=display_name,
            organisation=organisation,
            contact_email=contact_email,
            kind=kind,
            allowed_networks=allowed_networks,
            pin_delivery=pin_delivery,
            messagebox_address=messagebox_address,
        )
        holder.full_clean(exclude=["user_number"])
        holder.save_with_new_user_number()
        # The first PIN is part of the holder's issue: its HOLDER_ISSUED entry records both.
        pin, _lifted = holder._replace_pin(actor=actor, client_address=client_address)
        OutgoingMail.objects.store(user_number_message(holder), kind="user_number")
        AuditEntry.objects.record(
            AuditEvent.HOLDER_ISSUED,
            holder,
            actor=actor,
            client_address=client_address,
            details={
                "user_number": holder.user_number,
                "kind": holder.kind,
                "organisation": holder.organisation_id,
            },
        )
        return holder, pin


class Holder(models.Model):
    user_number = models.CharField(_("user number"), max_length=14, unique=True, editable=False)
    display_name = PlainTextField(
        _("name"), max_length=200, help_text=_("As it appears in the portal, e.g. “A. Janssen”.")
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=HolderKind.choices, default=HolderKind.PERSONAL
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="holders",
        verbose_name=_("organisation"),
    )
    contact_email = PlainTextEmailField(
        _("contact person's e-mail"),
        help_text=_("The user number is sent to this address."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=HolderStatus.choices, default=HolderStatus.ACTIVE
    )
    block_reason = models.CharField(
        _("reason for blocking"), max_length=20, choices=BlockReason.choices, blank=True
    )
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    is_contact_person = models.BooleanField(
        _("contact person"),
        default=False,
        help_text=_(
            "Sees the organisation's holders and certificates after logging in, and can block them."
        ),
    )
    pin_delivery = models.CharField(
        _("PIN delivery"),
        max_length=12,
        choices=[("letter", _("letter by post")), ("messagebox", _("e-mail to a message box"))],
        default="letter",
    )
    messagebox_address = PlainTextEmailField(
        _("message box address"),
        blank=True,
        help_text=_("Where the PIN goes when it is delivered to a message box."),
    )
    allowed_networks = models.TextField(
        _("allowed IP ranges"),
        blank=True,
        validators=[validate_networks],
        help_text=_("System certificates only: one IP address or CIDR range per line."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = HolderManager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("holder")
        verbose_name_plural = _("holders")
        constraints = [
            models.CheckConstraint(
                # \A…\Z: PostgreSQL's and Python's (SQLite's) regexes both read them alike.
                condition=Q(user_number__regex=r"\A[0-9]{14}\Z"),
                name="holder_user_number_14_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user_number})"

    def clean(self) -> None:
        if self.pin_delivery == "messagebox" and not self.messagebox_address:
            raise ValidationError(
                {"messagebox_address": _("A message box delivery needs the message box address.")}
            )
        if self.kind == HolderKind.PERSONAL and self.allowed_networks.strip():
            raise ValidationError(
                {"allowed_networks": _("Only system certificates are bound to IP ranges.")}
            )
        # The mails' headers are built now (from values the fields accepted; the fields name
        # the others), so a value that no header can carry is refused before anything is
        # written, not after the holder is committed.
        if first_forbidden(self.display_name) is None:
            check_issue_mails(self)

    @property
    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(line, strict=False) for line in self.allowed_networks.split()]

    @property
    def is_blocked(self) -> bool:
        return self.status == HolderStatus.BLOCKED

    @property
    def ca_reference(self) -> str:
        """What the CA calls this holder: its orders and certificates carry it."""
        return str(self.pk)

    def allows_address(self, address: str) -> bool:
        """Whether a system certificate of this holder may be used from ``address``."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)

    @transaction.atomic
    def allow_address(self, address: str) -> None:
        """Add one address to the allowed ranges (the admin's one-click fix for a refusal)."""
        locked = Holder.objects.select_for_update().get(pk=self.pk)
        if not locked.allows_address(address):
            network = ipaddress.ip_network(address)
            locked.allowed_networks = "\n".join([*locked.allowed_networks.split(), str(network)])
            locked.save(update_fields=["allowed_networks"])
        self.allowed_networks = locked.allowed_networks

    def save_with_new_user_number(self) -> None:
        # A collision among 10^13 numbers is rare but possible; the unique index decides.
        for _attempt in range(5):
            self.user_number = user_numbers.generate()
            try:
                with transaction.atomic():
                    self.save(force_insert=True)
                return
            except IntegrityError:
                if not Holder.objects.filter(user_number=self.user_number).exists():
                    raise
        raise RuntimeError("could not find a free user number")

    def _replace_pin(self, *, actor: str, client_address: str | None) -> tuple[str, str]:
        """Replace any unused PIN by a new one and lift a block, in the caller's transaction.

        Returns the PIN in clear and the reason of the block it lifted ("" if none).
        """
        now = timezone.now()
        locked = Holder.objects.select_for_update().get(pk=self.pk)
        locked.activation_codes.filter(used_at=None, revoked_at=None).update(revoked_at=now)
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
        ActivationCode.objects.create(
            holder=locked,
            pin_hash=make_password(pin),
            expires_at=now + timedelta(days=settings.PIN_VALIDITY_DAYS),
        )
        Holder.objects.filter(pk=self.pk).update(
            status=HolderStatus.ACTIVE, block_reason="", blocked_at=None
        )
        self.refresh_from_db(fields=["status", "block_reason", "blocked_at"])
        if locked.is_blocked:
            ca.release_holder_certificates(
                self.ca_reference, actor=actor, client_address=client_address
            )
        return pin, locked.block_reason if locked.is_blocked else ""

    @transaction.atomic
    def issue_pin(self, *, actor: str, client_address: str | None = None) -> str:
        """Replace any unused PIN by a new one and lift a block; returns the PIN in clear.

        The PIN, the lifted block and the audit entry commit together or not at all.
        """
        pin, lifted = self._replace_pin(actor=actor, client_address=client_address)
        AuditEntry.objects.record(
            AuditEvent.PIN_ISSUED,
            self,
            actor=actor,
            client_address=client_address,
            details={"user_number": self.user_number, "lifted_block": lifted},
        )
        return pin

    @transaction.atomic
    def block(
        self,
        reason: str = BlockReason.ADMIN,
        *,
        actor: str,
        client_address: str | None = None,
    ) -> bool:
        """Block the holder and, in the same transaction, put their certificates on hold.

        False, and nothing recorded, when the holder was blocked already: the first block's
        reason stays, so that blocking again cannot turn a block for wrong PINs (which only
        a new PIN lifts) into one that an unblock lifts.
        """
        blocked = (
            Holder.objects.filter(pk=self.pk)
            .exclude(status=HolderStatus.BLOCKED)
            .update(status=HolderStatus.BLOCKED, block_reason=reason, blocked_at=timezone.now())
        )
        self.refresh_from_db(fields=["status", "block_reason", "blocked_at"])
        if not blocked:
            return False
        AuditEntry.objects.record(
            AuditEvent.HOLDER_BLOCKED,
            self,
            actor=actor,
            client_address=client_address,
            details={"user_number": self.user_number, "reason": reason},
        )
        ca.revoke_holder_certificates(self.ca_reference, actor=actor, client_address=client_address)
        return True

    @transaction.atomic
    def unblock(self, *, actor: str, client_address: str | None = None) -> bool:
        """Lift a block and the holds it put; False for a block for wrong PINs (needs a new PIN).

        Also False, and nothing recorded, for a holder that is not blocked.
        """
        locked = Holder.objects.select_for_update().get(pk=self.pk)
        lifted = locked.is_blocked and locked.block_reason in UNBLOCKABLE_REASONS
        if lifted:
            Holder.objects.filter(pk=self.pk).update(
                status=HolderStatus.ACTIVE, block_reason="", blocked_at=None
            )
        self.refresh_from_db(fields=["status", "block_reason", "blocked_at"])
        if not lifted:
            return False
        AuditEntry.objects.record(
            AuditEvent.HOLDER_UNBLOCKED,
            self,
            actor=actor,
            client_address=client_address,
            details={"user_number": self.user_number, "reason": locked.block_reason},
        )
        ca.release_holder_certificates(
            self.ca_reference, actor=actor, client_address=client_address
        )
        return True


class PinCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown user number or wrong PIN: indistinguishable on purpose
    BLOCKED = "blocked"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class PinVerdict:
    result: PinCheck
    holder: Holder | None = None
    code: ActivationCode | None = None


# Checked against when the user number is unknown, so that both answers take equally long.
_DUMMY_PIN_HASH = make_password("not-a-pin")


class ActivationCodeQuerySet(models.QuerySet["ActivationCode"]):
    def usable(self) -> ActivationCodeQuerySet:
        return self.filter(used_at=None, revoked_at=None, expires_at__gt=timezone.now())

    def expiring_unused(self) -> ActivationCodeQuerySet:
        """Usable PINs that expire within the reminder period and were not yet reminded of."""
        soon = timezone.now() + timedelta(days=settings.ENROLLMENT_REMINDER_DAYS)
        return self.usable().filter(expires_at__lte=soon, reminder_sent_at=None)


class ActivationCode(models.Model):
    """The PIN: stored as a password hash (it is short), single use, expiring."""

    holder = models.ForeignKey(Holder, on_delete=models.CASCADE, related_name="activation_codes")
    pin_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = ActivationCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("PIN")
        verbose_name_plural = _("PINs")

    def __str__(self) -> str:
        return f"PIN for {self.holder_id} ({self.created_at:%Y-%m-%d})"

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "usable"

    @classmethod
    def verify(cls, user_number: str, pin: str) -> PinVerdict:
        """Check a user number and PIN; a wrong PIN counts against the user number.

        Runs in its own transaction, with the holder row locked, so that concurrent guesses
        are counted one by one and the block after the last allowed failure cannot be raced.
        """
        with transaction.atomic():
            holder = Holder.objects.select_for_update().filter(user_number=user_number).first()
            if holder is None:
                check_password(pin, _DUMMY_PIN_HASH)
                return PinVerdict(PinCheck.WRONG)
            if holder.is_blocked:
                return PinVerdict(PinCheck.BLOCKED, holder)
            latest = holder.activation_codes.filter(revoked_at=None).order_by("-created_at").first()
            if latest is None or not check_password(pin, latest.pin_hash):
                if latest is None:
                    check_password(pin, _DUMMY_PIN_HASH)
                    return PinVerdict(PinCheck.WRONG, holder)
                return latest._record_failure(holder)
            if latest.used_at is not None:
                return PinVerdict(PinCheck.USED, holder, latest)
            if latest.expires_at <= timezone.now():
                return PinVerdict(PinCheck.EXPIRED, holder, latest)
            return PinVerdict(PinCheck.OK, holder, latest)

    def _record_failure(self, holder: Holder) -> PinVerdict:
        ActivationCode.objects.filter(pk=self.pk).update(failed_attempts=F("failed_attempts") + 1)
        self.refresh_from_db(fields=["failed_attempts"])
        if self.failed_attempts >= settings.PIN_MAX_ATTEMPTS:
            holder.block(BlockReason.PIN_ATTEMPTS, actor=f"system:{BlockReason.PIN_ATTEMPTS}")
            return PinVerdict(PinCheck.BLOCKED, holder, self)
        return PinVerdict(PinCheck.WRONG, holder, self)

    def consume(self) -> bool:
        """Mark the PIN used; False if it was used, replaced or expired meanwhile."""
        now = timezone.now()
        return bool(
            ActivationCode.objects.filter(
                pk=self.pk, used_at=None, revoked_at=None, expires_at__gt=now
            ).update(used_at=now)
        )


class PolicyDocumentQuerySet(models.QuerySet["PolicyDocument"]):
    def published(self) -> PolicyDocumentQuerySet:
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())

    def current(self) -> PolicyDocument | None:
        return self.published().order_by("-published_at", "-pk").first()


class PolicyDocument(models.Model):
    """A version of the Certificate Policy / Certification Practice Statement (CP/CPS)."""

    version = models.CharField(
        _("version"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"\A[0-9A-Za-z.\-]+\Z", _("Use digits, letters, dots and dashes."))
        ],
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("Empty while in draft. The most recently published version is current."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("CP/CPS version")
        verbose_name_plural = _("CP/CPS versions")

    def __str__(self) -> str:
        return f"{self.title} {self.version}"

    def publish(self) -> None:
        PolicyDocument.objects.filter(pk=self.pk, published_at=None).update(
            published_at=timezone.now()
        )
        self.refresh_from_db(fields=["published_at"])

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]


class EnrollmentStatus(models.TextChoices):
    READY = "ready", _("ready for installation")
    ISSUED = "issued", _("certificate issued")
    INSTALLED = "installed", _("installation confirmed")
    EXPIRED = "expired", _("expired")


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
        return self.filter(public_id__in=list(certificates), certificate=None).update(
            certificate_id=certificate_of,
            status=Case(
                When(status=EnrollmentStatus.READY, then=Value(EnrollmentStatus.ISSUED)),
                default=F("status"),
            ),
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
    ) -> Enrollment:
        """Turn a finished wizard into an enrollment, consuming the PIN; all or nothing.

        A renewal (``renews_id``, the certificate it replaces) needs no PIN: the holder
        proved who they are by logging in with that certificate, password and code.
        """
        holder = Holder.objects.select_for_update().get(pk=holder_id)
        if holder.is_blocked:
            raise EnrollmentError("blocked")
        policy = PolicyDocument.objects.current()
        if policy is None:
            raise EnrollmentError("no_policy")
        code = None
        if renews_id is None:
            if activation_code_id is None:
                raise EnrollmentError("pin_used")
            code = ActivationCode.objects.get(pk=activation_code_id, holder=holder)
            if not code.consume():
                raise EnrollmentError("pin_used")
        if Enrollment.objects.name_taken(holder, certificate_name):
            raise EnrollmentError("name_taken")
        now = timezone.now()
        enrollment = self.create(
            holder=holder,
            kind=holder.kind,
            activation_code=code,
            renews_id=renews_id,
            email=email,
            certificate_name=certificate_name,
            password_hash=password_hash,
            client_address=client_address,
            expires_at=now + timedelta(days=settings.ENROLLMENT_VALIDITY_DAYS),
        )
        Consent.objects.bulk_create(
            Consent(
                enrollment=enrollment,
                kind=consent.kind,
                policy=policy,
                accepted_at=now,
                client_address=consent.client_address,
                user_agent=consent.user_agent[:500],
            )
            for consent in consents
        )
        return enrollment

    def name_taken(self, holder: Holder, certificate_name: str) -> bool:
        return (
            self.filter(holder=holder, certificate_name__iexact=certificate_name)
            .exclude(status=EnrollmentStatus.EXPIRED)
            .exists()
        )


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
    # A renewal: the certificate this enrollment replaces (instead of a PIN).
    renews = models.ForeignKey(
        "ca.Certificate", on_delete=models.PROTECT, related_name="renewals", null=True, blank=True
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
            models.UniqueConstraint(
                Lower("certificate_name"),
                "holder",
                condition=~Q(status="expired"),
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
        ]

    def __str__(self) -> str:
        return f"{self.certificate_name} — {self.holder.display_name}"

    def progress(self) -> tuple[str, str]:
        """The installation's progress and, for a failure, the CA's error code."""
        installation = self.installation()
        return installation.progress, installation.error_code

    def installation(self) -> Installation:
        """The installation as it stands in the database now (not as this instance was read):
        the enrollment's state and what the CA says of its order."""
        using = self._state.db or "default"
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_installation_sql(), [now, self.pk])
            row = cursor.fetchone()
        if row is None:
            raise Enrollment.DoesNotExist(self.pk)
        status, expired, certificate_id = row
        order = ca.order_progress(self.public_id, using=using)
        sha1, serial = (order.sha1, order.serial) if order else (None, None)
        if status == EnrollmentStatus.INSTALLED:
            return Installation(InstallProgress.INSTALLED, sha1=sha1, serial=serial)
        if status == EnrollmentStatus.EXPIRED or expired:
            return Installation(InstallProgress.EXPIRED, sha1=sha1, serial=serial)
        if order is None:
            return Installation(InstallProgress.WAITING)
        if order.certificate_id is not None and certificate_id is None:
            # The worker's report did not arrive (its process died after the commit): the
            # CA's own record says issued, so the RA records it now.
            Enrollment.objects.record_issued({self.public_id: order.certificate_id})
        return Installation(ORDER_PROGRESS[order.status], order.error_code, sha1, serial)

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
            subject=ca.Subject(
                certificate_name=self.certificate_name,
                display_name=holder.display_name,
                user_number=holder.user_number,
                organisation=holder.organisation.name,
            ),
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
        """The installer proved over mutual TLS that the certificate works."""
        updated = Enrollment.objects.filter(pk=self.pk, status=EnrollmentStatus.ISSUED).update(
            status=EnrollmentStatus.INSTALLED, installed_at=timezone.now()
        )
        self.refresh_from_db(fields=["status", "installed_at"])
        return bool(updated)

    def expire(self) -> bool:
        """Close an enrollment that was not installed in time; its install codes stop working."""
        updated = (
            Enrollment.objects.past_expiry()
            .filter(pk=self.pk)
            .update(status=EnrollmentStatus.EXPIRED)
        )
        self.refresh_from_db(fields=["status"])
        return bool(updated)


class ConsentKind(models.TextChoices):
    CERTIFICATE_USE = "certificate_use", _("Terms of certificate use")
    SOFTWARE = "software", _("Terms of the software")


class Consent(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    policy = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="consents")
    accepted_at = models.DateTimeField()
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind"], name="consent_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.policy.version})"


class InstallCodeQuerySet(models.QuerySet["InstallCode"]):
    def usable(self) -> InstallCodeQuerySet:
        return self.filter(replaced_at=None, enrollment__expires_at__gt=timezone.now()).exclude(
            enrollment__status=EnrollmentStatus.EXPIRED
        )


class InstallCodeManager(models.Manager["InstallCode"]):
    def get_queryset(self) -> InstallCodeQuerySet:
        return InstallCodeQuerySet(self.model, using=self._db)

    @transaction.atomic
    def mint(self, enrollment: Enrollment) -> str:
        """A new install code for the enrollment; earlier ones stop working. Returns it in clear."""
        now = timezone.now()
        self.filter(enrollment=enrollment, replaced_at=None).update(replaced_at=now)
        code = secrets.token_urlsafe(32)
        self.create(enrollment=enrollment, code_hash=InstallCode.hash(code))
        return code

    def find(self, code: str) -> InstallCode | None:
        """The install code record for a presented code, whatever its state (or None)."""
        if not code or len(code) > 100:
            return None
        try:
            return self.select_related("enrollment__holder__organisation").get(
                code_hash=InstallCode.hash(code)
            )
        except InstallCode.DoesNotExist:
            return None


class InstallCode(models.Model):
    """Binds a downloaded installer to its enrollment.

    256 random bits, so a fast hash is enough at rest: unlike a PIN it cannot be guessed, and
    every status poll checks it (a password hash would cost ~0.2 s a poll).
    """

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="install_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    objects = InstallCodeManager()

    class Meta:
        verbose_name = _("install code")
        verbose_name_plural = _("install codes")

    def __str__(self) -> str:
        return f"install code {self.pk} for enrollment {self.enrollment_id}"

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        enrollment = self.enrollment
        return (
            self.replaced_at is None
            and enrollment.status != EnrollmentStatus.EXPIRED
            and enrollment.expires_at > timezone.now()
        )


class RefusedAddressManager(models.Manager["RefusedAddress"]):
    def record(self, holder: Holder, address: str) -> None:
        """Count a refused use of a system certificate; one row per holder and address."""
        now = timezone.now()
        counted = self.filter(holder=holder, address=address).update(
            attempts=F("attempts") + 1, last_seen=now
        )
        if counted:
            return
        try:
            with transaction.atomic():
                self.create(holder=holder, address=address, first_seen=now, last_seen=now)
        except IntegrityError:  # a concurrent refusal created the row first
            self.filter(holder=holder, address=address).update(
                attempts=F("attempts") + 1, last_seen=now
            )


class RefusedAddress(models.Model):
    """An address from which a system certificate was used but is not allowed."""

    holder = models.ForeignKey(Holder, on_delete=models.CASCADE, related_name="refused_addresses")
    address = models.GenericIPAddressField(_("address"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    objects = RefusedAddressManager()

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("refused address")
        verbose_name_plural = _("refused addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "address"], name="refused_address_once_per_holder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.holder})"
