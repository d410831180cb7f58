"""The enrollment wizard: steps 2 to 6 of the seed's manual, one view per certificate kind.

What the session holds, per wizard: the steps' non-secret field values, the id of the
verified holder and PIN record, and the password's hash. Never the PIN, the captcha answer,
the password or the CSRF token (``get_form_step_data``).
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import make_password
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from formtools.wizard.views import NamedUrlSessionWizardView

from core.client_address import client_address, ratelimit_key
from core.counters import count_funnel
from core.language import remember_language
from core.queue import queue_after_commit
from core.ratelimits import REFUSE, Verdict
from core.ratelimits import check as rate_check
from enrollment import page_links, step_memory, user_numbers
from enrollment.forms import (
    CertificateNameForm,
    ConsentForm,
    EmailForm,
    PasswordForm,
    UserDataForm,
    VerifiedHolder,
    WizardStepForm,
    suggest_certificate_name,
)
from enrollment.models import (
    ConsentGiven,
    ConsentKind,
    Enrollment,
    EnrollmentError,
    Holder,
    HolderKind,
    PolicyDocument,
)

USER_DATA = "gebruikersgegevens"
EMAIL = "e-mailadres"
CERTIFICATE_NAME = "certificaatnaam"
PASSWORD = "wachtwoord"  # noqa: S105 - a step name, not a secret
CONSENT = "voorwaarden"

# The seed's numbering: STAP 1 is the landing page, STAP 7 the installation.
STEP_NUMBERS = {USER_DATA: 2, EMAIL: 3, CERTIFICATE_NAME: 4, PASSWORD: 5, CONSENT: 6}
TOTAL_STEPS = 7
PROGRESS = [
    (1, "choice", gettext_lazy("Choice of certificate")),
    (2, USER_DATA, gettext_lazy("User data")),
    (3, EMAIL, gettext_lazy("E-mail address")),
    (4, CERTIFICATE_NAME, gettext_lazy("Certificate name")),
    (5, PASSWORD, gettext_lazy("Password")),
    (6, CONSENT, gettext_lazy("Terms")),
    (7, "installation", gettext_lazy("Installation")),
]
STEP_TITLES = {key: title for _n, key, title in PROGRESS}

FORMS = [
    (USER_DATA, UserDataForm),
    (EMAIL, EmailForm),
    (CERTIFICATE_NAME, CertificateNameForm),
    (PASSWORD, PasswordForm),
    (CONSENT, ConsentForm),
]

USER_DATA_RATE_GROUP = "enrollment.user-data"
# Kept in the wizard's storage (extra_data) across a redirect.
RESTART_MESSAGE = "restart_message"
COMPLETED = "completed"


def _is_personal(wizard: EnrollmentWizard) -> bool:
    return wizard.kind == HolderKind.PERSONAL


class EnrollmentWizard(NamedUrlSessionWizardView):
    kind: str = HolderKind.PERSONAL
    form_list = FORMS
    condition_dict: dict[str, Any] = {PASSWORD: _is_personal}
    template_name = "enrollment/wizard.html"
    # Never served: the last step's POST completes the enrollment (a GET changes nothing).
    done_step_name = "klaar"

    def get_prefix(self, request: HttpRequest, *args: Any, **kwargs: Any) -> str:
        return f"enroll_{self.kind}"

    # --- What the session keeps -----------------------------------------------------------

    @property
    def verified(self) -> VerifiedHolder | None:
        data = self.storage.extra_data.get("verified")
        return VerifiedHolder(**data) if data else None

    @property
    def holder(self) -> Holder | None:
        if not hasattr(self, "_holder"):
            verified = self.verified
            self._holder = (
                Holder.objects.filter(pk=verified.holder_id).first() if verified else None
            )
        return self._holder

    def get_form_step_data(self, form: WizardStepForm) -> MultiValueDict[str, Any]:
        secret_keys = {form.add_prefix(name) for name in form.secret_fields}
        kept: MultiValueDict[str, Any] = MultiValueDict()
        prefix = form.add_prefix("")
        for key, values in cast(QueryDict, form.data).lists():
            # Multi-widget fields (the captcha) post as name_0, name_1.
            base = key.rsplit("_", 1)[0] if key[-2:] in ("_0", "_1") else key
            if key.startswith(prefix) and key not in secret_keys and base not in secret_keys:
                kept.setlist(key, values)
        return kept

    def process_step(self, form: WizardStepForm) -> MultiValueDict[str, Any]:
        # A completed step is counted with what follows it (render_next_step, render_done).
        if isinstance(form, UserDataForm) and form.verdict is not None:
            if self.verified and self.verified.holder_id != form.verified_holder().holder_id:
                # Another user number: nothing typed for the previous holder carries over.
                self.storage.extra_data.pop("password_hash", None)
            self.storage.extra_data["verified"] = form.verified_holder().__dict__
            self._holder = form.verdict.holder
        elif isinstance(form, PasswordForm) and "password" in form.cleaned_data:
            # Hashed the moment it is valid; the clear text goes no further than this request.
            self.storage.extra_data["password_hash"] = make_password(form.cleaned_data["password"])
        return self.get_form_step_data(form)

    # --- Building forms -------------------------------------------------------------------

    def get_form_kwargs(self, step: str | None = None) -> dict[str, Any]:
        step = step or self.steps.current
        revalidating = getattr(self, "_revalidating", False)
        if step == USER_DATA:
            if not revalidating:
                return {"kind": self.kind}
            return {"kind": self.kind, "verified": self.verified, "holder": self.holder}
        if step == PASSWORD:
            return {
                "holder": self.holder,
                "already_set": revalidating and bool(self.storage.extra_data.get("password_hash")),
            }
        return {"holder": self.holder}

    def get_form_initial(self, step: str) -> dict[str, Any]:
        if step == CERTIFICATE_NAME and self.holder is not None:
            # A callable: asked only when the step is shown, not when a posted name is checked.
            holder, today = self.holder, timezone.localdate()
            return {"certificate_name": lambda: suggest_certificate_name(holder, today)}
        return {}

    # --- Requests -------------------------------------------------------------------------
    #
    # Every step has its own URL, and every POST ends in a redirect to one (enrollment.
    # step_memory says why and what survives the redirect). Only an over-limit submission is
    # answered in place, with its 429.

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        # Back and Forward ask the server again, which shows the step as it is now.
        add_never_cache_headers(response)
        return response

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        step = kwargs.get("step")
        steps = list(self.get_form_list())
        if "opnieuw" in request.GET or self.storage.current_step not in steps:
            # A new wizard ("?opnieuw", or nothing in the session yet).
            restart_message = self.storage.extra_data.get(RESTART_MESSAGE)
            if self.storage.current_step is None or "opnieuw" in request.GET:
                count_funnel(self.kind, (str(self.steps.first), "entered"))
            self.storage.reset()
            self.storage.current_step = self.steps.first
            if restart_message and "opnieuw" not in request.GET:
                self.storage.extra_data[RESTART_MESSAGE] = restart_message
            if step != self.steps.first:
                return redirect(self.get_step_url(self.steps.first))
        if step is None or step not in steps:
            return redirect(self.get_step_url(self.steps.current))
        reachable = self._first_incomplete_step()
        if steps.index(step) > steps.index(reachable):
            return redirect(self.get_step_url(reachable))
        self.storage.current_step = step
        restart_message = self.storage.extra_data.pop(RESTART_MESSAGE, None)
        if restart_message:
            self.storage.extra_data = self.storage.extra_data
        return self.render(self._form_to_show(step), restart_message=restart_message)

    def _first_incomplete_step(self) -> str:
        steps = list(self.get_form_list())
        if self.holder is None:
            return steps[0]
        return next((s for s in steps if self.storage.get_step_data(s) is None), steps[-1])

    def _form_to_show(self, step: str) -> Any:
        """The step as it was left: its draft, else what was completed; errors of a refusal."""
        form = self.get_form(step)
        values = step_memory.draft(self.storage, step) or self.storage.get_step_data(step)
        if values is not None:
            typed = step_memory.initial_from(
                form, dict(values.lists()) if hasattr(values, "lists") else values
            )
            form_class = self.get_form_list()[step]
            form = form_class(
                **self.get_form_kwargs(step), prefix=form.prefix, initial={**form.initial, **typed}
            )
        errors = step_memory.take_errors(self.storage, step)
        if errors:
            step_memory.show_errors(form, errors)
        return form

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        steps = list(self.get_form_list())
        posted_step = self.request.POST.get(f"{self.prefix}-current_step")
        goto = self.request.POST.get("wizard_goto_step")
        language = self.request.POST.get("wizard_language")
        completed = self.storage.extra_data.get(COMPLETED)
        if completed and self.storage.current_step is None:
            # A second click on the last step's button, or a reload of its answer.
            messages.info(self.request, _("Your registration was already sent; this is it."))
            return redirect("enrollment:installation", public_id=completed)

        if goto is not None or language is not None:
            return self._leave_step(posted_step, goto, language)

        if posted_step is None:
            return self._bad_request(_("This form was not sent completely. Start again."))
        if posted_step not in steps:
            return self._bad_request(_("That step does not exist in this form."))
        if self.storage.current_step is None and posted_step != steps[0]:
            return self._restart(_("Your session has expired. Please start again."))
        missing = next(
            (s for s in steps[: steps.index(posted_step)] if self.storage.get_step_data(s) is None),
            None,
        )
        if missing is not None or (posted_step != steps[0] and self.holder is None):
            return self._restart(_("Complete the steps in order. Please start again."))

        if posted_step == USER_DATA:
            refused = self._over_user_data_limits()
            if refused is not None:
                return refused
        return super().post(*args, **kwargs)

    def _over_user_data_limits(self) -> HttpResponse | None:
        """Step 2 is limited per client address and per user number, before anything is checked.

        The address limit is high enough for a practice that enrolls its team behind one
        address (settings); the per-number limit and the captcha stop automated guessing, and
        the PIN's own attempt counter blocks the number. A refusal spends no PIN attempt.
        """
        typed_number = self.request.POST.get(f"{USER_DATA}-user_number", "")
        limits = [
            (
                "address",
                ratelimit_key(USER_DATA_RATE_GROUP, self.request),
                settings.USER_DATA_RATE_LIMIT,
            )
        ]
        number = user_numbers.normalise(typed_number)[:40]  # the field's max_length
        if number:
            limits.append(("number", number, settings.USER_NUMBER_RATE_LIMIT))
        for name, value, rate in limits:
            verdict = rate_check(
                self.request,
                group=f"{USER_DATA_RATE_GROUP}.{name}",
                value=value,
                rate=rate,
                when_down=REFUSE,
            )
            if verdict.limited:
                return self._too_many_attempts(typed_number, verdict)
        return None

    def _too_many_attempts(self, typed_number: str, verdict: Verdict) -> HttpResponse:
        self.storage.current_step = USER_DATA
        form = UserDataForm(kind=self.kind, prefix=USER_DATA, initial={"user_number": typed_number})
        # Answered in place: a 429 with Retry-After, not a redirect.
        response = super().render(form, page_error=verdict.wait_message())
        response.status_code = 429
        response["Retry-After"] = str(verdict.retry_after)
        return response

    def _leave_step(self, step: str | None, goto: str | None, language: str | None) -> HttpResponse:
        """Back or the language switch: what was typed stays as a draft of the step."""
        steps = list(self.get_form_list())
        current = self.storage.current_step
        if step is not None and step in steps and step == current:
            form = self.get_form(step, data=self.request.POST)
            step_memory.keep_draft(self.storage, step, dict(self.get_form_step_data(form).lists()))
        if language is not None:
            if language not in dict(settings.LANGUAGES):
                return self._bad_request(_("That language is not available."))
            response = redirect(self.get_step_url(self.steps.current))
            remember_language(response, language)
            return response
        assert goto is not None
        if goto not in steps or current not in steps or steps.index(goto) >= steps.index(current):
            return self._bad_request(_("That step does not exist in this form."))
        return self.render_goto_step(goto)

    def render(self, form: Any = None, **kwargs: Any) -> HttpResponse:
        if self.request.method == "POST":
            # A refused submission: its errors and what was typed go with the redirect.
            return self._refuse(self.steps.current, form)
        return super().render(form, **kwargs)

    def _refuse(self, step: str, form: Any) -> HttpResponse:
        step_memory.keep_errors(self.storage, step, form.errors)
        if form.data and form.data is self.request.POST:
            step_memory.keep_draft(self.storage, step, dict(self.get_form_step_data(form).lists()))
        self.storage.current_step = step
        return redirect(self.get_step_url(step))

    def render_next_step(self, form: Any, **kwargs: Any) -> HttpResponse:
        step_memory.forget_draft(self.storage, self.steps.current)
        count_funnel(
            self.kind,
            (str(self.steps.current), "completed"),
            (str(self.steps.next), "entered"),
        )
        return super().render_next_step(form, **kwargs)

    def render_revalidation_failure(
        self, failed_step: str, form: Any, **kwargs: Any
    ) -> HttpResponse:
        return self._refuse(failed_step, form)

    def _restart(self, message: str) -> HttpResponse:
        self.storage.reset()
        self.storage.current_step = self.steps.first
        self.storage.extra_data = {RESTART_MESSAGE: str(message)}
        self.__dict__.pop("_holder", None)
        return redirect(self.get_step_url(self.steps.first))

    def _bad_request(self, message: str) -> HttpResponse:
        return HttpResponseBadRequest(
            render_to_string(
                "400.html", {"message": message, "restart_url": self.request.path}, self.request
            )
        )

    # --- The end --------------------------------------------------------------------------

    def render_done(self, form: Any, **kwargs: Any) -> HttpResponse:
        count_funnel(self.kind, (str(self.steps.current), "completed"))
        # Re-validate every stored step without asking again for secrets (see the forms).
        self._revalidating = True
        final_forms = {}
        for step in self.get_form_list():
            step_form = self.get_form(
                step=step,
                data=self.storage.get_step_data(step),
                files=self.storage.get_step_files(step),
            )
            if not step_form.is_valid():
                self._revalidating = False
                return self.render_revalidation_failure(step, step_form, **kwargs)
            final_forms[step] = step_form
        self._revalidating = False
        return self.done(list(final_forms.values()), form_dict=final_forms, **kwargs)

    def done(self, form_list: Any, form_dict: dict[str, Any], **kwargs: Any) -> HttpResponse:
        verified = self.verified
        assert verified is not None
        address = client_address(self.request)
        user_agent = self.request.META.get("HTTP_USER_AGENT", "")
        try:
            enrollment = Enrollment.objects.complete(
                holder_id=verified.holder_id,
                activation_code_id=verified.activation_code_id,
                email=form_dict[EMAIL].cleaned_data["email"],
                certificate_name=form_dict[CERTIFICATE_NAME].cleaned_data["certificate_name"],
                password_hash=self.storage.extra_data.get("password_hash", "")
                if self.kind == HolderKind.PERSONAL
                else "",
                consents=[
                    ConsentGiven(kind, address, user_agent)
                    for kind in (ConsentKind.CERTIFICATE_USE, ConsentKind.SOFTWARE)
                ],
                client_address=address,
                renews_id=self.renews_id(),
            )
        except (EnrollmentError, IntegrityError) as exc:
            code = exc.code if isinstance(exc, EnrollmentError) else "name_taken"
            return self._done_failed(code)
        self.storage.reset()
        # Kept so that a second click on the last button finds this registration.
        self.storage.extra_data = {COMPLETED: str(enrollment.public_id)}
        page_links.remember(self.request, str(enrollment.public_id))
        queue_after_commit("enrollment.send_confirmation", enrollment.pk)
        return redirect("enrollment:installation", public_id=enrollment.public_id)

    def renews_id(self) -> int | None:
        """The certificate a renewal replaces; None for a first enrollment with a PIN."""
        return None

    def _done_failed(self, code: str) -> HttpResponse:
        if code == "name_taken":
            # Taken meanwhile (another tab): the name step says so, the rest stays.
            form = self.get_form(
                CERTIFICATE_NAME, data=self.storage.get_step_data(CERTIFICATE_NAME)
            )
            form.is_valid()
            return self._refuse(CERTIFICATE_NAME, form)
        if code == "no_policy":
            # Nothing is lost: the consents stay ticked and the wizard stays at this step.
            message = _("The certificate policy is not available right now. Try again later.")
            step_memory.keep_errors(self.storage, CONSENT, {NON_FIELD_ERRORS: [message]})
            self.storage.current_step = CONSENT
            return redirect(self.get_step_url(CONSENT))
        restart_messages = {
            "pin_used": _(
                "This PIN has already been used to request a certificate. Ask your contact "
                "person for a new PIN."
            ),
            "blocked": _("This user number is blocked. Contact your contact person."),
        }
        return self._restart(restart_messages.get(code, _("Please start again.")))

    # --- Rendering ------------------------------------------------------------------------

    def get_context_data(self, form: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        step = self.steps.current
        steps = list(self.get_form_list())
        context.update(
            kind=self.kind,
            step_name=step,
            step_number=STEP_NUMBERS[step],
            total_steps=TOTAL_STEPS,
            step_title=STEP_TITLES[step],
            progress=[
                {
                    "number": number,
                    "title": title,
                    "current": key == step,
                    "skipped": key == PASSWORD and PASSWORD not in steps,
                    "done": number < STEP_NUMBERS[step],
                }
                for number, key, title in PROGRESS
            ],
            holder=self.holder,
            policy=PolicyDocument.objects.current() if step == CONSENT else None,
            is_first_step=step == steps[0],
            previous_step=steps[steps.index(step) - 1] if step != steps[0] else None,
        )
        return context

    def get_template_names(self) -> list[str]:
        return [f"enrollment/steps/{self.steps.current}.html"]
