from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from ca import interface as ca
from operations import health


def home(request: HttpRequest) -> HttpResponse:
    return redirect("enrollment:choose")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. The dependencies are reported, not judged (see readyz)."""
    return JsonResponse(
        {
            "status": "ok",
            "database": health.database(),
            "broker": health.broker(),
            "ca": ca.ca_status(),
        }
    )


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: database, broker, a worker answering, the CA key usable there, CRLs fresh."""
    checks = {
        "database": health.database(),
        "broker": health.broker(),
        "worker": health.worker(),
        "ca": ca.ca_status(),
        "ca_key": ca.key_status(),
    }
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "fail", **checks}, status=200 if ready else 503
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
