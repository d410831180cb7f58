"""Installing again, without a new PIN: on another or a new computer, or after a run that
broke once the certificate was issued (its key is gone, so no new download can work).

The holder proves again who they are: on this page with the password of the certificate
being replaced (the page is reached from the browser that made the enrollment or from the
e-mailed step-7 link), or at step 1 with user number, password and authenticator code
(selfservice.install_again), which marks this browser as identified for a few minutes. A new
enrollment follows, with a new name and a new key; when its certificate is installed, the
earlier one is revoked as superseded unless the holder keeps both (``MAX_LIVE_CERTIFICATES``).
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import check_password
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from core.client_address import client_address, ratelimit_key
from core.queue import queue_after_commit
from core.ratelimits import REFUSE
from core.ratelimits import check as rate_check
from enrollment import page_links
from enrollment.forms import CertificateNameForm, ConsentForm, suggest_certificate_name
from enrollment.models import (
    ConsentGiven,
    ConsentKind,
    Enrollment,
    EnrollmentError,
    HolderKind,
)
from enrollment.page_links import SESSION_ENROLLMENTS

# Set by selfservice.install_again after user number, password and code: {public_id, until}.
SESSION_IDENTIFIED = "install_again_identified"
IDENTIFIED_SECONDS = 15 * 60
# Password attempts per enrollment and per address.
ATTEMPT_RATE = "5/15m"


def identify(request: HttpRequest, enrollment: Enrollment) -> None:
    """This browser proved to be the holder of ``enrollment`` (step 1's check)."""
    request.session[SESSION_IDENTIFIED] = {
        "enrollment": str(enrollment.public_id),
        "until": time.time() + IDENTIFIED_SECONDS,
    }


def _identified(request: HttpRequest, enrollment: Enrollment) -> bool:
    mark = request.session.get(SESSION_IDENTIFIED) or {}
    return (
        mark.get("enrollment") == str(enrollment.public_id) and mark.get("until", 0) > time.time()
    )


class InstallAgainForm(CertificateNameForm, ConsentForm):
    keep_previous = forms.BooleanField(
        label=gettext_lazy("I use both computers: keep my earlier certificate as well."),
        required=False,
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": gettext_lazy("Enter the password of your certificate.")},
    )
    field_order = [
        "password",
        "certificate_name",
        "keep_previous",
        "consent_certificate_use",
        "consent_software",
    ]

    def __init__(self, *args: Any, previous: Enrollment, ask_password: bool, **kwargs: Any) -> None:
        super().__init__(*args, holder=previous.holder, **kwargs)
        self.previous = previous
        if not ask_password:
            del self.fields["password"]
        # The terms are not on this page, as they are in step 6: the labels name them.
        self.fields["consent_certificate_use"].label = _(
            "I agree to the terms of use of the certificate (the CP/CPS)."
        )
        self.fields["consent_software"].label = _("I agree to the terms of the software.")

    def clean_keep_previous(self) -> bool:
        keep: bool = self.cleaned_data["keep_previous"]
        if keep and Enrollment.objects.live_certificates(self.previous.holder) >= (
            settings.MAX_LIVE_CERTIFICATES
        ):
            raise forms.ValidationError(
                _(
                    "You already have %(count)d working certificates, the most you can keep. "
                    "Let the new certificate replace the earlier one, or revoke one on your "
                    "dashboard first."
                ),
                params={"count": settings.MAX_LIVE_CERTIFICATES},
                code="too_many_certificates",
            )
        return keep


def _previous(request: HttpRequest, public_id: str) -> Enrollment:
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("holder__organisation"), public_id=public_id
    )
    known = str(public_id) in request.session.get(SESSION_ENROLLMENTS, [])
    if not (known or _identified(request, enrollment)):
        raise Http404
    return enrollment


@never_cache
def install_again(request: HttpRequest, public_id: str) -> HttpResponse:
    previous = _previous(request, public_id)
    if previous.kind != HolderKind.PERSONAL or not previous.can_install_again:
        return redirect("enrollment:installation", public_id=previous.public_id)
    waiting = Enrollment.objects.successor_of(previous)
    if request.method == "POST" and waiting is not None:
        # A reload or a second click: the first one made it.
        messages.info(request, _("You already asked to install again; this is that registration."))
        page_links.remember(request, str(waiting.public_id))
        return redirect("enrollment:installation", public_id=waiting.public_id)
    ask_password = not _identified(request, previous)
    form = InstallAgainForm(
        request.POST or None,
        previous=previous,
        ask_password=ask_password,
        initial={
            "certificate_name": suggest_certificate_name(previous.holder, timezone.localdate())
        },
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and (not ask_password or _password_ok(request, previous, form))
    ):
        return _make(request, previous, form)
    return render(
        request,
        "enrollment/install_again.html",
        {"form": form, "previous": previous, "max_live": settings.MAX_LIVE_CERTIFICATES},
        status=429 if form.has_error("password", "too_many") else 200,
    )


def _password_ok(request: HttpRequest, previous: Enrollment, form: InstallAgainForm) -> bool:
    for group, value in (
        ("enrollment.install-again.enrollment", str(previous.public_id)),
        ("enrollment.install-again.address", ratelimit_key("", request)),
    ):
        verdict = rate_check(request, group=group, value=value, rate=ATTEMPT_RATE, when_down=REFUSE)
        if verdict.limited:
            form.add_error(
                "password", forms.ValidationError(verdict.wait_message(), code="too_many")
            )
            return False
    if not check_password(form.cleaned_data["password"], previous.password_hash):
        form.add_error("password", _("This password is not correct."))
        return False
    return True


def _make(request: HttpRequest, previous: Enrollment, form: InstallAgainForm) -> HttpResponse:
    address = client_address(request)
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    try:
        enrollment, made = Enrollment.objects.install_again(
            previous,
            certificate_name=form.cleaned_data["certificate_name"],
            keep_previous=form.cleaned_data["keep_previous"],
            consents=[
                ConsentGiven(kind, address, user_agent)
                for kind in (ConsentKind.CERTIFICATE_USE, ConsentKind.SOFTWARE)
            ],
            client_address=address,
        )
    except IntegrityError:
        # Two requests at once (the other one made it), or the name was taken meanwhile.
        found = Enrollment.objects.successor_of(previous)
        if found is None:
            messages.error(request, _("Please try again."))
            return redirect("enrollment:install-again", public_id=previous.public_id)
        enrollment, made = found, False
    except EnrollmentError as error:
        messages.error(request, _install_again_error(error.code))
        return redirect("enrollment:installation", public_id=previous.public_id)
    page_links.remember(request, str(enrollment.public_id))
    if made:
        queue_after_commit("enrollment.send_confirmation", enrollment.pk)
    else:
        messages.info(request, _("You already asked to install again; this is that registration."))
    return redirect("enrollment:installation", public_id=enrollment.public_id)


def _install_again_error(code: str) -> str:
    errors = {
        "blocked": _("This user number is blocked. Contact your contact person."),
        "no_policy": _("The certificate policy is not available right now. Try again later."),
        "too_many_certificates": _("You already have the most certificates you can keep."),
    }
    return errors.get(code, _("Installing again is not possible for this certificate."))
