"""Logging in with a personal certificate, the user number, the password and an authenticator code.

The certificate comes from nginx (core/client_certificate.py). The session remembers which
certificate logged in, and every later request must present the same one, so a session
cannot be carried to another machine without the key.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes
from django import forms
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_ratelimit.core import is_ratelimited

from audit.models import AuditEntry
from ca.interface import Certificate
from core import qr
from core.client_address import client_address, ratelimit_key
from core.client_certificate import verification_state, verified_certificate
from enrollment import user_numbers
from enrollment.models import Enrollment, Holder, HolderKind
from selfservice.models import HolderAccount

SESSION_LOGIN = "holder_login"
SESSION_PENDING = "holder_login_pending"


@dataclass(frozen=True)
class PresentedCertificate:
    """The portal's own certificate that the browser presented, or why there is none."""

    certificate: Certificate | None
    problem: str = ""


def presented_certificate(request: HttpRequest) -> PresentedCertificate:
    presented = verified_certificate(request)
    if presented is None:
        state = verification_state(request)
        if state == "NONE":
            return PresentedCertificate(None, "none")
        # nginx says why it refused: "FAILED:certificate revoked", "FAILED:certificate has expired".
        reason = state.lower()
        problem = (
            "revoked" if "revoked" in reason else "expired" if "expired" in reason else "invalid"
        )
        return PresentedCertificate(None, problem)
    fingerprint = presented.fingerprint(hashes.SHA256()).hex()
    issued = (
        Certificate.objects.select_related("enrollment__holder")
        .filter(sha256_hex=fingerprint)
        .first()
    )
    if issued is None:
        return PresentedCertificate(None, "unknown")
    enrollment = Enrollment.objects.of_certificate(issued)
    # A blocked holder's certificates are on hold: say why, not just "revoked".
    if enrollment.holder.is_blocked:
        return PresentedCertificate(None, "blocked")
    if issued.is_revoked:
        return PresentedCertificate(None, "revoked")
    if issued.not_after <= timezone.now():
        return PresentedCertificate(None, "expired")
    if enrollment.kind != HolderKind.PERSONAL:
        return PresentedCertificate(None, "system")
    return PresentedCertificate(issued)


CERTIFICATE_PROBLEMS = {
    "none": gettext_lazy(
        "Your browser did not present a certificate of this portal. Install your personal "
        "certificate first, or choose it when your browser asks. Certificates of other "
        "authorities are not accepted."
    ),
    "invalid": gettext_lazy(
        "Your certificate was not accepted: it has been revoked, has expired, or was not "
        "issued by this portal."
    ),
    "unknown": gettext_lazy("This certificate was not issued by this portal."),
    "revoked": gettext_lazy(
        "Your certificate has been revoked. Install a new certificate to log in."
    ),
    "expired": gettext_lazy("Your certificate has expired. Install a new certificate to log in."),
    "system": gettext_lazy("A system certificate cannot be used to log in to the website."),
    "blocked": gettext_lazy("Your account is blocked. Contact your contact person."),
}


def certificate_problem(request: HttpRequest, problem: str) -> HttpResponse:
    return render(
        request,
        "selfservice/certificate_problem.html",
        {"message": CERTIFICATE_PROBLEMS[problem], "problem": problem},
        status=403,
    )


