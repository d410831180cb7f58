"""axe-core finds no accessibility violations on any page of the wizard, in either language.

Each test walks one wizard from the landing page to step 7, checking every page on the way,
including a page with errors for every step that can have them, and the CP/CPS.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from enrollment.models import HolderKind, PolicyDocument
from tests.browser.axe import axe_violations, broken_idrefs, describe
from tests.browser.wizard_pages import DUTCH, ENGLISH, Labels, Wizard
from tests.enrollment.factories import issue_holder

pytestmark = pytest.mark.browser


class Audit:
    """Collects the violations of every page, so one run reports all of them at once."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.checked: list[str] = []
        self.failures: list[tuple[str, list[dict[str, Any]]]] = []
        self.broken: list[str] = []

    def check(self, name: str) -> None:
        self.checked.append(name)
        where = f"{name} ({self.page.url})"
        violations = axe_violations(self.page)
        if violations:
            self.failures.append((where, violations))
        self.broken.extend(f"{where}: {reference}" for reference in broken_idrefs(self.page))

    def assert_clean(self) -> None:
        report = "\n".join(f"{name}:\n{describe(found)}" for name, found in self.failures)
        assert not self.failures, f"axe-core violations on {len(self.failures)} page(s):\n{report}"
        assert not self.broken, "references to missing ids:\n" + "\n".join(self.broken)


@pytest.mark.parametrize("labels", [DUTCH, ENGLISH], ids=["nl", "en"])
def test_every_page_of_the_personal_wizard_has_no_axe_violations(
    page: Page, base_url: str, policy: PolicyDocument, labels: Labels
) -> None:
    holder, pin = issue_holder(HolderKind.PERSONAL)
    wizard = Wizard(page, base_url, DUTCH)
    audit = Audit(page)

    wizard.open_landing()
    if labels is ENGLISH:
        wizard.switch_language(ENGLISH)
    audit.check("landing (step 1)")

    wizard.choose("personal")
    audit.check("step 2")
    wizard.fill_user_data(holder.user_number, "", captcha="")
    wizard.expect_step(2)
    audit.check("step 2 with errors")
    wizard.fill_user_data(holder.user_number, pin)

    wizard.expect_step(3)
    audit.check("step 3")
    wizard.fill_email("a.janssen@example.nl", repeat="")
    wizard.expect_step(3)
    audit.check("step 3 with errors")
    wizard.fill_email("a.janssen@example.nl")

    wizard.expect_step(4)
    audit.check("step 4")
    wizard.fill_certificate_name("a b")
    wizard.expect_step(4)
    audit.check("step 4 with errors")
    wizard.fill_certificate_name("Werk-1")

    wizard.expect_step(5)
    audit.check("step 5")
    wizard.fill_password("kort", repeat="lang")
    wizard.expect_step(5)
    audit.check("step 5 with errors")
    wizard.fill_password()

    wizard.expect_step(6)
    audit.check("step 6")
    wizard.agree(use=False, software=False)
    wizard.expect_step(6)
    audit.check("step 6 with errors")
    wizard.agree()

    wizard.expect_step(7)
    audit.check("step 7")

    page.goto(f"{base_url}/cps/")
    audit.check("CP/CPS")

    assert len(audit.checked) == 13
    audit.assert_clean()


@pytest.mark.parametrize("labels", [DUTCH, ENGLISH], ids=["nl", "en"])
def test_the_pages_that_differ_for_a_system_certificate_have_no_axe_violations(
    page: Page, base_url: str, policy: PolicyDocument, labels: Labels
) -> None:
    holder, pin = issue_holder(HolderKind.SYSTEM, name="Praktijk Janssen")
    wizard = Wizard(page, base_url, DUTCH)
    audit = Audit(page)

    wizard.open_landing()
    if labels is ENGLISH:
        wizard.switch_language(ENGLISH)
    wizard.choose("system")
    audit.check("step 2 (system)")
    wizard.fill_user_data(holder.user_number, pin)
    wizard.expect_step(3)
    wizard.fill_email("ict@praktijk.example.nl")
    wizard.expect_step(4)
    wizard.fill_certificate_name("KIS")

    wizard.expect_step(6)
    audit.check("step 6 (system)")
    wizard.agree()

    wizard.expect_step(7)
    audit.check("step 7 (system)")
    audit.assert_clean()


def test_the_captcha_digits_can_also_be_listened_to(page: Page, base_url: str) -> None:
    # Someone who cannot see the image needs another way to pass (WCAG 1.1.1, CAPTCHA). The
    # digits' sounds ship with the project: no synthesiser needs to be installed.
    wizard = Wizard(page, base_url, DUTCH)
    wizard.open_landing()
    wizard.choose("personal")

    listen = page.get_by_role("link", name="Beluister de cijfers")
    href = listen.get_attribute("href")
    assert href
    response = page.request.get(f"{base_url}{href}", timeout=10_000)

    assert response.ok
    assert response.headers["content-type"] == "audio/wav"
    assert response.body()[:4] == b"RIFF"
