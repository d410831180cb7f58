"""The EST endpoints (RFC 7030 section 3.2.2): ``/.well-known/est/<operation>``, or with a
label that names a profile, ``/.well-known/est/<label>/<operation>``.

Both enrollments answer 202 with Retry-After while a worker signs; the client repeats the
same request, which then answers the certificate. Repeating is always safe: the same key
finds the same order, so nothing is signed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from cryptography import x509
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ca import interface as ca
from core.client_address import client_address
from core.ratelimits import REFUSE
from core.ratelimits import check as rate_check
from enrollment.est import wire
from enrollment.est.answers import refusal
from enrollment.install_code_auth import Refusal, basic_password, bearer_token, enrollment_of_code
from enrollment.models import Enrollment, EnrollmentError, HolderKind
from enrollment.system_certificates import Refused, check_system_certificate

View = Callable[..., HttpResponse]
# A label names a profile (RFC 7030 section 3.2.2); no label is the system profile.
LABELS = {"system": HolderKind.SYSTEM, "personal": HolderKind.PERSONAL}
# Signing takes well under a second; the client asks again after this many seconds.
RETRY_AFTER_SECONDS = 2


def est_endpoint(allowed_method: Callable[[View], View]) -> Callable[[View], View]:
    """An EST operation: the label checked, no cookies (so no CSRF), never cached."""

    def decorator(view: View) -> View:
        def wrapped(request: HttpRequest, label: str | None = None) -> HttpResponse:
            if label is not None and label not in LABELS:
                return refusal(request, "unknown_label")
            if label is not None and LABELS[label] != HolderKind.SYSTEM:
                return refusal(request, "personal_label")
            return view(request)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return csrf_exempt(never_cache(allowed_method(wrapped)))

    return decorator


@est_endpoint(require_GET)
def cacerts(request: HttpRequest) -> HttpResponse:
    """The CA certificates (section 4.1): every unexpired root and issuing CA."""
    return wire.certs_only(ca.est_ca_certificates())


@est_endpoint(require_GET)
def csrattrs(request: HttpRequest) -> HttpResponse:
    """The key types and sizes the CA accepts (section 4.5)."""
    return wire.base64_response(wire.csr_attributes(), wire.CSR_ATTRIBUTES)


def _accepted_csr(request: HttpRequest) -> ca.AcceptedCsr | HttpResponse:
    try:
        return ca.check_csr(wire.csr_from(request))
    except wire.UnreadableBody as unreadable:
        return refusal(request, unreadable.code)
    except ca.CsrRejected as rejected:
        return refusal(request, rejected.code)


def _answer_order(
    request: HttpRequest, enrollment: Enrollment, placed: ca.Placed, other_key_issued: str
) -> HttpResponse:
    """202 while the order waits, the certificate once issued, or why neither."""
    if placed.outcome in ("ordered", "same_key") and placed.status != ca.OrderStatus.ISSUED:
        response = HttpResponse(status=202)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if placed.outcome == "same_key":
        issued = ca.certificate_for(enrollment.public_id)
        assert issued is not None  # the order says issued
        enrollment.deliver_over_est(issued, client_address=client_address(request))
        return wire.certs_only([issued.certificate])
    if placed.outcome == "other_key" and placed.status == ca.OrderStatus.ISSUED:
        return refusal(request, other_key_issued)
    return refusal(request, "order_in_progress")


@est_endpoint(require_POST)
def simpleenroll(request: HttpRequest) -> HttpResponse:
    """A system enrollment's first certificate (section 4.2.1); the install code from the
    step-7 page authenticates, as HTTP Basic password or bearer token."""
    if not request.is_secure():
        return refusal(request, "tls_required")
    code = basic_password(request) or bearer_token(request)
    if not code:
        return refusal(request, "credentials_required")
    found = enrollment_of_code(
        request,
        code,
        group="est.enroll",
        per_code="API_SUBMIT_RATE_PER_CODE",
        per_address="API_SUBMIT_RATE_PER_ADDRESS",
        when_redis_down=REFUSE,
    )
    if isinstance(found, Refusal):
        return refusal(request, found.code, retry_after=found.retry_after)
    if found.kind != HolderKind.SYSTEM:
        return refusal(request, "personal_enrollment")
    csr = _accepted_csr(request)
    if isinstance(csr, HttpResponse):
        return csr
    if failed := ca.failed_for_key(found.public_id, csr):
        return refusal(request, "order_failed", error=failed)
    placed = found.order_certificate(csr, client_address=client_address(request))
    return _answer_order(request, found, placed, other_key_issued="install_code_used")


def _same_names(csr: x509.CertificateSigningRequest, current: x509.Certificate) -> bool:
    """RFC 7030 section 4.2.2: the subject and subjectAltName of the certificate renewed."""
    if csr.subject != current.subject:
        return False

    def alternative_names(extensions: x509.Extensions) -> object:
        try:
            return extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return None

    return alternative_names(csr.extensions) == alternative_names(current.extensions)


@est_endpoint(require_POST)
def simplereenroll(request: HttpRequest) -> HttpResponse:
    """Renewal with the current system certificate over mutual TLS (section 4.2.2)."""
    if not request.is_secure():
        return refusal(request, "tls_required")
    # Each request is checked and audited: a client that loops is slowed down per address.
    limit = rate_check(
        request,
        group="est.reenroll.address",
        value=client_address(request),
        rate=settings.API_SUBMIT_RATE_PER_ADDRESS,
        when_down=REFUSE,
    )
    if limit.limited:
        return refusal(request, "rate_limited", retry_after=limit.retry_after)
    checked = check_system_certificate(request)
    if isinstance(checked, Refused):
        return refusal(request, checked.code)
    current = checked.certificate
    opens = current.not_after - timedelta(days=settings.RENEWAL_WINDOW_DAYS)
    if timezone.now() < opens:
        day = timezone.localtime(opens).date().isoformat()
        return refusal(request, "not_due", date=day, days=settings.RENEWAL_WINDOW_DAYS)
    csr = _accepted_csr(request)
    if isinstance(csr, HttpResponse):
        return csr
    if not _same_names(x509.load_der_x509_csr(csr.der), current.certificate):
        return refusal(request, "subject_changed")
    previous = Enrollment.objects.of_certificate(current)
    if ca.subject_name(previous.ca_subject()) != current.certificate.subject:
        return refusal(request, "holder_changed")
    try:
        renewal, placed = Enrollment.objects.renew_over_est(
            previous, csr, client_address=checked.address
        )
    except EnrollmentError as refused:
        return refusal(request, refused.code)
    if failed := ca.failed_for_key(renewal.public_id, csr):
        return refusal(request, "order_failed", error=failed)
    return _answer_order(request, renewal, placed, other_key_issued="already_renewed")
