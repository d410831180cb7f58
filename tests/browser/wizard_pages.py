"""What a visitor sees and does on the wizard's pages, in Dutch (the seed's labels) or English.

The Dutch labels below are the seed manual's, verbatim: they are the specification, so they
are written out here rather than looked up. Texts the seed does not have (buttons, error
messages) are looked up in the catalogue with ``text()``, so a test checks that they are
translated without repeating the translation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils import translation
from playwright.sync_api import Locator, Page, expect

CAPTCHA_TEST_ANSWER = "PASSED"
PASSWORD = "Zorg-Portaal7!"
CERTIFICATE_NAME_RULE = re.compile(r"^[A-Za-z0-9-]{1,7}$")


@dataclass(frozen=True)
class Labels:
    language: str
    switch_to_other_language: str
    install_personal: str
    install_system: str
    user_number: str
    pin: str
    captcha: str
    email: str
    email_repeat: str
    user_name: str
    certificate_name: str
    certificate_name_hint: str
    password: str
    password_repeat: str
    consent: str
    terms_of_use: str
    terms_of_software: str

    def step(self, number: int) -> str:
        if self.language == "nl":
            return f"Stap {number} van 7"
        return f"Step {number} of 7"


DUTCH = Labels(
    language="nl",
    switch_to_other_language="English",
    install_personal="Persoonlijk certificaat installeren",
    install_system="Systeemcertificaat installeren",
    user_number="Gebruikersnummer",
    pin="Pincode",
    captcha="Neem de cijfers in onderstaande afbeelding over",
    email="E-mailadres",
    email_repeat="Herhaal e-mailadres",
    user_name="Naam gebruiker",
    certificate_name="Certificaatnaam",
    certificate_name_hint="Maximaal 7 karakters",
    password="Wachtwoord",
    password_repeat="Bevestig wachtwoord",
    consent="Ik ga akkoord met bovenstaande voorwaarden.",
    terms_of_use="Voorwaarden certificaatgebruik: belangrijk",
    terms_of_software="Voorwaarden software",
)

ENGLISH = Labels(
    language="en",
    switch_to_other_language="Nederlands",
    install_personal="Install personal certificate",
    install_system="Install system certificate",
    user_number="User number",
    pin="PIN",
    captcha="Copy the digits in the image below",
    email="E-mail address",
    email_repeat="Repeat e-mail address",
    user_name="User name",
    certificate_name="Certificate name",
    certificate_name_hint="Maximum 7 characters",
    password="Password",
    password_repeat="Confirm password",
    consent="I agree to the terms above.",
    terms_of_use="Terms of certificate use: important",
    terms_of_software="Terms of the software",
)

LABELS = {"nl": DUTCH, "en": ENGLISH}


def text(language: str, message: str) -> str:
    """The portal's own translation of an English message id."""
    with translation.override(language):
        return translation.gettext(message)


@dataclass
class Wizard:
    """One visitor going through the wizard in one language."""

    page: Page
    base_url: str
    labels: Labels = DUTCH

    @property
    def language(self) -> str:
        return self.labels.language

    def t(self, message: str) -> str:
        return text(self.language, message)

    # --- Finding things ------------------------------------------------------------------

    def field(self, label: str) -> Locator:
        return self.page.get_by_label(label, exact=True)

    def consent_box(self, legend: str) -> Locator:
        return self.page.get_by_role("group", name=legend).get_by_label(
            self.labels.consent, exact=True
        )

    def button(self, message: str) -> Locator:
        return self.page.get_by_role("button", name=self.t(message), exact=True)

    @property
    def error_summary(self) -> Locator:
        return self.page.get_by_role("alert").filter(
            has=self.page.get_by_role("heading", name=self.t("Please correct the following"))
        )

    def expect_step(self, number: int) -> None:
        expect(self.page.get_by_text(self.labels.step(number), exact=True)).to_be_visible()

    def expect_error(self, message: str, *, at_field: bool = True) -> None:
        """The message is in the summary at the top and (for a field's error) next to it."""
        expect(self.error_summary).to_contain_text(message)
        if at_field:
            expect(self.page.locator(".error-message").filter(has_text=message)).to_be_visible()

    # --- Doing things --------------------------------------------------------------------

    def open_landing(self) -> None:
        self.page.goto(f"{self.base_url}/enroll/")
        self.expect_step(1)

    def switch_language(self, labels: Labels) -> None:
        self.page.get_by_role("button", name=self.labels.switch_to_other_language).click()
        self.labels = labels
        expect(self.page.locator("html")).to_have_attribute("lang", labels.language)

    def choose(self, kind: str) -> None:
        name = self.labels.install_personal if kind == "personal" else self.labels.install_system
        self.page.get_by_role("link", name=name).click()
        self.expect_step(2)

    def next(self) -> None:
        self.button("Next").click()

    def back(self) -> None:
        self.button("Back").click()

    def fill_user_data(
        self, user_number: str, pin: str, captcha: str = CAPTCHA_TEST_ANSWER
    ) -> None:
        self.field(self.labels.user_number).fill(user_number)
        self.field(self.labels.pin).fill(pin)
        self.field(self.labels.captcha).fill(captcha)
        self.next()

    def fill_email(self, email: str, repeat: str | None = None) -> None:
        self.field(self.labels.email).fill(email)
        self.field(self.labels.email_repeat).fill(email if repeat is None else repeat)
        self.next()

    def fill_certificate_name(self, name: str | None = None) -> None:
        if name is not None:
            self.field(self.labels.certificate_name).fill(name)
        self.next()

    def fill_password(self, password: str = PASSWORD, repeat: str | None = None) -> None:
        self.field(self.labels.password).fill(password)
        self.field(self.labels.password_repeat).fill(password if repeat is None else repeat)
        self.next()

    def agree(self, *, use: bool = True, software: bool = True) -> None:
        self.consent_box(self.labels.terms_of_use).set_checked(use)
        self.consent_box(self.labels.terms_of_software).set_checked(software)
        self.button("Complete registration").click()
