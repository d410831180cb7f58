"""What EST says when it refuses: a status and a short text (RFC 7030 section 4.2.3), after
a stable code for scripts to match. Software has no language switch: its Accept-Language
chooses (Dutch or English), and without one the portal's Dutch."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ca import interface as ca
from enrollment.system_certificates import REFUSALS

REALM = 'Basic realm="EST", charset="UTF-8"'
# Refusals of an install code, which HTTP Basic can send again (RFC 7617).
CHALLENGED = {
    "credentials_required",
    "install_code_unknown",
    "install_code_replaced",
    "install_code_expired",
}

# code: (HTTP status, what it means and what to do).
ANSWERS: dict[str, tuple[int, Promise]] = {
    **REFUSALS,
    "personal_certificate": (
        403,
        _("EST renews system certificates only; renew a personal certificate in the portal."),
    ),
    "tls_required": (403, _("EST is served over HTTPS only.")),
    "unknown_label": (404, _("There is no EST profile of this name; use /.well-known/est/.")),
    "personal_label": (
        403,
        _("Personal certificates are not enrolled over EST; use the installer from the portal."),
    ),
    "credentials_required": (
        401,
        _("Send the install code as HTTP Basic password or as bearer token."),
    ),
    "install_code_unknown": (401, _("This install code is not known.")),
    "install_code_replaced": (
        401,
        _("This install code was replaced by a newer one; use the newest code."),
    ),
    "install_code_expired": (
        401,
        _("This install code has expired; the contact person can start an installation again."),
    ),
    "install_code_used": (
        403,
        _(
            "This install code has enrolled a certificate already. For another key, the "
            "contact person chooses “Install again” on the organisation page."
        ),
    ),
    "personal_enrollment": (
        403,
        _("This install code belongs to a personal certificate, which EST does not enroll."),
    ),
    "rate_limited": (429, _("Too many requests; wait the seconds that Retry-After says.")),
    "unsupported_media_type": (415, _("Send the request as application/pkcs10.")),
    "csr_not_base64": (400, _("The request must be a PKCS#10 CSR in base64 (DER).")),
    "subject_changed": (
        400,
        _(
            "A renewal must keep the subject (and subject alternative names) of the current "
            "certificate; copy them from it, for example with openssl x509 -x509toreq."
        ),
    ),
    "holder_changed": (
        409,
        _(
            "The holder's details changed since this certificate was issued, so its subject "
            "cannot be kept; ask the contact person for an installation again."
        ),
    ),
    "not_due": (
        403,
        _("This certificate can be renewed from %(date)s, %(days)s days before it expires."),
    ),
    "already_renewed": (
        409,
        _(
            "This certificate has been renewed or replaced already; use the new certificate, "
            "which renews itself when its time comes."
        ),
    ),
    "order_in_progress": (
        409,
        _("A certificate for another key is being signed for this request; wait for it."),
    ),
    "order_failed": (
        500,
        _("The certificate could not be issued (%(error)s); send a request with a new key."),
    ),
    **{code: (400, message) for code, message in ca.CSR_ERRORS.items()},
    "csr_too_large": (413, ca.CSR_ERRORS["csr_too_large"]),
}


def refusal(
    request: HttpRequest, code: str, *, retry_after: int | None = None, **values: object
) -> HttpResponse:
    """``<code>: <message>``, one line of text."""
    status, message = ANSWERS[code]
    with translation.override(translation.get_language_from_request(request)):
        text = str(message) % values if values else str(message)
    response = HttpResponse(
        f"{code}: {text}\n", status=status, content_type="text/plain; charset=utf-8"
    )
    if code in CHALLENGED:
        response["WWW-Authenticate"] = REALM
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
