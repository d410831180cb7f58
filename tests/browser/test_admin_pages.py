"""The back office in Chromium: axe-core on every page it adds or changes, in both languages
and at phone and desktop widths; a reload after *Add holder* and a double-confirmed import
that make nothing twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import FilePayload, Page, expect

from audit.models import AuditEntry
from enrollment.models import Holder, HolderImport
from tests.browser.axe import axe_violations, broken_idrefs, describe
from tests.enrollment.factories import issue_holder, make_organisation

pytestmark = pytest.mark.browser

SHOTS = Path(settings.BASE_DIR).parent / "notes-helpers" / "shots" / "backoffice"
CSV = (
    "naam;organisatie;email_contactpersoon;postadres;postcode;plaats\n"
    "A. Janssen;Zorggroep Noord;contact@noord.example;Postbus 12;9700 AB;Groningen\n"
    "B. de Vries;Zorggroep Noord;geen-adres;;;\n"
)


def log_in(page: Page, base_url: str, language: str = "nl") -> User:
    admin = User.objects.create_superuser("beheer", "beheer@example.org", "Beheer-Wachtwoord1!")
    client = Client()
    client.force_login(admin)
    cookies = [
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": base_url},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url},
    ]  # fmt: skip
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    return admin


def csv_file(name: str, text: str) -> FilePayload:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def shoot(page: Page, name: str) -> None:
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def add_holder_in_browser(page: Page, base_url: str, name: str = "C. Bakker") -> None:
    page.goto(f"{base_url}/admin/enrollment/holder/add/")
    page.fill("#id_display_name", name)
    page.select_option("#id_organisation", label="Zorggroep Noord")
    page.fill("#id_contact_email", "contact@noord.example")
    page.click("input[name=_save]")


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_back_office_page_has_no_axe_violations(
    page: Page, base_url: str, transactional_db: None, language: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, base_url, language)
    make_organisation("Zorggroep Noord")
    holder, _pin = issue_holder(organisation=make_organisation("Zorggroep Noord"))
    holder.issue_pin(actor="admin:beheer")
    failures: list[str] = []

    def check(name: str) -> None:
        shoot(page, f"{name}-{language}-{width}")
        found = axe_violations(page)
        if found:
            failures.append(f"{name} ({page.url}):\n{describe(found)}")
        failures.extend(f"{name}: {broken}" for broken in broken_idrefs(page))

    admin = f"{base_url}/admin"
    for name, url in [
        ("index", f"{admin}/"),
        ("holders", f"{admin}/enrollment/holder/"),
        ("holder-add", f"{admin}/enrollment/holder/add/"),
        ("holder-change", f"{admin}/enrollment/holder/{holder.pk}/change/"),
        ("organisation-add", f"{admin}/enrollment/organisation/add/"),
        ("import", f"{admin}/enrollment/holder/import/"),
        ("audit-log", f"{admin}/audit/auditentry/"),
        ("audit-entry", f"{admin}/audit/auditentry/{AuditEntry.objects.first().pk}/change/"),  # type: ignore[union-attr]
    ]:
        page.goto(url)
        check(name)

    page.goto(f"{admin}/enrollment/holder/add/")
    page.click("input[name=_save]")  # nothing filled in: every error at once
    check("holder-add-errors")

    add_holder_in_browser(page, base_url)
    check("pin-page")

    page.goto(f"{admin}/enrollment/holder/import/")
    page.set_input_files("#csv_file", files=csv_file("fout.csv", CSV))
    page.click("input[type=submit].default")
    check("import-errors")

    good = CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n"
    page.goto(f"{admin}/enrollment/holder/import/")
    page.set_input_files("#csv_file", files=csv_file("goed.csv", good))
    page.click("input[type=submit].default")
    check("import-check")

    assert not failures, "\n".join(failures)


def test_reloading_after_add_holder_creates_no_second_holder(
    page: Page, base_url: str, transactional_db: None
) -> None:
    log_in(page, base_url)
    make_organisation("Zorggroep Noord")
    add_holder_in_browser(page, base_url)
    pin = page.locator(".pin-secret").inner_text()
    assert len(pin) == 8 and Holder.objects.count() == 1

    page.reload()  # the PIN page is a GET: nothing is sent again, and the PIN is gone
    expect(page.locator(".errornote")).to_contain_text("worden niet opnieuw getoond")
    assert Holder.objects.count() == 1
    assert pin not in page.content()
    assert "worden niet opnieuw getoond" in page.content()

    page.go_back()  # the add form again, drawn anew, the fields as they were
    page.click("input[name=_save]")
    expect(page.locator(".errorlist.nonfield")).to_contain_text("bestaat al, gebruikersnummer")
    assert Holder.objects.count() == 1
    shoot(page, "holder-add-duplicate-nl-1280")


def test_a_double_confirmed_import_imports_once(
    page: Page, base_url: str, transactional_db: None, eager_tasks: None
) -> None:
    log_in(page, base_url)
    good = CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n"
    page.goto(f"{base_url}/admin/enrollment/holder/import/")
    page.set_input_files("#csv_file", files=csv_file("goed.csv", good))
    page.click("input[type=submit].default")
    # Two confirmations at once, as a double click or a second tab sends them.
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector('.import-confirm');
            const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            return answers.map(answer => answer.status);
        }"""
    )
    assert statuses == [200, 200]  # both follow their redirect to the import's page
    page.goto(page.url)
    assert HolderImport.objects.get().state == "done"
    assert Holder.objects.count() == 1
    shoot(page, "import-done-nl-1280")
    page.click("text=Naar de pincodebrieven")
    assert "Brief afdrukken (PDF)" in page.content()
    shoot(page, "import-letters-nl-1280")


@pytest.mark.parametrize(("language", "width"), [("nl", 390), ("en", 1280)])
def test_a_running_import_shows_both_phases_of_its_progress(
    page: Page, base_url: str, transactional_db: None, language: str, width: int
) -> None:
    log_in(page, base_url, language)
    page.set_viewport_size({"width": width, "height": 900})
    good = CSV.splitlines()[0] + "\n" + CSV.splitlines()[1] + "\n"
    page.goto(f"{base_url}/admin/enrollment/holder/import/")
    page.set_input_files("#csv_file", files=csv_file("goed.csv", good))
    page.click("input[type=submit].default")
    # As the worker leaves it while it saves: the PINs prepared, half the holders saved.
    HolderImport.objects.update(state="running", prepared=2, total=2)
    HolderImport.objects.get().count_saved(1)
    page.reload()
    expect(page.locator("#import-progress")).to_have_attribute("value", "2")
    expect(page.locator("#import-saved")).to_have_attribute("value", "1")
    shoot(page, f"import-saving-{language}-{width}")
    found = axe_violations(page)
    assert found == [], describe(found)
    # The script follows the worker in place: the saved count moves without a reload.
    HolderImport.objects.get().count_saved(2)
    expect(page.locator("#import-saved")).to_have_attribute("value", "2", timeout=6000)
