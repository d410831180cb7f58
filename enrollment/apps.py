from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Registration")

    def ready(self) -> None:
        from enrollment import checks, receivers  # noqa: F401 - registers checks and receivers
