"""The installer API (/api/v1/): submit a CSR, poll the status, fetch the certificate, confirm.

Installers authenticate with the enrollment's install code as a bearer token. Every error is
JSON ``{"code": ..., "message": ...}`` with a stable code (see enrollment/openapi.py; errors
Django makes itself, such as 404 and 405, are made JSON by core.api_errors). While Redis is
down, reads are rate-limited per process and answered from PostgreSQL; submissions get 503
with Retry-After (core.ratelimits, core.outages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ca import interface as ca
from core import progress_events
from core.client_address import client_address
from core.client_certificate import verification_state, verified_certificate
from core.ratelimits import LOCAL, REFUSE, WhenDown
from enrollment.install_code_auth import Refusal, bearer_token, enrollment_of_code
from enrollment.models import Enrollment, Installation, InstallProgress
from enrollment.openapi import ERROR_MESSAGES, STATUSES, openapi_document


def error(code: str, status: int, **extra: Any) -> JsonResponse:
    return JsonResponse({"code": code, "message": ERROR_MESSAGES[code], **extra}, status=status)


def rate_limited(retry_after: int) -> JsonResponse:
    """429 with the seconds until the limit's window ends, which the installers wait."""
    response = error("rate_limited", 429)
    response["Retry-After"] = str(retry_after)
    return response


def answer(request: HttpRequest, data: dict[str, Any], status: int = 200) -> HttpResponse:
    """JSON, or ``key=value`` lines for ``?format=text`` (what a Windows .cmd can parse)."""
    if request.GET.get("format") == "text":
        body = "".join(f"{key}={value}\n" for key, value in data.items() if value is not None)
        return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    return JsonResponse(data, status=status)


TEXT_FORMATS = {"json", "text"}


def _unknown_text_format(request: HttpRequest) -> JsonResponse | None:
    wanted = request.GET.get("format")
    return (
        error("unknown_format", 400) if wanted is not None and wanted not in TEXT_FORMATS else None
    )


def install_code_required(
    group: str, per_code: str, per_address: str, *, when_redis_down: WhenDown = REFUSE
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Rate-limit, then resolve the bearer install code to its enrollment, or answer an error
    (enrollment.install_code_auth)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def wrapped(request: HttpRequest) -> HttpResponse:
            found = enrollment_of_code(
                request,
                bearer_token(request),
                group=group,
                per_code=per_code,
                per_address=per_address,
                when_redis_down=when_redis_down,
            )
            if isinstance(found, Refusal):
                if found.retry_after is not None:
                    return rate_limited(found.retry_after)
                return error(found.code, found.status)
            return view(request, found)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorator


# Before its only live order is issued, an enrollment has no certificate to describe.
NO_CERTIFICATE_YET = {InstallProgress.WAITING, InstallProgress.RECEIVED, InstallProgress.SIGNING}


def _status_payload(enrollment: Enrollment, installation: Installation) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": installation.progress,
        "certificate_name": enrollment.certificate_name,
        "error_code": installation.error_code or None,
    }
    if installation.progress not in NO_CERTIFICATE_YET and installation.sha1 is not None:
        data.update(sha1=installation.sha1, serial=installation.serial)
    return data


@csrf_exempt
@require_POST
@never_cache
@install_code_required("api.submit", "API_SUBMIT_RATE_PER_CODE", "API_SUBMIT_RATE_PER_ADDRESS")
def submit_csr(request: HttpRequest, enrollment: Enrollment) -> HttpResponse:
    """Take the installer's CSR (PEM or DER) and order the certificate.

    Redis down: the rate limit cannot be asked, so the request is answered 503 with
    Retry-After before anything is read or written (the installer sends it again). Redis
    failing only after the commit costs the order's broker message, not the order: the
    answer is 202, and the sweep queues the order once the broker is back.
    """
    if refused := _unknown_text_format(request):
        return refused
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > ca.MAX_CSR_BYTES:
        return error("csr_too_large", 413)
    try:
        csr = ca.check_csr(request.body)
    except ca.CsrRejected as rejected:
        return error(rejected.code, 413 if rejected.code == "csr_too_large" else 422)
    placed = enrollment.order_certificate(csr, client_address=client_address(request))
    issued = placed.status == ca.OrderStatus.ISSUED
    if placed.outcome == "ordered":
        # What was just committed; the installer's next status request sees what follows.
        installation = Installation(InstallProgress.RECEIVED)
        return answer(request, _status_payload(enrollment, installation), status=202)
    if placed.outcome == "same_key":  # a retried request: answer what it would have seen
        installation = enrollment.installation()
        return answer(
            request, _status_payload(enrollment, installation), status=200 if issued else 202
        )
    # A second installer with another key, or an order that failed while this one collided.
    return error("already_issued" if issued else "order_in_progress", 409)


