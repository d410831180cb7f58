"""Holders: the people and systems that may enroll, their blocks, and the mails of their issue.

The mails that issuing a holder sends (the user number to the contact person, the PIN to a
message box) are composed here, next to what they are composed of, and kept in the outbox
(``enrollment.models.outgoing_mail``) by the transaction that issues; the PIN travels nowhere
else but that encrypted row and the mail.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry, AuditEvent
from ca import interface as ca
from core.plain_text import PlainTextEmailField, PlainTextField, first_forbidden
from enrollment import user_numbers
from enrollment.choices import BlockReason, HolderKind, HolderStatus
from enrollment.managers.holders import HolderManager
from enrollment.managers.outgoing_mail import checked
from enrollment.models.organisations import Organisation
from enrollment.models.outgoing_mail import OutgoingMail

# The digits of a PIN (``Holder._replace_pin`` makes them; ``ActivationCode`` keeps the hash).
PIN_LENGTH = 8

# Blocks that an unblock lifts; a block for wrong PINs is lifted only by a new PIN.
UNBLOCKABLE_REASONS = (BlockReason.ADMIN, BlockReason.LOGIN_ATTEMPTS, BlockReason.CONTACT_PERSON)


def validate_networks(value: str) -> None:
    for line in value.split():
        try:
            network = ipaddress.ip_network(line, strict=False)
        except ValueError:
            raise ValidationError(
                _(
                    "%(value)s is not an IP address or range (CIDR). Write one per line, "
                    "e.g. 192.0.2.10 or 192.0.2.0/24."
                ),
                params={"value": line},
            ) from None
        if network.prefixlen == 0:
            # /0 would let the certificate be used from anywhere: no binding at all.
            raise ValidationError(
                _("%(value)s allows every address; give the organisation's own range."),
                params={"value": line},
            )


def new_pin() -> tuple[str, str]:
    """A fresh PIN and its password hash (the slow part: a memory-hard hash)."""
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    return pin, make_password(pin)


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
        # "Certificate holders", so that they are not mistaken for the admin's own users.
        verbose_name = _("certificate holder")
        verbose_name_plural = _("certificate holders")
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
            self._check_issue_mails()

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

    def _replace_pin(
        self,
        *,
        actor: str,
        client_address: str | None,
        prepared: tuple[str, str] | None = None,
    ) -> tuple[str, str]:
        """Replace any unused PIN by a new one and lift a block, in the caller's transaction.

        Returns the PIN in clear and the reason of the block it lifted ("" if none).
        ``prepared`` is a PIN and its hash made beforehand (``new_pin``): a mass import hashes
        outside its transaction, which then stays short.
        """
        now = timezone.now()
        locked = Holder.objects.select_for_update().get(pk=self.pk)
        locked.activation_codes.filter(used_at=None, revoked_at=None).update(revoked_at=now)
        pin, pin_hash = prepared or new_pin()
        locked.activation_codes.create(
            pin_hash=pin_hash,
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

    @transaction.atomic
    def save_by_admin(self, *, actor: str, client_address: str | None, changed: list[str]) -> None:
        """Save an admin's edit of an existing holder, with an audit entry of what changed."""
        if self._state.adding:
            raise ValueError("new holders are issued (Holder.objects.issue), not saved")
        self.save()
        AuditEntry.objects.record(
            AuditEvent.HOLDER_CHANGED,
            self,
            actor=actor,
            client_address=client_address,
            details={
                "user_number": self.user_number,
                "changed": {name: str(getattr(self, name)) for name in sorted(changed)},
            },
        )

    # --- The mails of the holder's issue ---------------------------------------------------

    def _store_user_number_mail(self) -> None:
        """Keep the user-number mail in the outbox, in the issuing transaction (the manager's)."""
        OutgoingMail.objects.store(self.user_number_mail(), kind="user_number")

    def user_number_mail(self) -> EmailMessage:
        """To the contact person: the holder's user number (never the PIN)."""
        context = {
            "holder": self,
            "portal_name": settings.PORTAL_NAME,
            "enroll_url": f"{settings.PORTAL_URL}/enroll/",
        }
        # Contact persons are Dutch organisations; the mail carries an English summary too.
        with translation.override("nl"):
            body = render_to_string("enrollment/mail/user_number.txt", context)
        return checked(
            EmailMessage(subject=self._user_number_subject(), body=body, to=[self.contact_email])
        )

    def pin_mail(self, pin: str) -> EmailMessage:
        """To the organisation's message box: the user number and the PIN."""
        body = (
            f"Pincode voor {self.display_name} ({self.organisation.name}) bij {settings.PORTAL_NAME}.\n\n"
            f"Gebruikersnummer: {self.user_number}\nPincode: {pin}\n\n"
            f"De pincode is eenmalig te gebruiken. Installeren: {settings.PORTAL_URL}/enroll/\n"
        )
        return checked(
            EmailMessage(subject=self._pin_subject(), body=body, to=[self.messagebox_address])
        )

    def _check_issue_mails(self) -> None:
        """Build the headers of the mails that issuing this holder sends, or ValidationError.

        Run by ``clean``, so an admin form, a CSV report or ``issue_holder`` refuses such a
        holder before anything is written. The addresses are left to their fields'
        validators; the subject and the sender (settings) are what else can fail.
        """
        checked(EmailMessage(subject=self._user_number_subject()))
        if self.pin_delivery == "messagebox":
            checked(EmailMessage(subject=self._pin_subject()))

    def _user_number_subject(self) -> str:
        return f"{settings.PORTAL_NAME}: gebruikersnummer voor {self.display_name}"

    def _pin_subject(self) -> str:
        return f"{settings.PORTAL_NAME}: pincode voor {self.display_name}"
