"""Renewal ("Certificaat installeren of vernieuwen") for a holder logged in with a certificate
that expires within the renewal window: the wizard without the PIN step, then step 7."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from ca.interface import Certificate
from enrollment.forms import VerifiedHolder
from enrollment.models import HolderKind
from enrollment.wizard import PASSWORD, USER_DATA, EnrollmentWizard
from selfservice.login import SESSION_LOGIN, certificate_problem, presented_certificate


def is_renewable(certificate: Certificate) -> bool:
    window = timedelta(days=settings.RENEWAL_WINDOW_DAYS)
    return (
        not certificate.is_revoked
        and certificate.enrollment.kind == HolderKind.PERSONAL
        and certificate.not_after - timezone.now() <= window
        and not certificate.renewals.exclude(status="expired").exists()
    )


class RenewalWizard(EnrollmentWizard):
    kind = HolderKind.PERSONAL
    condition_dict = {USER_DATA: False, PASSWORD: True}
    renewing: Certificate

    def get_prefix(self, request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        return "renew_personal"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        presented = presented_certificate(request)
        if presented.certificate is None:
            return certificate_problem(request, presented.problem)
        login_state = request.session.get(SESSION_LOGIN)
        if not login_state or login_state["certificate"] != presented.certificate.sha256_hex:
            return redirect("portal:login")
        if not is_renewable(presented.certificate):
            return redirect("portal:dashboard")
        self.renewing = presented.certificate
        return super().dispatch(request, *args, **kwargs)

    @property
    def verified(self) -> VerifiedHolder | None:
        # Who the holder is comes from the certificate login, not from a PIN.
        holder = self.renewing.enrollment.holder
        return VerifiedHolder(
            holder_id=holder.pk, activation_code_id=None, user_number=holder.user_number
        )

    def renews_id(self) -> int | None:
        return self.renewing.pk
