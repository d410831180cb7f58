"""Walks the enrollment wizard through Django's test client, one POST per step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

STRONG_PASSWORD = "Zorg-Portaal7!"


class WizardWalker:
    def __init__(self, client: Client, kind: str = "personal") -> None:
        self.client = client
        self.kind = kind
        self.url = f"/enroll/{kind}/"
        self.prefix = f"enroll_{kind}"

    def start(self) -> HttpResponse:
        return self.client.get(self.url + "?opnieuw=1")

    def post(self, step: str, fields: dict[str, Any], **extra: Any) -> HttpResponse:
        data = {f"{self.prefix}-current_step": step}
        data.update({f"{step}-{name}": value for name, value in fields.items()})
        return self.client.post(self.url, data, **extra)

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

    def back(self, to_step: str) -> HttpResponse:
        return self.client.post(self.url, {"wizard_goto_step": to_step})

    def complete(self, user_number: str, pin: str, name: str = "MIJNPC") -> HttpResponse:
        self.start()
        self.user_data(user_number, pin)
        self.email()
        self.certificate_name(name)
        if self.kind == "personal":
            self.password()
        return self.consent()
