"""Every error answer under the API prefixes is JSON ``{"code": ..., "message": ...}``.

The installer API makes its own errors with specific codes (enrollment/api.py). What Django
or a library answers by itself — 404 for an unknown path, 405 from ``require_POST``, the
captcha views' 410, 400 for a suspicious request, 500 — has an empty or HTML body, which an
installer or the page's script cannot read. This middleware, near the top of the stack,
gives each of those the code of its status (``HTTP_ERRORS``), in the visitor's language,
and keeps its headers (Allow on a 405, Retry-After on a 503).

It also refuses an over-long request line before routing: 414 ``uri_too_long`` beyond
``API_MAX_URL_LENGTH``. Longer ones never reach Django: gunicorn answers a request line over
its ``limit_request_line`` (4094 bytes) with its own 400, and nginx one over its
``large_client_header_buffers`` (8 KiB) with its own 414.

Successful answers are never touched, nor OCSP answers (RFC 6960 has its own error
statuses, inside a 200 response), nor an error that is JSON already. EST (RFC 7030) speaks
short text instead of JSON: its errors are ``<code>: <message>`` lines, and an EST view's
own text errors are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.language import chosen_language

# /captcha/ holds the image, audio and refresh views that the page's script calls;
# /.well-known/est/ is EST (RFC 7030), for the system certificates' tools.
EST_PREFIX = "/.well-known/est/"
API_PREFIXES = ("/api/", "/ocsp", "/captcha/", EST_PREFIX)

HTTP_ERRORS: dict[str, Promise] = {
    "bad_request": _("The request could not be processed."),
    "forbidden": _("This request is not allowed."),
    "not_found": _("There is nothing at this address; see the API description for the paths."),
    "method_not_allowed": _(
        "This address does not take this method; the Allow header lists those it takes."
    ),
    "gone": _("What was at this address is no longer available."),
    "captcha_expired": _("These digits have expired. Ask for other digits."),
    "request_too_large": _("The request is too large."),
    "uri_too_long": _("The address of the request is too long."),
    "client_error": _("The request was refused."),
    "server_error": _("Something went wrong on our side. Try again later."),
    "service_unavailable": _(
        "The service is temporarily unavailable. Please try again in a few minutes; what you entered has been kept."
    ),
}
STATUS_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "gone",
    413: "request_too_large",
    414: "uri_too_long",
    500: "server_error",
    503: "service_unavailable",
}
# Headers that describe the body being replaced; every other header is kept.
_BODY_HEADERS = {"content-type", "content-length", "content-disposition", "content-encoding"}
_UNTOUCHED_TYPES = {"application/json", "application/problem+json", "application/ocsp-response"}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


def code_for(path: str, status: int) -> str:
    if status == 410 and path.startswith("/captcha/"):
        return "captcha_expired"  # the only thing that is gone there is a captcha
    return STATUS_CODES.get(status) or ("server_error" if status >= 500 else "client_error")


def json_error(request: HttpRequest, code: str, status: int) -> HttpResponse:
    """The API's error body, with the message in the visitor's language (text for EST)."""
    with translation.override(chosen_language(request)):
        message = str(HTTP_ERRORS[code])
    if request.path_info.startswith(EST_PREFIX):
        return HttpResponse(
            f"{code}: {message}\n", status=status, content_type="text/plain; charset=utf-8"
        )
    return JsonResponse({"code": code, "message": message}, status=status)


def _answered_already(request: HttpRequest, response: HttpResponseBase) -> bool:
    media_type = _media_type(response)
    if request.path_info.startswith(EST_PREFIX):
        return media_type == "text/plain"
    return media_type in _UNTOUCHED_TYPES


def _media_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").split(";", 1)[0].strip().lower()


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_path(request.path_info):
            return self.get_response(request)
        if len(request.get_full_path()) > settings.API_MAX_URL_LENGTH:
            return json_error(request, "uri_too_long", 414)
        response = self.get_response(request)
        if response.status_code < 400 or _answered_already(request, response):
            return response
        replacement = json_error(
            request, code_for(request.path_info, response.status_code), response.status_code
        )
        for header, value in response.headers.items():
            if header.lower() not in _BODY_HEADERS:
                replacement.headers[header] = value
        replacement.cookies = response.cookies
        response.close()  # a file or stream it was going to send
        return replacement

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Django answers RequestDataTooBig (a body beyond DATA_UPLOAD_MAX_MEMORY_SIZE) with
        # 400, as any SuspiciousOperation; it is a 413.
        if is_api_path(request.path_info) and isinstance(exception, RequestDataTooBig):
            return json_error(request, "request_too_large", 413)
        return None
