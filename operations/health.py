"""Probes behind /healthz: each answers "ok" or a short reason, within a bounded time."""

from __future__ import annotations

from pathlib import Path

import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection


def database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "unavailable"
    return "ok"


def broker() -> str:
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
            )
            client.ping()
        except redis.RedisError:
            return "unavailable"
        return "ok"
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])  # type: ignore[arg-type]
    return "ok" if folder.is_dir() else "unavailable"


def worker() -> str:
    """A Celery worker answers a ping through the broker within a second."""
    try:
        # The project's app (config.celery): the current one once the settings are loaded.
        replies = current_app.control.ping(timeout=1.0)
    except Exception:  # any broker failure means no worker can be reached
        return "unavailable"
    return "ok" if replies else "no_worker"
