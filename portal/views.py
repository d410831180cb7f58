from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal import health


def home(request: HttpRequest) -> HttpResponse:
    return redirect("enrollment:choose")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers and reaches its database and broker."""
    checks = {"database": health.database(), "broker": health.broker()}
    healthy = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "403_csrf.html",
        {
            "message": _(
                "This page was open for too long or was sent twice. Reload it and try again."
            )
        },
        status=403,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request, "400.html", {"message": _("The request could not be processed.")}, status=400
    )
