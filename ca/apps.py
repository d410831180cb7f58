from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaConfig(AppConfig):
    name = "ca"
    verbose_name = _("Certificate authority")
