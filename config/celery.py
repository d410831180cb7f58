"""The Celery application shared by the web tier (which only queues) and the workers."""

import os
from typing import Any

from celery import Celery, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only when it finished, and requeued if its worker died, so a
    # SIGKILLed worker loses nothing; tasks are idempotent so a redelivery is harmless.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # Each worker process holds up to 4 signing tasks, so it never waits on Redis between
    # two; tasks are short, and a dead worker's reserved tasks are redelivered.
    worker_prefetch_multiplier=4,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    # Publishing from a web request fails fast when the broker is down (a connect attempt is
    # bounded by broker_connection_timeout, and publishing is not retried); the sweep
    # re-queues what could not be published. A worker, though, must outlive a Redis restart:
    # its consumer reconnects forever (None; 0 would mean "give up at once").
    broker_connection_timeout=3,
    broker_connection_max_retries=None,
    task_publish_retry=False,
    # Celery's Django fixup closes the database connections around every task, which costs
    # a signing worker a tenth of its time in connecting. Connections are kept instead and
    # handled as Django handles them between requests (CONN_MAX_AGE, health checks, below);
    # the fixup still recycles them every 2,000 tasks.
    CELERY_DB_REUSE_MAX=1000,
)
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_database_connections(task: Any = None, **kwargs: Any) -> None:
    # Not for eager tasks: they run inside the caller's (or a test's) transaction.
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


import core.request_id  # noqa: E402, F401 - connects the request-id signals in every process
