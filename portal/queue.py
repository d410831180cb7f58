"""Queueing Celery tasks from the web tier."""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import transaction

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)


@cache
def _app_with_tasks() -> Celery:
    """The Celery app with every app's tasks registered, also in processes that only queue.

    Once per process: Celery's Django fixup runs Django's system checks on each
    import_default_modules (about 15 ms, which was half the time of the wizard's last step).
    """
    from portal.celery import app

    app.loader.import_default_modules()
    return app


def queue_after_commit(task_name: str, *args: Any) -> None:
    """Send a task once the transaction commits; a broker outage must not undo the commit.

    Whatever could not be sent is found again by the periodic sweeps, which look at the
    database, not at the broker.
    """

    def send() -> None:
        try:
            # Through the registered task, so CELERY_TASK_ALWAYS_EAGER applies (make run
            # without a broker, unit tests).
            _app_with_tasks().tasks[task_name].apply_async(args=args)
        except Exception:  # the broker is down: the sweep re-queues, so log and go on
            logger.warning(
                "could not queue %s%r; a sweep will retry", task_name, args, exc_info=True
            )

    transaction.on_commit(send)
