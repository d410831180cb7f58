from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Registration")

    def ready(self) -> None:
        # Imported for their registrations (system checks, signal receivers), and here rather
        # than at the top: both import the models, which Django loads only after the apps.
        from enrollment import checks, receivers  # noqa: F401
