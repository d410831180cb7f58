from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators use: health probes, metrics, backup and restore."""

    name = "operations"
    verbose_name = "Operations"
