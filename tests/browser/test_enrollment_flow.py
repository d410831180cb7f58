"""The whole enrollment, steps 1 to 7, as a holder does it in the browser."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import Page, expect

from enrollment.models import ConsentKind, Enrollment, Holder, HolderKind, PolicyDocument
from tests.browser.wizard_pages import (
    CERTIFICATE_NAME_RULE,
    DUTCH,
    ENGLISH,
    PASSWORD,
    Wizard,
)

pytestmark = pytest.mark.browser


def _assert_recorded(
    holder: Holder, *, email: str, certificate_name: str, policy: PolicyDocument
) -> Enrollment:
    enrollment = Enrollment.objects.get(holder=holder)
    assert enrollment.kind == holder.kind
    assert enrollment.email == email
    assert enrollment.certificate_name == certificate_name
    assert enrollment.client_address == "127.0.0.1"
    assert enrollment.activation_code.used_at is not None
    consents = enrollment.consents.all()
    assert {c.kind for c in consents} == {ConsentKind.CERTIFICATE_USE, ConsentKind.SOFTWARE}
    assert all(c.policy == policy for c in consents)
    return enrollment


def _assert_summary(wizard: Wizard, holder: Holder, *, email: str, certificate_name: str) -> None:
    wizard.expect_step(7)
    summary = wizard.page.locator("dl.facts")
    expect(summary).to_contain_text(holder.display_name)
    expect(summary).to_contain_text(email)
    expect(summary).to_contain_text(certificate_name)


def test_personal_certificate_in_dutch_goes_from_landing_to_step_7_and_is_recorded(
    page: Page, base_url: str, personal_holder: tuple[Holder, str], policy: PolicyDocument
) -> None:
    holder, pin = personal_holder
    wizard = Wizard(page, base_url, DUTCH)

    wizard.open_landing()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    wizard.choose("personal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersgegevens")
    wizard.fill_user_data(holder.user_number, pin)

    wizard.expect_step(3)
    expect(page.locator("dl.facts")).to_contain_text(DUTCH.user_name)
    expect(page.locator("dl.facts")).to_contain_text("A. Janssen")
    wizard.fill_email("a.janssen@example.nl")

    wizard.expect_step(4)
    expect(page.get_by_text(DUTCH.certificate_name_hint)).to_be_visible()
    suggested = wizard.field(DUTCH.certificate_name).input_value()
    assert CERTIFICATE_NAME_RULE.match(suggested), suggested
    wizard.fill_certificate_name()

    wizard.expect_step(5)
    wizard.fill_password()

    wizard.expect_step(6)
    wizard.agree()

    _assert_summary(wizard, holder, email="a.janssen@example.nl", certificate_name=suggested)
    enrollment = _assert_recorded(
        holder, email="a.janssen@example.nl", certificate_name=suggested, policy=policy
    )
    assert enrollment.kind == HolderKind.PERSONAL
    assert enrollment.password_hash != PASSWORD
    assert check_password(PASSWORD, enrollment.password_hash)


def test_personal_certificate_in_english_after_switching_language_on_the_landing_page(
    page: Page, base_url: str, personal_holder: tuple[Holder, str], policy: PolicyDocument
) -> None:
    holder, pin = personal_holder
    wizard = Wizard(page, base_url, DUTCH)

    wizard.open_landing()
    wizard.switch_language(ENGLISH)
    wizard.expect_step(1)
    wizard.choose("personal")
    expect(page.get_by_role("heading", level=1)).to_have_text("User data")
    wizard.fill_user_data(holder.user_number, pin)

    wizard.expect_step(3)
    expect(page.locator("dl.facts")).to_contain_text(ENGLISH.user_name)
    expect(page.locator("dl.facts")).to_contain_text("A. Janssen")
    wizard.fill_email("a.janssen@example.org")

    wizard.expect_step(4)
    expect(page.get_by_text(ENGLISH.certificate_name_hint)).to_be_visible()
    wizard.fill_certificate_name("Werk-1")

    wizard.expect_step(5)
    wizard.fill_password()

    wizard.expect_step(6)
    wizard.agree()

    _assert_summary(wizard, holder, email="a.janssen@example.org", certificate_name="Werk-1")
    _assert_recorded(
        holder, email="a.janssen@example.org", certificate_name="Werk-1", policy=policy
    )


def test_system_certificate_skips_the_password_step(
    page: Page, base_url: str, system_holder: tuple[Holder, str], policy: PolicyDocument
) -> None:
    holder, pin = system_holder
    wizard = Wizard(page, base_url, DUTCH)

    wizard.open_landing()
    wizard.choose("system")
    wizard.fill_user_data(holder.user_number, pin)

    wizard.expect_step(3)
    expect(page.locator("dl.facts")).to_contain_text("Praktijk Janssen")
    wizard.fill_email("ict@praktijk.example.nl")

    wizard.expect_step(4)
    wizard.fill_certificate_name("KIS")

    # Straight from the certificate name to the terms: step 5 does not apply.
    wizard.expect_step(6)
    expect(wizard.field(DUTCH.password)).to_have_count(0)
    expect(page.locator(".progress li.skipped")).to_have_count(1)
    wizard.agree()

    _assert_summary(wizard, holder, email="ict@praktijk.example.nl", certificate_name="KIS")
    enrollment = _assert_recorded(
        holder, email="ict@praktijk.example.nl", certificate_name="KIS", policy=policy
    )
    assert enrollment.kind == HolderKind.SYSTEM
    assert enrollment.password_hash == ""
