"""A request id that follows one request through the web process and the tasks it queues.

It comes from nginx's X-Request-ID when a trusted proxy sends one, otherwise it is made here;
the response carries it back, every log line carries it, and Celery tasks queued during the
request carry it in their headers to the worker's log lines.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

from core.client_address import from_trusted_proxy

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        trusted = from_trusted_proxy(request)
        request_id = offered if trusted and _VALID.match(offered) else uuid.uuid4().hex
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


@before_task_publish.connect
def _send_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None and current_request_id.get() != "-":
        headers["request_id"] = current_request_id.get()


@task_prerun.connect
def _receive_request_id(task: Any = None, **kwargs: Any) -> None:
    current_request_id.set(getattr(task.request, "request_id", None) or "-")


@task_postrun.connect
def _forget_request_id(**kwargs: Any) -> None:
    current_request_id.set("-")
