"""Queueing Celery tasks from the web tier."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, cast

from celery import current_app
from django.db import transaction

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)


_registering = threading.Lock()
_registered: Celery | None = None


def app_with_tasks() -> Celery:
    """The Celery app with every app's tasks registered, also in processes that only queue.

    Once per process: Celery's Django fixup runs Django's system checks on each
    import_default_modules (about 15 ms, which was half the time of the wizard's last step).
    Under a lock: Celery's autodiscovery returns at once, with nothing registered, to a
    second thread that asks while the first is still importing.
    """
    global _registered
    if _registered is None:
        with _registering:
            if _registered is None:
                # The project's app (config.celery), which makes itself the current one when
                # the settings package is imported; core knows no project package by name.
                app = cast("Celery", current_app)
                app.loader.import_default_modules()
                _registered = app
    return _registered


def queue_after_commit(task_name: str, *args: Any) -> None:
    """Send a task once the transaction commits; a broker outage must not undo the commit.

    Whatever could not be sent is found again by the periodic sweeps, which look at the
    database, not at the broker.
    """

    def send() -> None:
        try:
            # Through the registered task, so CELERY_TASK_ALWAYS_EAGER applies (make run
            # without a broker, unit tests).
            app_with_tasks().tasks[task_name].apply_async(args=args)
        except Exception:  # the broker is down: the sweep re-queues, so log and go on
            logger.warning(
                "could not queue %s%r; a sweep will retry", task_name, args, exc_info=True
            )

    transaction.on_commit(send)
