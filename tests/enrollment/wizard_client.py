"""Walks the enrollment wizard through Django's test client, one POST per step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

STRONG_PASSWORD = "Zorg-Portaal7!"


class WizardWalker:
    """Posts each step to its own URL and follows the wizard's redirects to the next step.

    A POST's answer is a redirect (to the next step, or back to the step with its errors);
    ``last_post`` keeps that redirect, the returned response is the page the browser shows.
    A redirect out of the wizard (to step 7) is returned as it is.
    """

    def __init__(self, client: Client, kind: str = "personal", url: str | None = None) -> None:
        self.client = client
        self.kind = kind
        self.url = url or f"/enroll/{kind}/"
        self.prefix = f"enroll_{kind}"
        self.last_post: HttpResponse | None = None

    def step_url(self, step: str) -> str:
        return f"{self.url}{step}/"

    def start(self) -> HttpResponse:
        return self.follow(self.client.get(self.url + "?opnieuw=1"))

    def post(self, step: str, fields: dict[str, Any], **extra: Any) -> HttpResponse:
        data = {f"{self.prefix}-current_step": step}
        data.update({f"{step}-{name}": value for name, value in fields.items()})
        self.last_post = self.client.post(self.step_url(step), data, **extra)
        return self.follow(self.last_post, **extra)

    def follow(self, response: HttpResponse, **extra: Any) -> HttpResponse:
        while response.status_code in (302, 303) and response["Location"].startswith(self.url):
            response = self.client.get(response["Location"], **extra)
        return response

    def user_data(
        self, user_number: str, pin: str, captcha: str = "PASSED", **extra: Any
    ) -> HttpResponse:
        return self.post(
            "gebruikersgegevens",
            {"user_number": user_number, "pin": pin, "captcha_0": "anykey", "captcha_1": captcha},
            **extra,
        )

    def email(
        self, email: str = "a.janssen@example.org", repeat: str | None = None
    ) -> HttpResponse:
        return self.post("e-mailadres", {"email": email, "email_repeat": repeat or email})

    def certificate_name(self, name: str = "MIJNPC") -> HttpResponse:
        return self.post("certificaatnaam", {"certificate_name": name})

    def password(self, password: str = STRONG_PASSWORD, repeat: str | None = None) -> HttpResponse:
        return self.post(
            "wachtwoord",
            {"password": password, "password_repeat": password if repeat is None else repeat},
        )

    def consent(self, certificate_use: bool = True, software: bool = True) -> HttpResponse:
        fields = {}
        if certificate_use:
            fields["consent_certificate_use"] = "on"
        if software:
            fields["consent_software"] = "on"
        return self.post("voorwaarden", fields)

    def back(self, to_step: str, from_step: str | None = None, **typed: Any) -> HttpResponse:
        data = {"wizard_goto_step": to_step, **self._typed(from_step, typed)}
        self.last_post = self.client.post(self.step_url(from_step or to_step), data)
        return self.follow(self.last_post)

    def switch_language(self, language: str, on_step: str, **typed: Any) -> HttpResponse:
        data = {"wizard_language": language, **self._typed(on_step, typed)}
        self.last_post = self.client.post(self.step_url(on_step), data)
        return self.follow(self.last_post)

    def _typed(self, step: str | None, typed: dict[str, Any]) -> dict[str, Any]:
        if step is None:
            return {}
        return {
            f"{self.prefix}-current_step": step,
            **{f"{step}-{name}": value for name, value in typed.items()},
        }

    def complete(self, user_number: str, pin: str, name: str = "MIJNPC") -> HttpResponse:
        self.start()
        self.user_data(user_number, pin)
        self.email()
        self.certificate_name(name)
        if self.kind == "personal":
            self.password()
        return self.consent()
