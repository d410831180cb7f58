"""What a holder sees when something is wrong, and that nothing typed is lost (except secrets)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from enrollment import user_numbers
from enrollment.models import Holder, PolicyDocument
from tests.browser.wizard_pages import DUTCH, PASSWORD, Wizard

pytestmark = pytest.mark.browser

EMAIL = "a.janssen@example.nl"


@pytest.fixture
def wizard(page: Page, base_url: str) -> Wizard:
    return Wizard(page, base_url, DUTCH)


def _to_step(wizard: Wizard, holder_and_pin: tuple[Holder, str], step: int) -> None:
    """Walk a personal holder's wizard, correctly, up to the given step (3 to 6)."""
    holder, pin = holder_and_pin
    wizard.open_landing()
    wizard.choose("personal")
    wizard.fill_user_data(holder.user_number, pin)
    wizard.expect_step(3)
    if step > 3:
        wizard.fill_email(EMAIL)
        wizard.expect_step(4)
    if step > 4:
        wizard.fill_certificate_name()
        wizard.expect_step(5)
    if step > 5:
        wizard.fill_password()
        wizard.expect_step(6)


def _unissued_user_number() -> str:
    while Holder.objects.filter(user_number=(number := user_numbers.generate())).exists():
        pass
    return number


def test_wrong_pin_and_unknown_user_number_get_the_same_message_and_keep_the_number(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    holder, pin = personal_holder
    wrong_pin = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    message = wizard.t("The combination of user number and PIN is not correct.")
    wizard.open_landing()
    wizard.choose("personal")

    wizard.fill_user_data(holder.user_number, wrong_pin)
    wizard.expect_step(2)
    wizard.expect_error(message, at_field=False)
    expect(wizard.field(DUTCH.user_number)).to_have_value(holder.user_number)
    expect(wizard.field(DUTCH.pin)).to_have_value("")
    expect(wizard.field(DUTCH.captcha)).to_have_value("")

    unknown = _unissued_user_number()
    wizard.fill_user_data(unknown, pin)
    wizard.expect_step(2)
    wizard.expect_error(message, at_field=False)
    expect(wizard.field(DUTCH.user_number)).to_have_value(unknown)


def test_digits_not_copied_are_reported_at_the_captcha_field(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    holder, pin = personal_holder
    wizard.open_landing()
    wizard.choose("personal")

    wizard.fill_user_data(holder.user_number, pin, captcha="")

    wizard.expect_step(2)
    message = wizard.t("Copy the digits in the image.")
    wizard.expect_error(message)
    captcha = wizard.field(DUTCH.captcha)
    expect(captcha).to_have_attribute("aria-invalid", "true")
    expect(captcha).to_have_accessible_description(re.compile(re.escape(message)))
    wizard.error_summary.get_by_role("link", name=re.compile(re.escape(message))).click()
    expect(captcha).to_be_focused()


def test_from_the_third_wrong_pin_the_page_counts_down_then_says_who_unblocks(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    holder, pin = personal_holder
    wrong_pin = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    wrong = wizard.t("The combination of user number and PIN is not correct.")
    blocked = wizard.t(
        "This user number is blocked after %(count)d wrong PINs. Only a new PIN "
        "unblocks it: ask your contact person, who can request one for you."
    ) % {"count": settings.PIN_MAX_ATTEMPTS}
    wizard.open_landing()
    wizard.choose("personal")

    for attempt in range(1, settings.PIN_MAX_ATTEMPTS):
        wizard.fill_user_data(holder.user_number, wrong_pin)
        wizard.expect_error(wrong, at_field=False)
        left = settings.PIN_MAX_ATTEMPTS - attempt
        countdown = re.compile(rf"nog {left} poging|You have {left} more attempt")
        if attempt >= 3:
            expect(wizard.error_summary).to_contain_text(countdown)
        else:
            expect(wizard.error_summary).not_to_contain_text(countdown)
    wizard.fill_user_data(holder.user_number, wrong_pin)
    wizard.expect_error(blocked, at_field=False)

    wizard.fill_user_data(holder.user_number, pin)
    wizard.expect_step(2)
    wizard.expect_error(blocked, at_field=False)
    holder.refresh_from_db()
    assert holder.is_blocked


def test_different_e_mail_addresses_are_refused_and_both_stay_filled_in(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    _to_step(wizard, personal_holder, 3)

    wizard.fill_email(EMAIL, repeat="a.jansen@example.nl")

    wizard.expect_step(3)
    wizard.expect_error(wizard.t("The two e-mail addresses are not the same."))
    expect(wizard.field(DUTCH.email)).to_have_value(EMAIL)
    expect(wizard.field(DUTCH.email_repeat)).to_have_value("a.jansen@example.nl")
    expect(wizard.field(DUTCH.email_repeat)).to_have_attribute("aria-invalid", "true")
    # A screen reader reads the error with the field, not only in the summary.
    expect(wizard.field(DUTCH.email_repeat)).to_have_accessible_description(
        re.compile(re.escape(wizard.t("The two e-mail addresses are not the same.")))
    )


def test_error_summary_takes_focus_and_its_link_moves_focus_to_the_field(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    _to_step(wizard, personal_holder, 3)
    wizard.fill_email(EMAIL, repeat="a.jansen@example.nl")

    expect(wizard.error_summary).to_be_focused()
    message = wizard.t("The two e-mail addresses are not the same.")
    wizard.error_summary.get_by_role("link", name=re.compile(re.escape(message))).click()

    expect(wizard.field(DUTCH.email_repeat)).to_be_focused()


def test_certificate_name_longer_than_7_characters_is_refused(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    _to_step(wizard, personal_holder, 4)
    # A maxlength attribute, if any, only makes the browser cut the name off silently: the
    # portal itself must refuse it (the seed's own example "2DEC24-1" has 8 characters).
    wizard.field(DUTCH.certificate_name).evaluate("input => input.removeAttribute('maxlength')")
    wizard.fill_certificate_name("2DEC24-1")

    wizard.expect_step(4)
    message = wizard.t("A certificate name has at most 7 characters (you typed %(show_value)d).")
    wizard.expect_error(message % {"show_value": 8})
    expect(wizard.field(DUTCH.certificate_name)).to_have_value("2DEC24-1")


def test_certificate_name_with_other_characters_than_letters_digits_and_hyphen_is_refused(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    _to_step(wizard, personal_holder, 4)

    wizard.fill_certificate_name("café!")

    wizard.expect_step(4)
    message = wizard.t("These characters are not allowed: %(chars)s. Use letters, digits and -.")
    wizard.expect_error(message % {"chars": "! é"})
    expect(wizard.field(DUTCH.certificate_name)).to_have_value("café!")
    # The rule and the error are both read out with the field.
    expect(wizard.field(DUTCH.certificate_name)).to_have_accessible_description(
        re.compile(f"{DUTCH.certificate_name_hint}.*{re.escape(message % {'chars': '! é'})}")
    )


def test_password_without_capital_digit_and_punctuation_is_refused_and_must_be_retyped(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    _to_step(wizard, personal_holder, 5)

    wizard.fill_password("zorgportaal")

    wizard.expect_step(5)
    missing = ", ".join(
        wizard.t(item) for item in ("an upper-case letter", "a digit", "a punctuation mark")
    )
    wizard.expect_error(wizard.t("Your password is missing: %(missing)s.") % {"missing": missing})
    expect(wizard.field(DUTCH.password)).to_have_value("")
    expect(wizard.field(DUTCH.password_repeat)).to_have_value("")


def test_terms_not_agreed_to_are_refused_and_the_other_box_stays_checked(
    wizard: Wizard, personal_holder: tuple[Holder, str], policy: PolicyDocument
) -> None:
    _to_step(wizard, personal_holder, 6)

    wizard.agree(use=False, software=True)

    wizard.expect_step(6)
    wizard.expect_error(wizard.t("Agree to the terms of certificate use to continue."))
    expect(wizard.consent_box(DUTCH.terms_of_use)).not_to_be_checked()
    expect(wizard.consent_box(DUTCH.terms_of_software)).to_be_checked()


def test_back_shows_what_was_typed_except_the_pin_and_the_password(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    holder, _pin = personal_holder
    _to_step(wizard, personal_holder, 4)
    wizard.fill_certificate_name("Werk-1")
    wizard.expect_step(5)
    wizard.fill_password(PASSWORD)
    wizard.expect_step(6)

    wizard.back()
    wizard.expect_step(5)
    expect(wizard.field(DUTCH.password)).to_have_value("")
    expect(wizard.field(DUTCH.password_repeat)).to_have_value("")

    wizard.back()
    wizard.expect_step(4)
    expect(wizard.field(DUTCH.certificate_name)).to_have_value("Werk-1")

    wizard.back()
    wizard.expect_step(3)
    expect(wizard.field(DUTCH.email)).to_have_value(EMAIL)
    expect(wizard.field(DUTCH.email_repeat)).to_have_value(EMAIL)

    wizard.back()
    wizard.expect_step(2)
    expect(wizard.field(DUTCH.user_number)).to_have_value(holder.user_number)
    expect(wizard.field(DUTCH.pin)).to_have_value("")
    expect(wizard.field(DUTCH.captcha)).to_have_value("")
