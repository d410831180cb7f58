from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ca import interface as ca
from enrollment import handoff, installers, page_links
from enrollment.models import Enrollment, InstallCode, InstallProgress, PolicyDocument
from enrollment.openapi import ALL_ERROR_CODES, ERROR_MESSAGES
from enrollment.wizard import PROGRESS, TOTAL_STEPS

PROGRESS_MESSAGES: dict[str, Promise] = {
    InstallProgress.WAITING: gettext_lazy("Click “Start installing” and open the downloaded file."),
    InstallProgress.RECEIVED: gettext_lazy(
        "Your request has arrived. The certificate is being prepared."
    ),
    InstallProgress.SIGNING: gettext_lazy("The certificate is being signed."),
    InstallProgress.ISSUED: gettext_lazy(
        "The certificate has been issued. The installer is installing it."
    ),
    InstallProgress.INSTALLED: gettext_lazy("The certificate is installed and works."),
    InstallProgress.FAILED: gettext_lazy(
        "The certificate could not be issued. Run the installer again; if this happens again, contact your contact person."
    ),
    InstallProgress.EXPIRED: gettext_lazy(
        "This registration has expired. Ask your contact person for a new PIN."
    ),
}


# Waiting, on a phone or tablet: there is nothing to start there, the installer runs on the
# computer.
WAITING_ON_A_PHONE: Promise = gettext_lazy(
    "Open this page on the computer where you will use the certificate and start installing there."
)


def choose(request: HttpRequest) -> HttpResponse:
    """STAP 1: the choice between a personal and a system certificate."""
    return render(
        request,
        "enrollment/choose.html",
        {"step_number": 1, "total_steps": TOTAL_STEPS, "progress": _progress(1)},
    )


def installation(request: HttpRequest, public_id: str) -> HttpResponse:
    """STAP 7: start the installer and follow the enrollment's progress."""
    token = request.GET.get("toegang")
    if token:
        if page_links.open_link(request, str(public_id), token):
            return redirect("enrollment:installation", public_id=public_id)
        raise Http404
    return _installation_page(request, page_links.own_enrollment(request, public_id))


def _installation_page(
    request: HttpRequest,
    enrollment: Enrollment,
    install_code: str | None = None,
    notice: str = "",
) -> HttpResponse:
    handoff_context = handoff.context(request, enrollment)
    platforms = list(installers.PLATFORMS.values())
    if not handoff_context["mobile"]:
        # A phone's own system says nothing about the computer's: it gets no first choice.
        detected = installers.detect_platform(request.META.get("HTTP_USER_AGENT", ""))
        platforms.sort(key=lambda p: p.key != detected)
    progress, error_code = enrollment.progress()
    response = render(
        request,
        "enrollment/installation.html",
        {
            "enrollment": enrollment,
            "step_number": 7,
            "total_steps": TOTAL_STEPS,
            "progress": _progress(7, skip_password=enrollment.kind == "system"),
            "platforms": platforms,
            # Phones and tablets: finish on the computer (enrollment.handoff).
            "handoff": handoff_context,
            "install": install_status(
                enrollment, progress, error_code, on_phone=bool(handoff_context["mobile"])
            ),
            "install_code": install_code,
            "install_code_notice": notice,
            # Which code the "show a new install code" form replaces (see show_install_code).
            "latest_install_code": _latest_install_code(enrollment),
            "est_script_url": static("est/est-renew.sh"),
        },
    )
    if install_code:
        add_never_cache_headers(response)  # the code is on this page and nowhere else
    return response


