"""The wizard's layout: usable from a phone to a desktop, and the README's screenshot.

``UPDATE_SCREENSHOTS=1 pytest tests/browser/test_layout.py`` rewrites docs/screenshot-step2.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from enrollment.models import Holder, PolicyDocument
from tests.browser.wizard_pages import DUTCH, Wizard

pytestmark = pytest.mark.browser

README_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-step2.png"
# 320 CSS pixels is WCAG's reflow width: a 1280 px wide screen zoomed to 400 %.
REFLOW_WIDTH = 320

OVERFLOWING_SCRIPT = """() => {
  const found = [];
  for (const el of document.querySelectorAll(
      "main h1, main h2, main p, main label, main li, main dt, main dd, main legend, main button")) {
    if (el.closest(".visually-hidden")) continue;
    if (el.scrollWidth > el.clientWidth + 1) found.push(el.outerHTML.slice(0, 120));
  }
  if (document.documentElement.scrollWidth > window.innerWidth) found.push(`<html> scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
  return found;
}"""


def _overflowing(page: Page) -> list[str]:
    found: list[str] = page.evaluate(OVERFLOWING_SCRIPT)
    return found


def test_every_wizard_page_reflows_at_320_px_without_text_sticking_out(
    page: Page, base_url: str, personal_holder: tuple[Holder, str], policy: PolicyDocument
) -> None:
    holder, pin = personal_holder
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 800})
    wizard = Wizard(page, base_url, DUTCH)
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        if overflowing := _overflowing(page):
            found[name] = overflowing

    wizard.open_landing()
    check("step 1")
    wizard.choose("personal")
    wizard.fill_user_data(holder.user_number, "", captcha="")
    check("step 2 with errors")
    wizard.fill_user_data(holder.user_number, pin)
    check("step 3")
    wizard.fill_email("a.janssen@example.nl")
    check("step 4")
    wizard.fill_certificate_name()
    check("step 5")
    wizard.fill_password()
    check("step 6")
    wizard.agree()
    wizard.expect_step(7)
    check("step 7")

    assert not found, found


def test_step_2_fits_a_desktop_screen_and_is_the_readme_screenshot(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    wizard = Wizard(page, base_url, DUTCH)
    wizard.open_landing()
    wizard.choose("personal")

    assert _overflowing(page) == []
    page.screenshot(path=tmp_path / "step2.png", full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=README_SCREENSHOT, full_page=True)
