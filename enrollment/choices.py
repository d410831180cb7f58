"""The choices of the registration authority's model fields: kinds, states, reasons, consents."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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


class EnrollmentStatus(models.TextChoices):
    READY = "ready", _("ready for installation")
    ISSUED = "issued", _("certificate issued")
    INSTALLED = "installed", _("installation confirmed")
    EXPIRED = "expired", _("expired")


class Channel(models.TextChoices):
    """How an enrollment came about: in the browser (wizard, installer), or by the software
    itself over EST (RFC 7030) with its current certificate."""

    WEB = "web", _("portal")
    EST = "est", _("EST")


class ConsentKind(models.TextChoices):
    CERTIFICATE_USE = "certificate_use", _("Terms of certificate use")
    SOFTWARE = "software", _("Terms of the software")


class HandoverPurpose(models.TextChoices):
    """What an admin did that issued PINs (enrollment.models.handovers)."""

    ADD_HOLDER = "add_holder", _("certificate holder added")
    NEW_PINS = "new_pins", _("new PINs issued")
    LETTERS = "letters", _("new PINs issued as letters")
    IMPORT = "import", _("imported from CSV")


class ImportState(models.TextChoices):
    CHECKED = "checked", _("checked, waiting for confirmation")
    QUEUED = "queued", _("confirmed, waiting to start")
    RUNNING = "running", _("importing")
    DONE = "done", _("imported")
    FAILED = "failed", _("failed, nothing imported")
