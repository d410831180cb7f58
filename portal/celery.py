"""The Celery application shared by the web tier (which only queues) and the workers."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A task is acknowledged only when it finished, and requeued if its worker died, so a
    # SIGKILLed worker loses nothing; tasks are idempotent so a redelivery is harmless.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
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
)
app.autodiscover_tasks()

import portal.request_id  # noqa: E402, F401 - connects the request-id signals in every process
