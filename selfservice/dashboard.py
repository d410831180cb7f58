"""The holder's own pages: certificates, chain download, revocation, password, authenticator."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from django import forms
from django.contrib import messages
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ca.interface import Certificate, RevocationReason
from core.client_address import client_address
from enrollment import page_links
from enrollment.forms import PasswordForm, suggest_certificate_name
from enrollment.models import (
    BlockReason,
    ConsentGiven,
    ConsentKind,
    Enrollment,
    EnrollmentError,
    Holder,
    HolderKind,
)
from selfservice.login import SESSION_LOGIN, SESSION_PENDING, holder_login_required
from selfservice.models import HolderAccount
from selfservice.renewal import is_renewable

HOLDER_REVOCATION_REASONS = [
    (RevocationReason.KEY_COMPROMISE, gettext_lazy("My key or computer may be in the wrong hands")),
    (RevocationReason.SUPERSEDED, gettext_lazy("I have a new certificate")),
    (RevocationReason.AFFILIATION_CHANGED, gettext_lazy("I no longer work for this organisation")),
    (RevocationReason.CESSATION_OF_OPERATION, gettext_lazy("I no longer need this certificate")),
]


def _own_certificate(current: Certificate, serial: str) -> Certificate:
    found = (
        Certificate.objects.select_related("enrollment", "issuer")
        .filter(enrollment__holder=current.enrollment.holder, serial_hex=serial)
        .first()
    )
    if found is None:
        raise Http404
    return found


@holder_login_required
def dashboard(request: HttpRequest, current: Certificate) -> HttpResponse:
    holder = current.enrollment.holder
    certificates = (
        Certificate.objects.filter(enrollment__holder=holder)
        .select_related("enrollment")
        .order_by("-issued_at")
    )
    return render(
        request,
        "selfservice/dashboard.html",
        {
            "holder": holder,
            "current": current,
            "certificates": certificates,
            "account": HolderAccount.of(holder),
            "can_renew": is_renewable(current),
        },
    )


@holder_login_required
def download_chain(request: HttpRequest, current: Certificate, serial: str) -> HttpResponse:
    certificate = _own_certificate(current, serial)
    body = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificate.chain())
    response = HttpResponse(body, content_type="application/pem-certificate-chain")
    response["Content-Disposition"] = (
        f'attachment; filename="{certificate.enrollment.certificate_name}-chain.pem"'
    )
    return response


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"), choices=HOLDER_REVOCATION_REASONS, widget=forms.RadioSelect
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that this certificate can no longer be used afterwards.")
    )


@holder_login_required
def revoke(request: HttpRequest, current: Certificate, serial: str) -> HttpResponse:
    certificate = _own_certificate(current, serial)
    if certificate.is_revoked:
        return redirect("portal:dashboard")
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        holder = certificate.enrollment.holder
        certificate.revoke(
            form.cleaned_data["reason"],
            actor=f"holder:{holder.user_number}",
            client_address=client_address(request),
        )
        if certificate.pk == current.pk:
            # The certificate this session stands on is gone: so is the session.
            request.session.flush()
            return render(request, "selfservice/logged_out.html", {"revoked": certificate})
        return redirect("portal:dashboard")
    return render(request, "selfservice/revoke.html", {"form": form, "certificate": certificate})


class ChangePasswordForm(PasswordForm):
    """The wizard's password rules, plus the current password first."""

    current_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "password", "password_repeat"]

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
        super().__init__(*args, holder=enrollment.holder, **kwargs)
        self.enrollment = enrollment
        self.fields["password"].label = gettext_lazy("New password")

    def clean_current_password(self) -> str:
        value: str = self.cleaned_data["current_password"]
        if not check_password(value, self.enrollment.password_hash):
            raise forms.ValidationError(_("This is not your current password."), code="wrong")
        return value


@holder_login_required
def change_password(request: HttpRequest, current: Certificate) -> HttpResponse:
    form = ChangePasswordForm(request.POST or None, enrollment=current.enrollment)
    if request.method == "POST" and form.is_valid():
        # One password for all of the holder's personal certificates.
        Enrollment.objects.filter(holder=current.enrollment.holder, kind="personal").update(
            password_hash=make_password(form.cleaned_data["password"])
        )
        return render(
            request, "selfservice/done.html", {"message": _("Your password has been changed.")}
        )
    return render(request, "selfservice/change_password.html", {"form": form})


class ConfirmWithPasswordForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


@holder_login_required
def reset_authenticator(request: HttpRequest, current: Certificate) -> HttpResponse:
    form = ConfirmWithPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if check_password(form.cleaned_data["password"], current.enrollment.password_hash):
            account = HolderAccount.of(current.enrollment.holder)
            account.new_secret()
            request.session.pop(SESSION_LOGIN, None)
            request.session.cycle_key()
            request.session[SESSION_PENDING] = {
                "holder": account.holder_id,
                "certificate": current.sha256_hex,
            }
            return redirect("portal:authenticator-setup")
        form.add_error("password", _("This is not your current password."))
    return render(request, "selfservice/reset_authenticator.html", {"form": form})


def _contact_person_only(current: Certificate) -> None:
    if not current.enrollment.holder.is_contact_person:
        raise Http404


@holder_login_required
def organisation(request: HttpRequest, current: Certificate) -> HttpResponse:
    """For contact persons: the organisation's holders and their certificates."""
    _contact_person_only(current)
    me = current.enrollment.holder
    holders = (
        Holder.objects.filter(organisation=me.organisation)
        .prefetch_related(
            Prefetch("enrollments__certificate"),
            Prefetch("enrollments__certificate__renewals__certificate"),
        )
        .order_by("display_name")
    )
    return render(
        request,
        "selfservice/organisation.html",
        {"me": me, "holders": holders, "organisation": me.organisation},
    )


@require_POST
@holder_login_required
def block_colleague(
    request: HttpRequest, current: Certificate, user_number: str, action: str
) -> HttpResponse:
    _contact_person_only(current)
    me = current.enrollment.holder
    colleague = (
        Holder.objects.filter(organisation=me.organisation, user_number=user_number)
        .exclude(pk=me.pk)
        .first()
    )
    if colleague is None:
        raise Http404
    # The methods record the change with its actor, in its own transaction, and record
    # nothing when nothing changed (a refused unblock, a holder blocked already).
    actor, address = f"holder:{me.user_number}", client_address(request)
    if action == "block":
        colleague.block(BlockReason.CONTACT_PERSON, actor=actor, client_address=address)
    else:
        colleague.unblock(actor=actor, client_address=address)
    return redirect("portal:organisation")


@require_POST
@holder_login_required
def install_system_again(
    request: HttpRequest, current: Certificate, user_number: str
) -> HttpResponse:
    """For contact persons: a system certificate installed again (a new server, a lost key),
    without a new PIN. Its step-7 page, with the installer and a new install code, opens in
    this browser; the new certificate replaces the earlier one once it is installed."""
    _contact_person_only(current)
    me = current.enrollment.holder
    system = Holder.objects.filter(
        organisation=me.organisation, user_number=user_number, kind=HolderKind.SYSTEM
    ).first()
    if system is None:
        raise Http404
    previous = Enrollment.objects.replaceable_of(system)
    if previous is None or system.is_blocked:
        messages.error(request, _("This system certificate cannot be installed again now."))
        return redirect("portal:organisation")
    address, agent = client_address(request), request.META.get("HTTP_USER_AGENT", "")
    try:
        enrollment, made = Enrollment.objects.install_again(
            previous,
            certificate_name=suggest_certificate_name(system, timezone.localdate()),
            keep_previous=False,
            consents=[
                ConsentGiven(kind, address, agent)
                for kind in (ConsentKind.CERTIFICATE_USE, ConsentKind.SOFTWARE)
            ],
            client_address=address,
        )
    except (EnrollmentError, IntegrityError):
        messages.error(request, _("This system certificate cannot be installed again now."))
        return redirect("portal:organisation")
    if not made:
        messages.info(request, _("You already asked to install again; this is that registration."))
    page_links.remember(request, str(enrollment.public_id))
    return redirect("enrollment:installation", public_id=enrollment.public_id)
