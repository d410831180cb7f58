"""Chromium with the portal's certificate in its NSS database logs in through nginx, as a
holder's Chrome on Linux does: certificate, user number, password and authenticator code."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.contrib.auth.hashers import make_password
from django_otp.oath import TOTP
from playwright.sync_api import BrowserContext, Page, Playwright

from ca.models import Certificate, CertificateAuthority, RevocationReason
from ca.tasks import publish_revocations
from enrollment.models import Enrollment, Holder
from tests.enrollment.factories import issue_holder
from tests.fixtures.browser import CHROMIUM_FLAGS
from tests.fixtures.ca import certificate_of, order_for
from tests.fixtures.services import require_binary
from tests.fixtures.stack import Nginx, ServerTls

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "Zorg-Portaal7!"


def personal_certificate(
    make_enrollment: Callable[..., Enrollment],
) -> tuple[Holder, bytes, Enrollment]:
    """A holder with an issued certificate, packed as PKCS#12 the way the installer does."""
    holder, _pin = issue_holder("personal", name="A. Janssen")
    enrollment = make_enrollment(kind="personal", holder=holder)
    Enrollment.objects.filter(pk=enrollment.pk).update(password_hash=make_password(PASSWORD))
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    order_for(enrollment, csr.public_bytes(serialization.Encoding.PEM))  # signed on autocommit
    certificate = certificate_of(enrollment)
    bundle = pkcs12.serialize_key_and_certificates(
        enrollment.certificate_name.encode(),
        key,
        certificate.certificate,
        [certificate.issuer.certificate],
        serialization.NoEncryption(),
    )
    return holder, bundle, enrollment


def foreign_certificate() -> bytes:
    """A client certificate from some other CA, which the portal must not accept."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Elsewhere")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"elsewhere", key, certificate, None, serialization.NoEncryption()
    )


class ChromiumWithNss:
    """A Linux user's Chromium: an NSS database in $HOME and a rule to pick the certificate."""

    def __init__(self, folder: Path, origin: str, trusted: list[Path]) -> None:
        self.home = folder / "home"
        self.nssdb = self.home / ".pki" / "nssdb"
        self.nssdb.mkdir(parents=True)
        self.profile = folder / "profile"
        (self.profile / "Default").mkdir(parents=True)
        certutil = require_binary("certutil")
        subprocess.run([certutil, "-N", "-d", f"sql:{self.nssdb}", "--empty-password"], check=True)
        for number, ca in enumerate(trusted):
            subprocess.run(
                [
                    certutil,
                    "-A",
                    "-d",
                    f"sql:{self.nssdb}",
                    "-n",
                    f"ca-{number}",
                    "-t",
                    "C,,",
                    "-i",
                    str(ca),
                ],
                check=True,
            )
        # Without an auto-select rule Chromium waits forever for someone to pick a certificate.
        preferences: dict[str, Any] = {
            "profile": {
                "content_settings": {
                    "exceptions": {
                        "auto_select_certificate": {f"{origin},*": {"setting": {"filters": [{}]}}}
                    }
                }
            }
        }
        (self.profile / "Default" / "Preferences").write_text(json.dumps(preferences))

    def add_client_certificate(self, bundle: bytes) -> None:
        path = self.home / "client.p12"
        path.write_bytes(bundle)
        subprocess.run(
            [require_binary("pk12util"), "-i", str(path), "-d", f"sql:{self.nssdb}", "-W", ""],
            check=True,
            capture_output=True,
        )

    def open(self, playwright: Playwright) -> Iterator[BrowserContext]:
        context = playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=require_binary("chromium"),
            args=CHROMIUM_FLAGS,
            env={**os.environ, "HOME": str(self.home)},
            timeout=30_000,
            locale="nl-NL",
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def chromium(
    tmp_path: Path,
    nginx: str,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    monkeypatch: pytest.MonkeyPatch,
) -> ChromiumWithNss:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    root = hierarchy.parent
    assert root is not None
    (tmp_path / "portal-root.pem").write_text(root.pem)
    return ChromiumWithNss(
        tmp_path / "chromium", nginx, [server_tls.ca_pem, tmp_path / "portal-root.pem"]
    )


def problem_on(page: Page, url: str) -> str:
    page.goto(url)
    marker = page.locator("[data-problem]")
    return marker.get_attribute("data-problem") or "" if marker.count() else ""


def test_chromium_logs_in_with_the_certificate_password_and_authenticator_code(
    chromium: ChromiumWithNss,
    playwright: Playwright,
    nginx: str,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
) -> None:
    holder, bundle, _enrollment = personal_certificate(make_enrollment)
    chromium.add_client_certificate(bundle)
    for context in chromium.open(playwright):
        page = context.new_page()
        page.goto(f"{nginx}/inloggen/")
        page.get_by_label("Gebruikersnummer", exact=True).fill(holder.user_number)
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        # The QR code is inline SVG (core.qr), drawn and shown, next to the key to type.
        assert page.locator(".qr svg").is_visible()
        key_text = page.locator("code.secret").inner_text().replace(" ", "")
        secret = base64.b32decode(key_text + "=" * (-len(key_text) % 8))
        page.get_by_label("Code uit uw authenticatie-app").fill(f"{TOTP(secret).token():06d}")
        page.get_by_role("button", name="Bevestigen").click()
        page.get_by_role("heading", name="Mijn certificaten").wait_for()
        assert holder.user_number in page.content()


def test_without_a_certificate_chromium_gets_the_no_certificate_page(
    chromium: ChromiumWithNss, playwright: Playwright, nginx: str
) -> None:
    for context in chromium.open(playwright):
        assert problem_on(context.new_page(), f"{nginx}/inloggen/") == "none"


def test_a_certificate_of_another_ca_is_not_accepted(
    chromium: ChromiumWithNss, playwright: Playwright, nginx: str
) -> None:
    chromium.add_client_certificate(foreign_certificate())
    for context in chromium.open(playwright):
        # Chromium offers only certificates of the CAs nginx names, so none is presented.
        assert problem_on(context.new_page(), f"{nginx}/inloggen/") == "none"


def test_a_revoked_certificate_is_refused_by_nginx_from_the_crl_with_the_revoked_page(
    chromium: ChromiumWithNss,
    playwright: Playwright,
    nginx_server: Nginx,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    hierarchy: CertificateAuthority,
) -> None:
    _holder, bundle, enrollment = personal_certificate(make_enrollment)
    certificate = certificate_of(enrollment)
    certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="test")
    publish_revocations(hierarchy.pk)
    nginx_server.refresh_crls()
    # The portal's own database check is out of the way: only nginx's CRL check can refuse it.
    Certificate.objects.filter(pk=certificate.pk).update(revoked_at=None, revocation_reason="")
    chromium.add_client_certificate(bundle)
    for context in chromium.open(playwright):
        assert problem_on(context.new_page(), f"{nginx_server.url}/inloggen/") == "revoked"
