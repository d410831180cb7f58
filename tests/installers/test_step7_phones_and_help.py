"""Step 7 on phones and tablets, the help for SmartScreen and Gatekeeper, and the page of a
system certificate (issue 17, points 2, 8 and 9)."""

from __future__ import annotations

import re
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client

from ca.models import CertificateAuthority
from core import qr
from enrollment import page_links
from enrollment.handoff import is_phone_or_tablet
from enrollment.models import Enrollment, OutgoingMail
from tests.installers.test_step7_page import MAC_UA, WINDOWS_UA, page_links_session, url

pytestmark = pytest.mark.django_db

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0 Mobile Safari/537.36"
)
# iPadOS 13+ Safari asks for desktop pages: its User-Agent is a Mac's (step7.js tells).
IPAD_DESKTOP_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)


@pytest.fixture(autouse=True)
def fresh_counts() -> None:
    """The rate limits count in the shared cache: each test starts from none."""
    cache.clear()


@pytest.fixture
def enrollment(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> Enrollment:
    return make_enrollment()


@pytest.fixture
def owner(client: Client, enrollment: Enrollment) -> Client:
    page_links_session(client, enrollment)
    return client


@pytest.fixture
def client_for_another_browser() -> Client:
    return Client()


def primary_buttons(html: str) -> list[str]:
    return re.findall(r'class="button button-primary"[^>]*>([^<]+)<', html)


@pytest.mark.parametrize("agent", [IPHONE_UA, ANDROID_UA])
def test_a_phone_is_told_to_finish_on_the_computer_and_offered_no_installer_first(
    owner: Client, enrollment: Enrollment, agent: str
) -> None:
    html = owner.get(url(enrollment), HTTP_USER_AGENT=agent).content.decode()
    handoff = re.search(r'<section id="telefoon"[^>]*>', html)
    assert handoff is not None and "hidden" not in handoff.group(0)
    assert "Rond af op uw computer" in html
    assert primary_buttons(html) == ["Mail mij de link"]
    # No system is guessed from the phone's: the computer's is chosen from all three.
    assert re.findall(r'name="platform" value="(\w+)"', html) == ["windows", "macos", "linux"]
    assert "voor macOS" not in html and "voor Windows" not in html
    # Nor does the status say to click a button the phone does not show.
    waiting = "Open deze pagina op de computer waarop u het certificaat gaat gebruiken"
    assert waiting in html and "Klik op “Start installeren”" not in html
    status = owner.get(url(enrollment, "status"), HTTP_USER_AGENT=agent).json()
    assert status["message"].startswith(waiting)
    assert "Toon de link als QR-code" in html
    # The code is an image the browser fetches when the holder opens it.
    assert f'<img src="{url(enrollment, "link-qr.svg")}"' in html and 'loading="lazy"' in html
    assert "<svg" not in html
    assert "?toegang=" in html  # the link itself, to type or scan


def test_the_qr_code_is_the_step7_link_for_this_browser_only(
    owner: Client, client_for_another_browser: Client, enrollment: Enrollment
) -> None:
    with mock.patch("django.core.signing.time.time", return_value=1_800_000_000):
        answer = owner.get(url(enrollment, "link-qr.svg"))
        expected = qr.svg(page_links.make_link(enrollment), box_size=6)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/svg+xml"
    assert answer.content.decode() == expected and expected.startswith("<svg")
    assert "no-store" in answer["Cache-Control"]  # the link opens the page: kept nowhere
    assert answer["Content-Security-Policy"] == "default-src 'none'"
    assert client_for_another_browser.get(url(enrollment, "link-qr.svg")).status_code == 404
    assert owner.post(url(enrollment, "link-qr.svg")).status_code == 405


@pytest.mark.parametrize("agent", [WINDOWS_UA, MAC_UA])
def test_a_computer_gets_the_installer_first_and_the_phone_block_hidden(
    owner: Client, enrollment: Enrollment, agent: str
) -> None:
    html = owner.get(url(enrollment), HTTP_USER_AGENT=agent).content.decode()
    handoff = re.search(r'<section id="telefoon"[^>]*>', html)
    assert handoff is not None and "hidden" in handoff.group(0)  # step7.js shows it on an iPad
    assert primary_buttons(html)[0] == "Start installeren"
    assert "Klik op “Start installeren” en open het gedownloade bestand." in html
    status = owner.get(url(enrollment, "status"), HTTP_USER_AGENT=agent).json()
    assert status["message"] == "Klik op “Start installeren” en open het gedownloade bestand."


def test_the_user_agents_of_phones_and_tablets_are_recognised() -> None:
    assert is_phone_or_tablet(IPHONE_UA) and is_phone_or_tablet(ANDROID_UA)
    ipad = "Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    assert is_phone_or_tablet(ipad)
    assert not is_phone_or_tablet(WINDOWS_UA) and not is_phone_or_tablet(MAC_UA)
    assert not is_phone_or_tablet(IPAD_DESKTOP_UA)  # the browser's job (step7.js)


def mail_form_token(html: str) -> str:
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert token is not None
    return token.group(1)


def test_the_link_is_mailed_once_per_form_in_the_pages_language(
    owner: Client, enrollment: Enrollment
) -> None:
    page = owner.get(url(enrollment), HTTP_USER_AGENT=IPHONE_UA).content.decode()
    token = mail_form_token(page)
    first = owner.post(url(enrollment, "mail-link/"), {"token": token})
    assert first.status_code == 302 and first["Location"].endswith("#telefoon")
    again = owner.post(url(enrollment, "mail-link/"), {"token": token})  # double click, reload
    assert again.status_code == 302
    mails = OutgoingMail.objects.filter(kind="page_link")
    assert mails.count() == 1
    sent = mails.get()
    assert sent.recipients == [enrollment.email]
    assert sent.subject.endswith(
        f"certificaat {enrollment.certificate_name} installeren op uw computer"
    )
    shown = owner.get(url(enrollment), HTTP_USER_AGENT=IPHONE_UA).content.decode()
    assert f"We hebben de link naar {enrollment.email} gestuurd." in shown


def test_the_mail_is_in_english_when_the_page_is(owner: Client, enrollment: Enrollment) -> None:
    owner.cookies["django_language"] = "en"
    page = owner.get(url(enrollment), HTTP_USER_AGENT=ANDROID_UA).content.decode()
    assert "Finish on your computer" in page
    owner.post(url(enrollment, "mail-link/"), {"token": mail_form_token(page)})
    sent = OutgoingMail.objects.get(kind="page_link")
    assert sent.subject.endswith(
        f"install certificate {enrollment.certificate_name} on your computer"
    )


def test_mailing_the_link_is_rate_limited_and_says_when_to_try_again(
    owner: Client, enrollment: Enrollment
) -> None:
    for _ in range(4):
        page = owner.get(url(enrollment), HTTP_USER_AGENT=IPHONE_UA).content.decode()
        owner.post(url(enrollment, "mail-link/"), {"token": mail_form_token(page)})
    assert OutgoingMail.objects.filter(kind="page_link").count() == 3
    shown = owner.get(url(enrollment), HTTP_USER_AGENT=IPHONE_UA).content.decode()
    assert re.search(r"probeer het over \d+ minuten opnieuw", shown)


def test_another_browser_cannot_mail_the_link(client: Client, enrollment: Enrollment) -> None:
    assert client.post(url(enrollment, "mail-link/"), {"token": "x"}).status_code == 404
    assert not OutgoingMail.objects.filter(kind="page_link").exists()


@pytest.mark.parametrize(
    ("language", "smartscreen", "gatekeeper"),
    [
        ("nl", "klik op “Meer informatie” en daarna op “Toch uitvoeren”", "klik op “Toch openen”"),
        ("en", "click “More info”, then “Run anyway”", "click “Open Anyway”"),
    ],
)
def test_the_page_says_what_smartscreen_and_gatekeeper_show_and_what_to_click(
    owner: Client, enrollment: Enrollment, language: str, smartscreen: str, gatekeeper: str
) -> None:
    owner.cookies["django_language"] = language
    html = owner.get(url(enrollment), HTTP_USER_AGENT=WINDOWS_UA).content.decode()
    assert smartscreen in html and gatekeeper in html


def test_a_system_certificates_page_names_the_system_and_no_browser_store(
    client: Client, make_enrollment: Callable[..., Enrollment], hierarchy: CertificateAuthority
) -> None:
    enrollment = make_enrollment(kind="system", name="Koppeling")
    page_links_session(client, enrollment)
    html = client.get(url(enrollment), HTTP_USER_AGENT=WINDOWS_UA).content.decode()
    assert "Chrome" not in html and "Firefox" not in html
    assert "<dt>Naam systeem</dt><dd>Koppeling</dd>" in html
    assert "Naam gebruiker" not in html
    assert 'data-copy="recipe"' in html and 'id="recipe"' in html


def test_a_personal_certificates_page_names_the_user(owner: Client, enrollment: Enrollment) -> None:
    html = owner.get(url(enrollment), HTTP_USER_AGENT=WINDOWS_UA).content.decode()
    assert "<dt>Naam gebruiker</dt>" in html
