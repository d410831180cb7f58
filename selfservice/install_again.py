"""Installing again from step 1 ("Certificaat installeren of vernieuwen"): the holder proves
who they are with user number, password and authenticator code, as at login but without a
certificate in the browser (it is the certificate that is missing). Then the enrollment's
own page takes over (enrollment.install_again).

A holder who has not linked an authenticator yet is told to use the e-mailed step-7 link,
and only once the password was right: no answer says whether a user number exists.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.client_address import ratelimit_key
from core.ratelimits import REFUSE
from core.ratelimits import check as rate_check
from enrollment import install_again, page_links, user_numbers
from enrollment.models import Enrollment, Holder, HolderKind
from selfservice.login import LoginForm
from selfservice.models import HolderAccount

_DUMMY_HASH = make_password("not-a-password")


@never_cache
def identify(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    form.fields["code"].required = False
    status = 200
    if request.method == "POST" and form.is_valid():
        number = user_numbers.normalise(form.cleaned_data["user_number"])[:40]
        for group, value in (
            ("selfservice.install-again.address", ratelimit_key("", request)),
            ("selfservice.install-again.number", number),
        ):
            verdict = rate_check(
                request,
                group=group,
                value=value,
                rate=settings.USER_NUMBER_RATE_LIMIT,
                when_down=REFUSE,
            )
            if verdict.limited:
                form.add_error(None, verdict.wait_message())
                return render(request, "selfservice/install_again.html", {"form": form}, status=429)
        response = _check(request, form, number)
        if response is not None:
            return response
        status = 400
    return render(request, "selfservice/install_again.html", {"form": form}, status=status)


def _check(request: HttpRequest, form: LoginForm, number: str) -> HttpResponse | None:
    holder = Holder.objects.filter(user_number=number).first()
    previous = Enrollment.objects.replaceable_of(holder) if holder is not None else None
    password = form.cleaned_data["password"]
    if (
        previous is None
        or holder is None
        or holder.is_blocked
        or holder.kind != HolderKind.PERSONAL
    ):
        check_password(password, _DUMMY_HASH)  # as long as a real check
        form.add_error(None, _("The user number, password or code is not correct."))
        return None
    account = HolderAccount.of(holder)
    password_ok = check_password(password, previous.password_hash)
    if password_ok and not account.has_authenticator:
        form.add_error(
            None,
            _(
                "You have not linked an authenticator app yet. Open the link in the e-mail you "
                "received after registering, and choose “Install again” on that page."
            ),
        )
        return None
    if not (password_ok and account.verify_code(form.cleaned_data.get("code") or "")):
        account.record_failure()
        form.add_error(None, _("The user number, password or code is not correct."))
        return None
    account.record_success()
    request.session.cycle_key()
    page_links.remember(request, str(previous.public_id))
    install_again.identify(request, previous)
    return redirect("enrollment:install-again", public_id=previous.public_id)
