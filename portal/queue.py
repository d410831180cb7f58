"""Queueing Celery tasks from the web tier."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_after_commit(task_name: str, *args: Any) -> None:
    """Send a task once the transaction commits; a broker outage must not undo the commit.

    Whatever could not be sent is found again by the periodic sweeps, which look at the
    database, not at the broker.
    """

    def send() -> None:
        from portal.celery import app

        app.loader.import_default_modules()  # registers every app's tasks in web processes
        try:
            # Through the registered task, so CELERY_TASK_ALWAYS_EAGER applies.
            app.tasks[task_name].apply_async(args=args)
        except Exception:  # the broker is down: the sweep re-queues, so log and go on
            logger.warning(
                "could not queue %s%r; a sweep will retry", task_name, args, exc_info=True
            )

    transaction.on_commit(send)
