"""The portal's own 404 and 500 pages under DEBUG too (`make run` sets DEBUG=1).

With DEBUG on, Django answers an unknown address with its URLconf listing and an error with
its traceback page: not what a person trying the demo should see, and not what production
shows. The traceback still goes to the console (logger ``django.request``), so a developer
loses nothing. Without DEBUG this middleware is not loaded and Django's handlers answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    MiddlewareNotUsed,
    PermissionDenied,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, get_resolver

from config import views
from core.api_errors import is_api_path

logger = logging.getLogger("django.request")


def not_found_page(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error_page(request: HttpRequest) -> HttpResponse:
    # 500.html stands alone (no context, no template tags): it must render whatever broke.
    return render(request, "500.html", status=500)


class OwnErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.DEBUG:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 404 and not _resolves(request.path_info):
            # An address no URL pattern knows: the 404 can only be Django's debug listing
            # (a view's own 404 answers under a pattern that resolved).
            return not_found_page(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return not_found_page(request)
        if isinstance(exception, PermissionDenied):
            return None  # Django renders the 403 page, DEBUG or not
        if isinstance(exception, BadRequest | SuspiciousOperation) and not is_api_path(
            request.path_info
        ):
            # Under DEBUG Django would show its traceback page with status 400.
            logger.warning("Bad request: %s: %s", request.path, exception)
            return views.bad_request(request, exception)
        logger.error(
            "Internal Server Error: %s",
            request.path,
            exc_info=(type(exception), exception, exception.__traceback__),
            extra={"status_code": 500, "request": request},
        )
        return server_error_page(request)


def _resolves(path: str) -> bool:
    try:
        get_resolver().resolve(path)
    except Resolver404:
        return False
    return True