class LoginForm(forms.Form):
    user_number = forms.CharField(
        label=gettext_lazy("User number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "inputmode": "numeric"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, with_code: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_code:
            del self.fields["code"]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _too_many(request: HttpRequest) -> bool:
    return bool(
        is_ratelimited(
            request,
            group="selfservice.login",
            key=ratelimit_key,
            rate=settings.USER_DATA_RATE_LIMIT,
            increment=True,
        )
    )


def _audit(event: str, certificate: Certificate, request: HttpRequest, **details: Any) -> None:
    holder = certificate.enrollment.holder
    AuditEntry.objects.record(
        event,
        certificate,
        actor=f"holder:{holder.user_number}",
        client_address=client_address(request),
        details=details,
    )


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    presented = presented_certificate(request)
    if presented.certificate is None:
        return certificate_problem(request, presented.problem)
    issued = presented.certificate
    holder = issued.enrollment.holder
    account = HolderAccount.of(holder)
    form = LoginForm(request.POST or None, with_code=account.has_authenticator)
    if request.method == "POST":
        if _too_many(request):
            form.add_error(
                None, _("Too many attempts from your address. Wait a few minutes and try again.")
            )
        elif form.is_valid():
            response = _check_login(request, form, issued, account)
            if response is not None:
                return response
    return render(request, "selfservice/login.html", {"form": form, "certificate": issued})


def _check_login(
    request: HttpRequest, form: LoginForm, issued: Certificate, account: HolderAccount
) -> HttpResponse | None:
    holder = issued.enrollment.holder
    number = user_numbers.normalise(form.cleaned_data["user_number"])
    password_ok = check_password(form.cleaned_data["password"], issued.enrollment.password_hash)
    if number != holder.user_number:
        # Not a guess at this holder's password: the number does not match the certificate.
        form.add_error(
            "user_number", _("This user number does not belong to the certificate you chose.")
        )
        return None
    code_ok = not account.has_authenticator or account.verify_code(form.cleaned_data["code"])
    if not (password_ok and code_ok):
        _audit("login_failed", issued, request)
        if account.record_failure():
            return certificate_problem(request, "blocked")
        form.add_error(None, _("The password or the code is not correct."))
        return None
    if not account.has_authenticator:
        request.session.cycle_key()
        request.session[SESSION_PENDING] = {"holder": holder.pk, "certificate": issued.sha256_hex}
        account.new_secret()
        return redirect("portal:authenticator-setup")
    return _log_in(request, issued, account)


def _log_in(request: HttpRequest, issued: Certificate, account: HolderAccount) -> HttpResponse:
    # A new session key at login: a session fixed before cannot be taken over.
    request.session.cycle_key()
    request.session.pop(SESSION_PENDING, None)
    request.session[SESSION_LOGIN] = {"holder": account.holder_id, "certificate": issued.sha256_hex}
    account.record_success()
    _audit("login", issued, request)
    return redirect("portal:dashboard")


def otpauth_uri(holder: Holder, secret: bytes) -> str:
    label = quote(f"{settings.PORTAL_NAME}:{holder.user_number}")
    key = base64.b32encode(secret).decode().rstrip("=")
    return f"otpauth://totp/{label}?secret={key}&issuer={quote(settings.PORTAL_NAME)}&digits=6&period=30"


@never_cache
def authenticator_setup(request: HttpRequest) -> HttpResponse:
    """First login: link an authenticator app (QR code or key), confirmed with one code."""
    pending = request.session.get(SESSION_PENDING)
    presented = presented_certificate(request)
    if presented.certificate is None:
        return certificate_problem(request, presented.problem)
    if not pending or pending["certificate"] != presented.certificate.sha256_hex:
        return redirect("portal:login")
    issued = presented.certificate
    account = HolderAccount.of(issued.enrollment.holder)
    secret = account.secret()
    if secret is None:
        return redirect("portal:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if account.verify_code(form.cleaned_data["code"]):
            account.confirm_authenticator()
            return _log_in(request, issued, account)
        if account.record_failure():
            return certificate_problem(request, "blocked")
        form.add_error(
            "code", _("This code is not correct. Check the time on your phone and try again.")
        )
    uri = otpauth_uri(account.holder, secret)
    return render(
        request,
        "selfservice/authenticator_setup.html",
        {
            "form": form,
            "qr_svg": qr.svg(uri, box_size=8),
            "secret_text": " ".join(
                base64.b32encode(secret).decode().rstrip("=")[i : i + 4] for i in range(0, 32, 4)
            ),
        },
    )


def holder_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The session's holder, presenting the same certificate that logged in."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        login_state = request.session.get(SESSION_LOGIN)
        presented = presented_certificate(request)
        if presented.certificate is None:
            request.session.flush()
            return certificate_problem(request, presented.problem)
        if not login_state or login_state["certificate"] != presented.certificate.sha256_hex:
            return redirect("portal:login")
        return view(request, presented.certificate, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    # flush() deletes the session on the server, not only the cookie.
    request.session.flush()
    return render(request, "selfservice/logged_out.html")
