"""Headless Chromium through the wizard as people use a browser: Back, Forward and reload on
a URL per step, the language switch in the middle of typing, errors that name their field,
and installing again from step 1. Dutch and English, at phone and desktop width."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from playwright.sync_api import Page, expect

from enrollment.models import Enrollment, Holder
from tests.browser.axe import axe_violations, describe
from tests.browser.wizard_pages import LABELS, PASSWORD, Wizard
from tests.fixtures.ca import fixture_bytes, order_for

pytestmark = pytest.mark.browser


@pytest.fixture(params=[("nl", 390), ("en", 1280)], ids=["nl-phone", "en-desktop"])
def wizard(request: Any, page: Page, base_url: str) -> Wizard:
    language, width = request.param
    page.set_viewport_size({"width": width, "height": 900})
    wizard = Wizard(page, base_url, LABELS["nl"])
    wizard.open_landing()
    if language != "nl":
        wizard.switch_language(LABELS[language])
    return wizard


def test_each_step_has_its_own_url_and_back_forward_reload_show_it_with_what_was_typed(
    wizard: Wizard, personal_holder: tuple[Holder, str], policy: Any
) -> None:
    holder, pin = personal_holder
    page = wizard.page
    wizard.choose("personal")
    expect(page).to_have_url(f"{wizard.base_url}/enroll/personal/gebruikersgegevens/")
    wizard.fill_user_data(holder.user_number, pin)
    wizard.expect_step(3)
    expect(page).to_have_url(f"{wizard.base_url}/enroll/personal/e-mailadres/")
    wizard.fill_email("a.janssen@example.nl")
    wizard.expect_step(4)

    page.go_back()
    wizard.expect_step(3)
    expect(wizard.field(wizard.labels.email)).to_have_value("a.janssen@example.nl")
    expect(wizard.error_summary).to_have_count(0)
    page.go_back()
    wizard.expect_step(2)
    expect(wizard.field(wizard.labels.user_number)).to_have_value(holder.user_number)
    expect(wizard.field(wizard.labels.pin)).to_have_value("")
    page.go_forward()
    wizard.expect_step(3)
    page.reload()
    wizard.expect_step(3)
    assert axe_violations(page) == [], describe(axe_violations(page))


def test_switching_language_while_typing_keeps_the_typed_values_but_not_the_pin(
    wizard: Wizard, personal_holder: tuple[Holder, str]
) -> None:
    holder, pin = personal_holder
    wizard.choose("personal")
    wizard.field(wizard.labels.user_number).fill(holder.user_number)
    wizard.field(wizard.labels.pin).fill(pin)
    other = LABELS["en" if wizard.language == "nl" else "nl"]
    wizard.switch_language(other)
    switched = wizard
    switched.expect_step(2)
    expect(switched.field(other.user_number)).to_have_value(holder.user_number)
    expect(switched.field(other.pin)).to_have_value("")
    expect(switched.error_summary).to_have_count(0)


def test_the_error_summary_names_each_field_once(wizard: Wizard) -> None:
    wizard.choose("personal")
    wizard.next()
    summary = wizard.error_summary
    expect(summary).to_contain_text(
        f"{wizard.labels.user_number}: {wizard.t('Enter your 14-digit user number.')}"
    )
    expect(summary).to_contain_text(
        f"{wizard.labels.pin}: {wizard.t('Enter the PIN that your contact person received.')}"
    )
    items = summary.get_by_role("listitem").all_inner_texts()
    assert len(items) == len(set(items)) == 3
    assert axe_violations(wizard.page) == [], describe(axe_violations(wizard.page))


def test_install_again_from_step_1_without_a_new_pin(
    wizard: Wizard,
    personal_holder: tuple[Holder, str],
    policy: Any,
    make_enrollment: Any,
    hierarchy: Any,
    eager_tasks: None,
) -> None:
    holder, _pin = personal_holder
    first = make_enrollment(holder=holder)
    Enrollment.objects.filter(pk=first.pk).update(password_hash=make_password(PASSWORD))
    order_for(first, fixture_bytes("p256.pem"))
    page = wizard.page
    page.get_by_role("link", name=wizard.t("install again or renew")).click()
    page.get_by_label(wizard.t("User number"), exact=True).fill(holder.user_number)
    page.get_by_label(wizard.t("Password"), exact=True).fill(PASSWORD)
    wizard.button("Next").click()
    # No authenticator linked yet: the e-mailed link is the way, said only after the password.
    expect(wizard.page.get_by_role("alert")).to_contain_text(wizard.t("Install again"))
    assert axe_violations(page) == [], describe(axe_violations(page))