@csrf_exempt  # no cookies: a bearer token (so another method is a 405, not a CSRF 403)
@require_GET
@never_cache
@install_code_required(
    "api.read", "API_READ_RATE_PER_CODE", "API_READ_RATE_PER_ADDRESS", when_redis_down=LOCAL
)
def status(request: HttpRequest, enrollment: Enrollment) -> HttpResponse:
    """The progress; with ``wait``, long-polled until it changes (see progress_events)."""
    if refused := _unknown_text_format(request):
        return refused
    raw_wait, since = request.GET.get("wait", "0"), request.GET.get("since")
    if not (raw_wait.isascii() and raw_wait.isdigit() and len(raw_wait) <= 3) or (
        int(raw_wait) > settings.API_STATUS_MAX_WAIT
    ):
        return error("invalid_wait", 400)
    if since is not None and since not in STATUSES:
        return error("invalid_since", 400)
    waiting_on = {since} if since else {InstallProgress.RECEIVED, InstallProgress.SIGNING}

    # The last read of the wait (at least one is made) is what the answer says.
    latest = Installation(InstallProgress.WAITING)

    def changed() -> bool:
        nonlocal latest
        latest = enrollment.installation()
        return latest.progress not in waiting_on

    progress_events.wait_for_change(
        str(enrollment.public_id), changed, int(raw_wait), waiting_on=waiting_on
    )
    return answer(request, _status_payload(enrollment, latest))


@csrf_exempt  # no cookies: a bearer token (so another method is a 405, not a CSRF 403)
@require_GET
@never_cache
@install_code_required(
    "api.read", "API_READ_RATE_PER_CODE", "API_READ_RATE_PER_ADDRESS", when_redis_down=LOCAL
)
def certificate(request: HttpRequest, enrollment: Enrollment) -> HttpResponse:
    """The certificate with its chain: PEM (certificate, issuing CA) or PKCS#7 (also the root)."""
    issued = ca.certificate_for(enrollment.public_id)
    if issued is None:
        return error("not_issued", 404)
    chain = issued.chain()
    wanted = request.GET.get("format", "pem")
    if wanted == "p7b":
        body = pkcs7.serialize_certificates(chain, serialization.Encoding.DER)
        return HttpResponse(body, content_type="application/pkcs7-mime")
    if wanted != "pem":
        return error("unknown_format", 400)
    # PEM for servers: the leaf and the issuing CA; the root is installed as a trust anchor.
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain[:-1] or chain)
    return HttpResponse(pem, content_type="application/pem-certificate-chain")


@csrf_exempt  # no cookies: a client certificate
@require_GET
@never_cache
def tls_check(request: HttpRequest) -> HttpResponse:
    """Called by the installer with the new certificate over mutual TLS: proves it works."""
    if refused := _unknown_text_format(request):
        return refused
    presented = verified_certificate(request)
    if presented is None:
        state = verification_state(request)
        code = "no_client_certificate" if state == "NONE" else "client_certificate_invalid"
        return error(code, 401)
    fingerprint = presented.fingerprint(hashes.SHA256()).hex()
    issued = ca.certificate_by_fingerprint(fingerprint)
    if issued is None:
        return error("certificate_unknown", 403)
    if issued.is_revoked:
        return error("certificate_revoked", 403)
    # (of_certificate records the link, should the worker's report not have arrived)
    enrollment = Enrollment.objects.of_certificate(issued)
    enrollment.mark_installed()
    return answer(
        request,
        {
            "status": InstallProgress.INSTALLED.value,
            "certificate_name": enrollment.certificate_name,
        },
    )


@csrf_exempt
@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(settings.PORTAL_URL))
