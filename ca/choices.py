"""The choices of the CA's model fields: kinds of CA, order states and revocation reasons."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaKind(models.TextChoices):
    ROOT = "root", _("root CA")
    ISSUING = "issuing", _("issuing CA")


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSING = "processing", _("processing")
    ISSUED = "issued", _("issued")
    FAILED = "failed", _("failed")


class RevocationReason(models.TextChoices):
    # RFC 5280 §5.3.1 reasons that apply to end-entity certificates in a full CRL.
    UNSPECIFIED = "unspecified", _("unspecified")
    KEY_COMPROMISE = "keyCompromise", _("key compromise")
    AFFILIATION_CHANGED = "affiliationChanged", _("affiliation changed")
    SUPERSEDED = "superseded", _("superseded")
    CESSATION_OF_OPERATION = "cessationOfOperation", _("cessation of operation")
    CERTIFICATE_HOLD = "certificateHold", _("certificate hold")
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn", _("privilege withdrawn")