def install_status(
    enrollment: Enrollment, progress: str, error_code: str, *, on_phone: bool = False
) -> dict[str, object]:
    stages: list[str] = [
        InstallProgress.WAITING,
        InstallProgress.RECEIVED,
        InstallProgress.SIGNING,
        InstallProgress.ISSUED,
        InstallProgress.INSTALLED,
    ]
    reached = stages.index(progress) if progress in stages else -1
    message = PROGRESS_MESSAGES.get(progress, "")
    if on_phone and progress == InstallProgress.WAITING:
        message = WAITING_ON_A_PHONE
    return {
        "status": progress,
        "label": str(InstallProgress(progress).label),
        "message": str(message),
        "error_code": error_code,
        "error_message": ERROR_MESSAGES[error_code]
        if error_code and error_code in ALL_ERROR_CODES
        else "",
        "stages": [
            {
                "key": stage,
                "label": str(InstallProgress(stage).label),
                "done": i < reached or progress == InstallProgress.INSTALLED,
                "current": i == reached,
            }
            for i, stage in enumerate(stages)
        ],
        "open": enrollment.is_open,
        # Once a key was sent, a new installer makes another key, which the CA refuses for
        # this enrollment: a download is offered only before that, or after a failure.
        "downloadable": _downloadable(enrollment, progress),
        "install_again": enrollment.kind == "personal"
        and progress in (InstallProgress.ISSUED, InstallProgress.INSTALLED)
        and enrollment.can_install_again,
        # A system certificate is installed again by the contact person (a new install code).
        "ask_contact_person": enrollment.kind == "system"
        and progress in (InstallProgress.ISSUED, InstallProgress.INSTALLED),
    }


def _downloadable(enrollment: Enrollment, progress: str) -> bool:
    return enrollment.is_open and progress in (InstallProgress.WAITING, InstallProgress.FAILED)


@never_cache
def installation_status(request: HttpRequest, public_id: str) -> JsonResponse:
    """What the step-7 page polls to follow the progress without a reload."""
    enrollment = page_links.own_enrollment(request, public_id)
    progress, error_code = enrollment.progress()
    on_phone = handoff.is_phone_or_tablet(request.META.get("HTTP_USER_AGENT", ""))
    return JsonResponse(install_status(enrollment, progress, error_code, on_phone=on_phone))


@require_POST
def download_installer(request: HttpRequest, public_id: str) -> HttpResponse:
    """ "Start installeren": an installer for the chosen system, bound by a new install code."""
    enrollment = page_links.own_enrollment(request, public_id)
    platform = request.POST.get("platform", "")
    if platform not in installers.PLATFORMS or not _downloadable(
        enrollment, enrollment.progress()[0]
    ):
        return redirect("enrollment:installation", public_id=public_id)
    root = ca.current_root()
    if root is None:
        return render(
            request,
            "400.html",
            {
                "message": _(
                    "The certificate authority is not available right now. Try again later."
                )
            },
            status=503,
        )
    code = InstallCode.objects.mint(enrollment)
    body = installers.render_installer(enrollment, platform, code, root.pem)
    chosen = installers.PLATFORMS[platform]
    response = HttpResponse(body, content_type=chosen.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{installers.filename(enrollment, chosen)}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def show_install_code(request: HttpRequest, public_id: str) -> HttpResponse:
    """System certificates: a new install code for administrators who make the key themselves.

    The code is shown in this response and kept nowhere but as a hash: not in the session,
    so no redirect. The form names the code it replaces; a reload or a double click sends
    that form again after the code was made, and is told so instead of replacing it.
    """
    enrollment = page_links.own_enrollment(request, public_id)
    if enrollment.kind != "system" or not enrollment.is_open:
        return redirect("enrollment:installation", public_id=public_id)
    if request.POST.get("replaces", "") != str(_latest_install_code(enrollment)):
        notice = _(
            "This install code was already shown, and is not shown again. Use the code you "
            "copied, or show a new install code."
        )
        return _installation_page(request, enrollment, notice=notice)
    return _installation_page(request, enrollment, InstallCode.objects.mint(enrollment))


def _latest_install_code(enrollment: Enrollment) -> int:
    latest = enrollment.install_codes.order_by("-pk").values_list("pk", flat=True).first()
    return latest or 0


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
