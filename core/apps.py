from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure: imports no app, so every app may build on it."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core import checks  # noqa: F401 - registers the system checks
