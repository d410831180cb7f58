from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.caches, deploy=True)
def shared_cache_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and not settings.REDIS_URL:
        return [
            Error(
                "REDIS_URL is not set: rate limits and lockouts would be per process.",
                hint="Set REDIS_URL to the shared Redis, e.g. redis://redis:6379/0.",
                id="portal.E002",
            )
        ]
    return []


@register(Tags.database, deploy=True)
def server_database_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and not settings.DATABASE_URL:
        return [
            Error(
                "DATABASE_URL is not set: production needs PostgreSQL, not the embedded SQLite.",
                hint="Set DATABASE_URL=postgres://user@host/db.",
                id="portal.E003",
            )
        ]
    return []
