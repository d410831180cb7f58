"""When Redis or the database does not answer, a person gets a calm 503, not a 500.

Nothing is lost by this: the wizard keeps its steps in the session, checks the rate limit
before it checks a PIN, and writes an enrollment in one transaction, so a request that
fails half-way has changed nothing and can simply be sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)
OUTAGES = (redis.RedisError, OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = "30"


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGES):
            return None
        logger.warning("service unavailable: %s on %s", type(exception).__name__, request.path)
        message = _(
            "The service is temporarily unavailable. Please try again in a few minutes; what you entered has been kept."
        )
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": "service_unavailable", "message": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
