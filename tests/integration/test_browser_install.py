"""One holder, as a person does it: steps 1 to 7 in headless Chromium, "Start installeren",
run the downloaded installer, and watch the page turn to "installed" by itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ca.models import CertificateAuthority
from enrollment.models import Enrollment
from tests.browser.wizard_pages import Wizard
from tests.enrollment.factories import issue_holder, make_policy
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_person_enrolls_installs_and_sees_installed_on_the_page(
    page: Page,
    live_server: Any,
    nginx: str,
    workers: Any,
    hierarchy: CertificateAuthority,
    tmp_path: Path,
) -> None:
    require_binary("certutil")
    workers.start("browser-worker")
    make_policy()
    holder, pin = issue_holder("personal", name="A. Janssen")

    wizard = Wizard(page, live_server.url)
    wizard.open_landing()
    wizard.choose("personal")
    wizard.fill_user_data(holder.user_number, pin)
    wizard.fill_email("a.janssen@example.org")
    wizard.fill_certificate_name("BROWSER")
    wizard.fill_password()
    wizard.agree()
    wizard.expect_step(7)
    expect(page.get_by_text("Wachten op de installatiesoftware").first).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Start installeren").click()
    script = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(script)
    assert script.name.endswith(".sh")  # Chromium on Linux gets the Linux installer first

    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        ["sh", str(script), "--yes"],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env={"PATH": os.environ["PATH"], "HOME": str(home)},
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{workers.logs()}"

    # The page follows the enrollment by itself: no reload.
    status = page.locator("[data-status-label]")
    expect(status).to_have_text("Installatie bevestigd", timeout=20_000)
    assert Enrollment.objects.get(holder=holder).status == "installed"
