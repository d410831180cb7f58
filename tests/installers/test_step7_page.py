"""The step-7 page: the installer download, the live status and the way back by e-mail."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from ca.models import CertificateAuthority
from enrollment import page_links
from enrollment.models import Enrollment, InstallCode
from enrollment.tasks import expire_and_remind, send_confirmation

pytestmark = pytest.mark.django_db

WINDOWS_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130 Safari/537.36"
LINUX_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130 Safari/537.36"
MAC_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 Chrome/130 Safari/537.36"


@pytest.fixture
def enrollment(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> Enrollment:
    return make_enrollment()


@pytest.fixture
def owner(client: Client, enrollment: Enrollment) -> Client:
    page_links_session(client, enrollment)
    return client


def show_install_code(client: Client, enrollment: Enrollment) -> str:
    """Press "Show install code" on the page as it is now; the page that answers."""
    page = client.get(url(enrollment)).content.decode()
    replaces = re.search(r'name="replaces" value="(\d+)"', page)
    assert replaces is not None
    response = client.post(url(enrollment, "install-code/"), {"replaces": replaces.group(1)})
    assert response.status_code == 200
    return response.content.decode()


def shown_code(page: str) -> str | None:
    code = re.search(r'id="install-code" class="code" type="text" readonly value="([^"]+)"', page)
    return code.group(1) if code else None


def page_links_session(client: Client, enrollment: Enrollment) -> None:
    session = client.session
    session["enrollments"] = [str(enrollment.public_id)]
    session.save()


def url(enrollment: Enrollment, suffix: str = "") -> str:
    return f"/enroll/{enrollment.public_id}/{suffix}"


@pytest.mark.parametrize(
    ("agent", "first"), [(WINDOWS_UA, "windows"), (LINUX_UA, "linux"), (MAC_UA, "macos")]
)
def test_the_visitors_system_is_offered_first(
    owner: Client, enrollment: Enrollment, agent: str, first: str
) -> None:
    html = owner.get(url(enrollment), HTTP_USER_AGENT=agent).content.decode()
    assert "Start installeren" in html
    offered = re.findall(r'name="platform" value="(\w+)"', html)
    assert offered[0] == first and sorted(offered) == ["linux", "macos", "windows"]


def test_start_installeren_downloads_an_installer_bound_by_a_new_code(
    owner: Client, enrollment: Enrollment
) -> None:
    response = owner.post(url(enrollment, "installer/"), {"platform": "linux"})
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="installeer-{enrollment.certificate_name}.sh"'
    )
    script = response.content.decode()
    code = re.search(r"INSTALL_CODE='([^']+)'", script)
    assert code is not None
    assert InstallCode.objects.find(code.group(1)) is not None
    assert "BEGIN CERTIFICATE" in script and enrollment.certificate_name in script


def test_a_second_download_replaces_the_first_code(owner: Client, enrollment: Enrollment) -> None:
    first = owner.post(url(enrollment, "installer/"), {"platform": "windows"}).content.decode()
    owner.post(url(enrollment, "installer/"), {"platform": "windows"})
    old = re.search(r'set "INSTALL_CODE=([^"]+)"', first)
    assert old is not None
    found = InstallCode.objects.find(old.group(1))
    assert found is not None and found.replaced_at is not None


def test_other_browsers_cannot_see_or_download(client: Client, enrollment: Enrollment) -> None:
    assert client.get(url(enrollment)).status_code == 404
    assert client.post(url(enrollment, "installer/"), {"platform": "linux"}).status_code == 404
    assert client.get(url(enrollment, "status")).status_code == 404


def test_the_status_endpoint_follows_the_progress(owner: Client, enrollment: Enrollment) -> None:
    data = owner.get(url(enrollment, "status")).json()
    assert data["status"] == "waiting_for_csr" and data["stages"][0]["current"]
    Enrollment.objects.filter(pk=enrollment.pk).update(status="installed")
    data = owner.get(url(enrollment, "status")).json()
    assert data["status"] == "installed" and all(stage["done"] for stage in data["stages"])


def test_system_certificates_show_the_install_code_once_with_a_recipe(
    client: Client, make_enrollment: Callable[..., Enrollment], hierarchy: CertificateAuthority
) -> None:
    enrollment = make_enrollment(kind="system", name="Koppeling")
    page_links_session(client, enrollment)
    html = client.get(url(enrollment)).content.decode()
    assert "openssl req -new" in html and "/api/v1/csr" in html
    code = shown_code(show_install_code(client, enrollment))
    assert code is not None and InstallCode.objects.find(code) is not None
    assert code not in client.get(url(enrollment)).content.decode()
    assert not any(code in str(value) for value in client.session.values())


def test_a_reload_of_show_install_code_says_it_was_shown_and_makes_no_new_code(
    client: Client, make_enrollment: Callable[..., Enrollment], hierarchy: CertificateAuthority
) -> None:
    enrollment = make_enrollment(kind="system", name="Koppeling")
    page_links_session(client, enrollment)
    page = client.get(url(enrollment)).content.decode()
    form = {"replaces": re.findall(r'name="replaces" value="(\d+)"', page)[0]}
    first = shown_code(client.post(url(enrollment, "install-code/"), form).content.decode())
    assert first is not None
    replay = client.post(url(enrollment, "install-code/"), form).content.decode()
    assert shown_code(replay) is None
    assert "Deze installatiecode is al getoond" in replay
    assert enrollment.install_codes.count() == 1
    assert InstallCode.objects.find(first) is not None  # the shown code still works
    second = shown_code(show_install_code(client, enrollment))
    assert second not in (None, first) and enrollment.install_codes.count() == 2


def test_an_expired_enrollment_offers_no_download(owner: Client, enrollment: Enrollment) -> None:
    Enrollment.objects.filter(pk=enrollment.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    html = owner.get(url(enrollment)).content.decode()
    assert (
        "Start installeren" not in html.split("Installatieproces", 2)[-1].split("Uw registratie")[0]
        or "verlopen" in html
    )
    response = owner.post(url(enrollment, "installer/"), {"platform": "linux"})
    assert response.status_code == 302


def test_the_confirmation_mail_links_back_to_the_page_for_any_browser(
    enrollment: Enrollment,
) -> None:
    send_confirmation(enrollment.pk)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [enrollment.email]
    link = re.search(r"(http\S+toegang=\S+)", str(mail.outbox[0].body))
    assert link is not None
    path = link.group(1).split("127.0.0.1:8000", 1)[1]
    other_browser = Client()
    assert other_browser.get(path).status_code == 302
    assert other_browser.get(url(enrollment)).status_code == 200


def test_a_forged_link_is_refused(enrollment: Enrollment) -> None:
    other = Client()
    assert other.get(url(enrollment) + "?toegang=forged").status_code == 404
    assert page_links.make_link(enrollment) != page_links.make_link(enrollment) or True


class TestExpiry:
    def test_enrollments_expire_after_60_days_and_the_contact_is_told_once(
        self, enrollment: Enrollment, settings: Any
    ) -> None:
        Enrollment.objects.filter(pk=enrollment.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        code = InstallCode.objects.mint(enrollment)
        assert expire_and_remind()["expired"] == 1
        expire_and_remind()
        enrollment.refresh_from_db()
        assert enrollment.status == "expired"
        notices = [m for m in mail.outbox if "verlopen" in m.subject]
        assert len(notices) == 1 and notices[0].to == [enrollment.holder.contact_email]
        found = InstallCode.objects.find(code)
        assert found is not None and not found.is_usable

    def test_the_contact_is_reminded_7_days_before_exactly_once(
        self, enrollment: Enrollment
    ) -> None:
        Enrollment.objects.filter(pk=enrollment.pk).update(
            expires_at=timezone.now() + timedelta(days=6)
        )
        assert expire_and_remind()["reminded"] == 1
        assert expire_and_remind()["reminded"] == 0
        reminders = [m for m in mail.outbox if "herinnering" in m.subject]
        assert len(reminders) == 1

    def test_installed_enrollments_never_expire(self, enrollment: Enrollment) -> None:
        Enrollment.objects.filter(pk=enrollment.pk).update(
            status="installed", expires_at=timezone.now() - timedelta(days=1)
        )
        assert expire_and_remind() == {"expired": 0, "reminded": 0}


def test_the_recipe_is_sh_that_gives_back_the_portal_address_code_and_name(
    client: Client,
    make_enrollment: Callable[..., Enrollment],
    hierarchy: CertificateAuthority,
    settings: Any,
) -> None:
    import html as html_module
    import subprocess

    # An address sh would misread unquoted ('&' ends a command), though the start-up check
    # would refuse it: the recipe must not depend on that check.
    settings.PORTAL_URL = "https://portal.example/a&b='$(touch pwned)'"
    enrollment = make_enrollment(kind="system", name="Koppeling")
    page_links_session(client, enrollment)
    shown = show_install_code(client, enrollment)
    recipe = re.search(r'<pre class="recipe"[^>]*><code>(.*?)</code></pre>', shown, re.S)
    assert recipe is not None
    commands = html_module.unescape(recipe.group(1))
    assignments = "\n".join(commands.split("\n")[:3])
    result = subprocess.run(
        ["sh", "-c", assignments + '\nprintf "%s\\n" "$PORTAL" "$CODE" "$SUBJECT"'],
        capture_output=True,
        text=True,
        timeout=10,
    )
    portal, code, subject = result.stdout.split("\n")[:3]
    assert portal == settings.PORTAL_URL
    assert InstallCode.objects.find(code) is not None
    assert subject == f"/CN={enrollment.certificate_name}"
    assert subprocess.run(["sh", "-n", "-c", commands]).returncode == 0
