"""Step 7 in headless Chromium as a computer, an iPhone, an Android phone and an iPad (which
presents itself as a Mac), and for a system certificate: Dutch and English, desktop and
phone width, no axe-core violations. Screenshots go to $STEP7_SHOTS when it is set."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, Page

from ca.models import CertificateAuthority
from enrollment import page_links
from enrollment.models import Enrollment
from tests.browser.axe import axe_violations, describe
from tests.installers.test_step7_phones_and_help import ANDROID_UA, IPAD_DESKTOP_UA, IPHONE_UA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130 Safari/537.36"
DEVICES = {
    "desktop": (DESKTOP_UA, 1280, False),
    "iphone": (IPHONE_UA, 390, True),
    "android": (ANDROID_UA, 390, True),
    "ipad": (IPAD_DESKTOP_UA, 820, True),
}


@pytest.fixture
def open_step7(browser: Browser, base_url: str) -> Iterator[Callable[[Enrollment, str, str], Page]]:
    contexts = []

    def open_page(enrollment: Enrollment, device: str, language: str) -> Page:
        agent, width, touch = DEVICES[device]
        context = browser.new_context(
            user_agent=agent,
            viewport={"width": width, "height": 900},
            has_touch=touch,
            locale="nl-NL" if language == "nl" else "en-GB",
        )
        contexts.append(context)
        # The language a holder chose on the wizard's pages (the switch sets this cookie).
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
        )
        page = context.new_page()
        link = page_links.make_link(enrollment).replace(settings.PORTAL_URL, base_url)
        page.goto(link)
        return page

    yield open_page
    for context in contexts:
        context.close()


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("STEP7_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def assert_no_violations(page: Page) -> None:
    violations = axe_violations(page)
    assert not violations, describe(violations)


TEXTS = {
    "nl": {"finish": "Rond af op uw computer", "mail": "Mail mij de link", "install": "Start installeren", "qr": "Toon de link als QR-code"},
    "en": {"finish": "Finish on your computer", "mail": "E-mail me the link", "install": "Start installing", "qr": "Show the link as a QR code"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("device", ["iphone", "android", "ipad"])
def test_a_phone_or_tablet_is_sent_to_the_computer_first(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    open_step7: Callable[[Enrollment, str, str], Page],
    device: str,
    language: str,
) -> None:
    texts = TEXTS[language]
    page = open_step7(make_enrollment(), device, language)
    heading = page.get_by_role("heading", name=texts["finish"])
    heading.wait_for()
    assert heading.is_visible()
    mail = page.get_by_role("button", name=texts["mail"])
    assert "button-primary" in (mail.get_attribute("class") or "")
    # A phone the server recognises chooses among all systems, none guessed from the phone's;
    # an iPad that presents itself as a Mac keeps the Mac's installer, demoted by step7.js.
    names = ["Windows", "macOS", "Linux"] if device != "ipad" else [texts["install"]]
    for name in names:
        install = page.get_by_role("button", name=name, exact=True)
        assert "button-primary" not in (install.get_attribute("class") or "")
        # The handoff comes before the installer on the page.
        assert mail.bounding_box()["y"] < install.bounding_box()["y"]  # type: ignore[index]
    code = page.locator(".qr img")
    # Fetched only once the holder asks for it (a lazy image in a closed <details>).
    assert code.evaluate("image => image.naturalWidth") == 0
    page.get_by_text(texts["qr"]).click()
    code.wait_for()
    page.wait_for_function("document.querySelector('.qr img').naturalWidth > 0")
    assert code.is_visible()
    assert_no_violations(page)
    shoot(page, f"step7-{device}-{language}")
    page.get_by_role("button", name=texts["mail"]).click()
    page.wait_for_url("**#telefoon")
    assert page.get_by_role("status").filter(has_text="@example.org").count() == 1
    assert_no_violations(page)
    shoot(page, f"step7-{device}-{language}-mailed")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_computer_gets_the_installer_first_with_help_for_smartscreen_and_gatekeeper(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    open_step7: Callable[[Enrollment, str, str], Page],
    browser: Browser,
    language: str,
    width: int,
) -> None:
    page = open_step7(make_enrollment(), "desktop", language)
    page.set_viewport_size({"width": width, "height": 900})
    install = page.get_by_role("button", name=TEXTS[language]["install"])
    assert "button-primary" in (install.get_attribute("class") or "")
    assert not page.get_by_role("heading", name=TEXTS[language]["finish"]).is_visible()
    assert page.get_by_text("SmartScreen").is_visible()
    assert page.get_by_text("Gatekeeper").is_visible()
    assert_no_violations(page)
    shoot(page, f"step7-desktop-{width}-{language}")


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_system_certificates_recipe_wraps_and_can_be_copied(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    open_step7: Callable[[Enrollment, str, str], Page],
    language: str,
    width: int,
) -> None:
    page = open_step7(make_enrollment(kind="system", name="Koppeling"), "desktop", language)
    page.set_viewport_size({"width": width, "height": 900})
    recipe = page.locator("#recipe")
    # Wrapped, not scrolled sideways.
    assert recipe.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert page.get_by_text(
        {"nl": "Naam systeem", "en": "System name"}[language], exact=True
    ).is_visible()
    body = page.locator("main").inner_text() if page.locator("main").count() else page.content()
    assert "Chrome" not in body and "Firefox" not in body
    copy = page.get_by_role(
        "button", name={"nl": "Opdrachten kopiëren", "en": "Copy the commands"}[language]
    )
    if page.evaluate("() => window.isSecureContext && !!navigator.clipboard"):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        copy.click()
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.startswith("PORTAL=") and "openssl req -new" in copied
    assert_no_violations(page)
    shoot(page, f"step7-system-{width}-{language}")
