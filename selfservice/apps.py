from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfServiceConfig(AppConfig):
    """The holder's pages after installation: certificate login, dashboard, renewal, the
    system API and expiry reminders."""

    name = "selfservice"
    verbose_name = _("Self-service")
