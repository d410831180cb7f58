from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    """The hash-chained audit log that CA, RA and site write to."""

    name = "audit"
    verbose_name = _("Audit log")
