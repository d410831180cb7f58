from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaConfig(AppConfig):
    name = "ca"
    verbose_name = _("Certificate authority")

    def ready(self) -> None:
        from ca import checks  # noqa: F401 - registers the checks once the apps are ready
