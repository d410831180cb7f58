"""When Redis or the database does not answer, a person gets a calm 503, not a 500.

Nothing is lost by this: the wizard keeps its steps in the session, checks the rate limit
before it checks a PIN, and writes an enrollment in one transaction, so a request that
fails half-way has changed nothing and can simply be sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.api_errors import HTTP_ERRORS, is_api_path, json_error

logger = logging.getLogger(__name__)
OUTAGES = (redis.RedisError, OperationalError, InterfaceError)


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGES):
            return None
        logger.warning("service unavailable: %s on %s", type(exception).__name__, request.path)
        response: HttpResponse
        if is_api_path(request.path_info):
            response = json_error(request, "service_unavailable", 503)
        else:
            message = str(HTTP_ERRORS["service_unavailable"])
            response = render(request, "503.html", {"message": message}, status=503)
        # How long clients wait before they try again (the installers honour it).
        response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        return response
