from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from enrollment.models import Enrollment, PolicyDocument
from enrollment.wizard import PROGRESS, SESSION_ENROLLMENTS, TOTAL_STEPS


def choose(request: HttpRequest) -> HttpResponse:
    """STAP 1: the choice between a personal and a system certificate."""
    return render(
        request,
        "enrollment/choose.html",
        {"step_number": 1, "total_steps": TOTAL_STEPS, "progress": _progress(1)},
    )


def installation(request: HttpRequest, public_id: str) -> HttpResponse:
    """STAP 7: the completed enrollment, for the browser that completed it."""
    if str(public_id) not in request.session.get(SESSION_ENROLLMENTS, []):
        raise Http404
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("holder__organisation"), public_id=public_id
    )
    return render(
        request,
        "enrollment/installation.html",
        {
            "enrollment": enrollment,
            "step_number": 7,
            "total_steps": TOTAL_STEPS,
            "progress": _progress(7, skip_password=enrollment.kind == "system"),
        },
    )


def policy(request: HttpRequest, version: str | None = None) -> HttpResponse:
    """The CP/CPS: the current version, or an earlier one that someone consented to."""
    published = PolicyDocument.objects.published()
    if version is None:
        document = published.order_by("-published_at", "-pk").first()
        if document is None:
            raise Http404
    else:
        document = get_object_or_404(published, version=version)
    return render(
        request,
        "enrollment/policy.html",
        {"document": document, "versions": published.order_by("-published_at")},
    )


def _progress(current: int, *, skip_password: bool = False) -> list[dict[str, object]]:
    return [
        {
            "number": number,
            "title": title,
            "current": number == current,
            "done": number < current,
            "skipped": skip_password and key == "wachtwoord",
        }
        for number, key, title in PROGRESS
    ]
