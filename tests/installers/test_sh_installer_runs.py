"""The Linux and macOS installers run as a holder runs them, against a stand-in portal.

The real scripts with the real openssl, curl, certutil and pk12util (Linux); on macOS only
`security` is a stand-in (it is not on Linux). The stand-in portal signs the CSR with a
throwaway CA baked into the installer, so the scripts verify, package and install a real
certificate. What is read here is what the holder reads: one language per run (the
enrollment's), a next step after every failure, and a last line that says what to do now.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.test import override_settings

from enrollment import installers
from enrollment.models import Enrollment
from tests.fixtures.services import require_binary

CODE = "T3st-install-code_0123456789abcdefghijklmnopqrstu"


@dataclass
class StandInPortal:
    """Answers the installer API: each path's queue of (status, body); the last repeats.
    A 202 to the CSR signs it, so that /api/v1/certificate then returns the chain."""

    ca_key: ec.EllipticCurvePrivateKey  # the issuing CA's, below the root
    root: x509.Certificate
    issuing: x509.Certificate
    answers: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    certificate_pem: bytes = b""
    languages: list[str] = field(default_factory=list)

    def answer(self, path: str, body: bytes) -> tuple[int, bytes, str]:
        queue = self.answers.get(path, [(404, {"code": "not_found", "message": "?"})])
        status, data = queue.pop(0) if len(queue) > 1 else queue[0]
        if path == "/api/v1/csr" and status == 202:
            self.certificate_pem = self.sign(x509.load_pem_x509_csr(body))
        if path == "/api/v1/certificate" and status == 200:
            return 200, self.certificate_pem, "application/pem-certificate-chain"
        return status, json.dumps(data).encode(), "application/json"

    def sign(self, csr: x509.CertificateSigningRequest) -> bytes:
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.issuing.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .sign(self.ca_key, hashes.SHA256())
        )
        return certificate.public_bytes(Encoding.PEM) + self.issuing.public_bytes(Encoding.PEM)


def happy(portal: StandInPortal) -> None:
    portal.answers = {
        "/api/v1/csr": [(202, {"status": "csr_received"})],
        "/api/v1/status": [(200, {"status": "issued"})],
        "/api/v1/certificate": [(200, {})],
        "/api/v1/tls-check": [(200, {"status": "installed"})],
    }


@pytest.fixture
def portal() -> Iterator[tuple[StandInPortal, str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Stand-in Root CA")])
    now = datetime.datetime.now(datetime.UTC)
    root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Stand-in CA")]))
        .issuer_name(name)
        .public_key(issuing_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    stand_in = StandInPortal(issuing_key, root, issuing)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stand_in.languages.append(self.headers.get("Accept-Language", ""))
            status, data, content_type = stand_in.answer(self.path.split("?")[0], body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stand_in, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def installer(
    portal: tuple[StandInPortal, str],
    platform: str,
    language: str,
    tmp_path: Path,
    kind: str = "personal",
) -> Path:
    stand_in, url = portal
    enrollment = Enrollment(
        kind=kind,
        certificate_name="AB12",
        expires_at=datetime.datetime(2030, 1, 31, 12, 5, tzinfo=datetime.UTC),
    )
    root_pem = stand_in.root.public_bytes(Encoding.PEM).decode()
    with override_settings(PORTAL_URL=url, PORTAL_NAME="Zorgportaal"):
        script = installers.render_installer(enrollment, platform, CODE, root_pem, language)
    path = tmp_path / f"installeer-AB12.{installers.PLATFORMS[platform].extension}"
    path.write_bytes(script)
    return path


def run(
    script: Path, tmp_path: Path, *args: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environment = {
        "PATH": path or os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
    }
    return subprocess.run(
        ["/bin/sh", str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=environment,
        stdin=subprocess.DEVNULL,
    )


def last_line(text: str) -> str:
    return text.rstrip().splitlines()[-1]


@pytest.fixture
def linux_tools() -> None:
    for tool in ("openssl", "curl", "certutil", "pk12util"):
        require_binary(tool)


LAST_LINE = {
    "nl": 'Wat nu: sluit uw browser helemaal af en open hem opnieuw. Ga naar {url} en kies het certificaat "AB12" als de browser erom vraagt.',
    "en": 'What now: close your browser completely and open it again. Go to {url} and choose the certificate named "AB12" when the browser asks.',
}  # fmt: skip
STEPS = {
    "nl": ["[1/5] Sleutel maken op deze computer", "[2/5] Aanvraag versturen", "[5/5] Controleren bij het portaal", 'Klaar: het certificaat "AB12" is geïnstalleerd.'],
    "en": ["[1/5] Making the key on this computer", "[2/5] Sending the request", "[5/5] Checking with the portal", 'Done: the certificate "AB12" is installed.'],
}  # fmt: skip


@pytest.mark.usefixtures("linux_tools")
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_linux_installer_installs_in_the_holders_language_and_ends_with_what_to_do_now(
    portal: tuple[StandInPortal, str], tmp_path: Path, language: str
) -> None:
    stand_in, url = portal
    happy(stand_in)
    result = run(installer(portal, "linux", language, tmp_path), tmp_path, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    for line in STEPS[language]:
        assert line in result.stdout
    assert last_line(result.stdout) == LAST_LINE[language].format(url=url)
    other = STEPS["en" if language == "nl" else "nl"]
    assert not any(line in result.stdout + result.stderr for line in other)
    assert set(stand_in.languages) == {language}  # the portal's messages in the same language
    listing = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{tmp_path}/home/.pki/nssdb"], capture_output=True, text=True
    )
    assert "AB12" in listing.stdout


@pytest.mark.usefixtures("linux_tools")
def test_a_system_certificate_ends_with_the_software_not_the_browser(
    portal: tuple[StandInPortal, str], tmp_path: Path
) -> None:
    happy(portal[0])
    script = installer(portal, "linux", "nl", tmp_path, kind="system")
    result = run(script, tmp_path, "--yes", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert last_line(result.stdout).startswith(
        'Wat nu: het certificaat "AB12" staat klaar voor uw software.'
    )
    assert "Bestanden: " in result.stdout and (tmp_path / "out" / "key.pem").exists()


CONFLICT = {
    "nl": 'FOUT: Het certificaat van deze aanvraag is al gemaakt voor een andere sleutel, op een andere computer of bij een eerdere poging. Dit bestand kan het niet meer installeren. Ga naar de pagina van stap 7, de link staat in uw e-mail, of naar stap 1, en kies "Opnieuw installeren".',
    "en": 'ERROR: The certificate of this registration was already made for another key, on another computer or in an earlier attempt. This file can no longer install it. Go to the step 7 page, the link is in your e-mail, or to step 1, and choose "Install again".',
}  # fmt: skip


@pytest.mark.usefixtures("linux_tools")
@pytest.mark.parametrize("platform", ["linux", "macos"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_certificate_issued_for_another_key_tells_the_holder_to_install_again(
    portal: tuple[StandInPortal, str],
    tmp_path: Path,
    language: str,
    platform: str,
    security_stand_in: Callable[[], str],
) -> None:
    stand_in, _url = portal
    message = {
        "nl": "Het certificaat is uitgegeven voor een andere sleutel.",
        "en": "Issued for another key.",
    }
    stand_in.answers = {
        "/api/v1/csr": [(409, {"code": "already_issued", "message": message[language]})]
    }
    script = installer(portal, platform, language, tmp_path)
    result = run(
        script, tmp_path, "--yes", path=security_stand_in() if platform == "macos" else None
    )
    assert result.returncode == 1
    assert message[language] in result.stderr  # the portal's own words, in the same language
    assert last_line(result.stderr) == CONFLICT[language]


@pytest.fixture
def security_stand_in(tmp_path: Path) -> Callable[[], str]:
    """A PATH with a `security` that succeeds (macOS's keychain tool is not on Linux)."""

    def make() -> str:
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        tool = folder / "security"
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
        return f"{folder}:{os.environ['PATH']}"

    return make


@pytest.mark.usefixtures("linux_tools")
@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_macos_installer_speaks_the_holders_language_and_ends_with_what_to_do_now(
    portal: tuple[StandInPortal, str],
    tmp_path: Path,
    language: str,
    security_stand_in: Callable[[], str],
) -> None:
    stand_in, url = portal
    happy(stand_in)
    script = installer(portal, "macos", language, tmp_path)
    result = run(script, tmp_path, path=security_stand_in())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.rstrip().splitlines()
    # The Terminal window stays open until Enter; the line before says what to do now.
    assert (
        lines[-1]
        == {
            "nl": "Druk op Enter om dit venster te sluiten.",
            "en": "Press Enter to close this window.",
        }[language]
    )
    assert lines[-2] == LAST_LINE[language].format(url=url)
    assert {
        "nl": "[4/5] Installeren in uw sleutelhanger",
        "en": "[4/5] Installing into your login keychain",
    }[language] in lines


@pytest.mark.parametrize(
    ("platform", "language", "expected"),
    [
        ("linux", "nl", "FOUT: certutil ontbreekt. Installeer het eerst, op Debian of Ubuntu met: sudo apt install openssl curl libnss3-tools. Start daarna dit bestand opnieuw."),
        ("linux", "en", "ERROR: certutil is missing. Install it first, on Debian or Ubuntu with: sudo apt install openssl curl libnss3-tools. Then run this file again."),
        ("macos", "nl", "FOUT: security ontbreekt op deze Mac. Vraag uw beheerder om hulp, of installeer op een andere computer."),
        ("macos", "en", "ERROR: security is missing on this Mac. Ask your administrator for help, or install on another computer."),
    ],
)  # fmt: skip
def test_a_missing_tool_is_named_with_what_to_do(
    portal: tuple[StandInPortal, str], tmp_path: Path, platform: str, language: str, expected: str
) -> None:
    bin_folder = tmp_path / "tools"
    bin_folder.mkdir()
    for tool in ("openssl", "curl", "mktemp", "rm", "date", "sed", "head", "cat"):
        if (found := require_binary(tool)) is not None:
            (bin_folder / tool).symlink_to(found)
    script = installer(portal, platform, language, tmp_path)
    result = run(script, tmp_path, "--yes", path=str(bin_folder))
    assert result.returncode == 1
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", ["FOUT: Onbekende optie: --bogus. Zie sh installeer-AB12.sh --help", "FOUT: Dit draait niet in een terminal. Voeg --yes toe om zonder vragen te installeren: sh installeer-AB12.sh --yes"]),
        ("en", ["ERROR: Unknown option: --bogus. See sh installeer-AB12.sh --help", "ERROR: This is not running in a terminal. Add --yes to install without asking: sh installeer-AB12.sh --yes"]),
    ],
)  # fmt: skip
def test_the_linux_installers_own_refusals_say_what_to_type(
    portal: tuple[StandInPortal, str], tmp_path: Path, language: str, expected: list[str]
) -> None:
    require_binary("certutil")
    script = installer(portal, "linux", language, tmp_path)
    assert last_line(run(script, tmp_path, "--bogus").stderr) == expected[0]
    assert last_line(run(script, tmp_path).stderr) == expected[1]
    usage = run(script, tmp_path, "--help").stdout
    assert usage.startswith(
        {
            "nl": 'Zorgportaal: installatie van certificaat "AB12"',
            "en": 'Zorgportaal: installing certificate "AB12"',
        }[language]
    )
