"""The README's demo, against `make run` itself: a person enrolls in Chromium, runs the Linux
installer, sees "installed", restarts the browser (which now trusts the portal through the
installed root and presents the installed certificate), logs in with certificate, password
and authenticator code, sees the dashboard and the organisation page, renews, revokes the
spare certificate, and logs out.

`make run` runs as the README says, from this working tree, with a state folder (VAR_DIR)
and ports of its own and none of the test settings' environment.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.browser.wizard_pages import PASSWORD, Wizard
from tests.fixtures.browser import CHROMIUM_FLAGS
from tests.fixtures.services import require_binary
from tests.stack_ports import free_port

ROOT = Path(__file__).resolve().parents[2]
# The README's second picture, taken where the demo shows it. A test run keeps the tree
# clean: the picture is replaced only when asked (UPDATE_README_SCREENSHOT=1).
README_SCREENSHOT = ROOT / "docs" / "screenshot-dashboard.png"
START_TIMEOUT = 180  # a first start in a new VAR_DIR: migrations, CA keys, TLS certificate
READY_LINE = "Portaal / portal:"
# What the test process must not hand to `make run`: its own settings and services.
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "CI", "TMPDIR")


@dataclass
class Demo:
    """A running `make run` and what it printed."""

    process: subprocess.Popen[str]
    log: Path
    url: str
    http_url: str
    var_dir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def holder(self, kind: str) -> tuple[str, str]:
        label = "persoonlijk certificaat" if kind == "personal" else "systeemcertificaat"
        found = re.search(rf"{label}\s+.+?gebruikersnummer (\d+)\s+pincode (\d+)", self.output())
        assert found, self.output()
        return found.group(1), found.group(2)

    def authenticator_code(self) -> str:
        found = re.search(r"otpauth://totp/\S+\?secret=([A-Z2-7]+)", self.output())
        assert found, self.output()
        key = found.group(1)
        secret = base64.b32decode(key + "=" * (-len(key) % 8))
        return f"{TOTP(secret).token():06d}"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    make = require_binary("make")
    for program in ("openssl", "curl", "certutil", "pk12util"):
        require_binary(program)
    http_port, https_port = free_port(), free_port()
    var_dir = tmp_path / "var"
    env = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    env.update(
        HOME=str(tmp_path / "make-home"),
        PORT=str(http_port),
        HTTPS_PORT=str(https_port),
        VAR_DIR=str(var_dir),
        # The captcha's test answer, as every browser test of the wizard uses.
        CAPTCHA_TEST_MODE="1",
    )
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [make, "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
    running = Demo(
        process,
        log,
        f"https://127.0.0.1:{https_port}",
        f"http://127.0.0.1:{http_port}",
        var_dir,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while READY_LINE not in running.output():
            assert process.poll() is None, f"make run stopped:\n{running.output()}"
            assert time.monotonic() < deadline, f"make run not ready:\n{running.output()}"
            time.sleep(0.5)
        yield running
    finally:
        # Ctrl-C, as the README says: the whole group (make, the portal, the worker).
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class LinuxUser:
    """A person's Chromium on Linux: $HOME with the NSS database the installer fills."""

    def __init__(self, folder: Path, origin: str) -> None:
        self.home = folder / "home"
        self.home.mkdir(parents=True)
        self.profile = folder / "profile"
        (self.profile / "Default").mkdir(parents=True)
        # Chromium asks which certificate to present unless told; a person clicks it.
        preferences: dict[str, object] = {
            "profile": {
                "content_settings": {
                    "exceptions": {
                        "auto_select_certificate": {f"{origin},*": {"setting": {"filters": [{}]}}}
                    }
                }
            }
        }
        (self.profile / "Default" / "Preferences").write_text(json.dumps(preferences))

    def browser(self, playwright: Playwright, *, untrusted_ok: bool = False) -> BrowserContext:
        context = playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=require_binary("chromium"),
            args=CHROMIUM_FLAGS,
            env={**os.environ, "HOME": str(self.home)},
            timeout=30_000,
            locale="nl-NL",
            # Before the installer the portal's root is unknown: the person accepts the
            # browser's warning once, as the README says.
            ignore_https_errors=untrusted_ok,
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        return context

    def run_installer(self, page: Page, folder: Path) -> subprocess.CompletedProcess[str]:
        with page.expect_download() as download:
            page.get_by_role("button", name="Start installeren").click()
        script = folder / download.value.suggested_filename
        download.value.save_as(script)
        return subprocess.run(
            ["sh", str(script), "--yes"],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
            env={"PATH": os.environ["PATH"], "HOME": str(self.home)},
        )


def plain_http(url: str) -> tuple[int, str]:
    """Status and Location of a GET, redirects not followed."""
    parsed = urlsplit(url)
    connection = http.client.HTTPConnection(parsed.netloc, timeout=10)
    try:
        connection.request("GET", f"{parsed.path}?{parsed.query}" if parsed.query else parsed.path)
        response = connection.getresponse()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def expect_installed(page: Page, result: subprocess.CompletedProcess[str], demo: Demo) -> None:
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{demo.output()}"
    assert "Klaar: het certificaat" in result.stdout, result.stdout
    expect(page.locator("[data-status-label]")).to_have_text(
        "Installatie bevestigd", timeout=30_000
    )


def test_the_readme_demo_enrolls_installs_logs_in_renews_and_logs_out_over_https(
    demo: Demo, playwright: Playwright, tmp_path: Path
) -> None:
    user_number, pin = demo.holder("personal")
    person = LinuxUser(tmp_path / "person", demo.url)

    # Enrolling: the wizard, step 7, the installer, and the page turns to "installed".
    context = person.browser(playwright, untrusted_ok=True)
    try:
        page = context.new_page()
        wizard = Wizard(page, demo.url)
        wizard.open_landing()
        wizard.choose("personal")
        wizard.fill_user_data(user_number, pin)
        wizard.fill_email("a.janssen@example.org")
        wizard.fill_certificate_name("DEMO")
        wizard.fill_password()
        wizard.agree()
        wizard.expect_step(7)
        expect_installed(page, person.run_installer(page, tmp_path), demo)
    finally:
        context.close()

    # A new browser: the installed root makes the portal trusted, the certificate logs in.
    context = person.browser(playwright)
    try:
        page = context.new_page()
        page.goto(f"{demo.url}/inloggen/")
        page.get_by_label("Gebruikersnummer", exact=True).fill(user_number)
        page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
        page.get_by_label("Code uit uw authenticatie-app").fill(demo.authenticator_code())
        page.get_by_role("button", name="Inloggen").click()
        expect(page.get_by_role("heading", name="Mijn certificaten")).to_be_visible()
        expect(page.get_by_text(user_number).first).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 900})
        update = os.environ.get("UPDATE_README_SCREENSHOT") == "1"
        page.screenshot(path=README_SCREENSHOT if update else tmp_path / "dashboard.png")

        # The demo holder is the demo organisation's contact person.
        page.get_by_role("link", name="Mijn organisatie").click()
        expect(page.get_by_text("Demo Koppeling").first).to_be_visible()
        page.go_back()

        # Renewing: the wizard without the PIN, then step 7 and the installer once more.
        page.get_by_role("link", name="Certificaat vernieuwen").click()
        renewal = Wizard(page, demo.url)
        renewal.fill_email("a.janssen@example.org")
        renewal.fill_certificate_name("NIEUW")
        renewal.fill_password()
        renewal.agree()
        renewal.expect_step(7)
        expect_installed(page, person.run_installer(page, tmp_path), demo)

        # Revoking the certificate that this session does not stand on.
        page.goto(f"{demo.url}/mijn/")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        spare = rows.filter(has_not_text="in gebruik")
        spare.get_by_role("link", name="Intrekken").click()
        page.get_by_role("radio").first.check()
        page.get_by_role("checkbox").check()
        page.get_by_role("button", name="Certificaat intrekken").click()
        expect(page.get_by_role("heading", name="Mijn certificaten")).to_be_visible()
        expect(rows.filter(has_text="ingetrokken")).to_have_count(1)

        page.get_by_role("button", name="Uitloggen").click()
        expect(page.get_by_role("heading", name="Uitgelogd")).to_be_visible()
    finally:
        context.close()

    # Plain HTTP serves what relying parties fetch and sends everything else to HTTPS.
    assert plain_http(f"{demo.http_url}/ca/")[0] == 200
    status, location = plain_http(f"{demo.http_url}/inloggen/?next=x")
    assert (status, location) == (301, f"{demo.url}/inloggen/?next=x")

    # A calm console: no warning that start-up resolves itself, mail as one line each.
    output = demo.output()
    assert "enrollment.W001" not in output
    assert "[mail] aan / to" in output
    assert list((demo.var_dir / "mail").glob("*.eml"))


def curl_est(
    demo: Demo, operation: str, folder: Path, *extra: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """An EST request to `make run`'s HTTPS, trusting its root as a supplier's software would;
    repeated while the answer is 202 (a worker signs)."""
    argv = [require_binary("curl"), "--silent", "--max-time", "30"]
    argv += ["--cacert", str(demo.var_dir / "tls" / "root.pem"), *extra]
    if body is not None:
        (folder / "request.b64").write_bytes(body)
        argv += [
            "-H",
            "Content-Type: application/pkcs10",
            "--data-binary",
            f"@{folder / 'request.b64'}",
        ]
    argv += [
        "-o",
        str(folder / "answer"),
        "-w",
        "%{http_code}",
        f"{demo.url}/.well-known/est/{operation}",
    ]
    deadline = time.monotonic() + 180
    while True:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
        if result.stdout != "202" or time.monotonic() > deadline:
            return int(result.stdout), (folder / "answer").read_bytes()
        time.sleep(2)  # the Retry-After of a 202


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True).stdout


def new_ec_key(path: Path) -> None:
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))


def base64_der(request_pem: bytes) -> bytes:
    """A PEM request as EST sends it: base64 of the DER."""
    return base64.encodebytes(openssl("req", "-outform", "DER", input=request_pem))


def pem_of(folder: Path, answer: bytes) -> bytes:
    """An EST answer (base64 certs-only PKCS#7) as PEM, with openssl."""
    (folder / "answer.b64").write_bytes(answer)
    der = openssl("base64", "-d", "-in", str(folder / "answer.b64"))
    return openssl("x509", input=openssl("pkcs7", "-inform", "DER", "-print_certs", input=der))


def test_est_enrolls_and_renews_the_demo_system_over_make_runs_https(
    demo: Demo, playwright: Playwright, tmp_path: Path
) -> None:
    """The README's EST recipe against `make run`: the demo system holder's install code from
    step 7, simpleenroll with curl, then simplereenroll with the certificate it got (the
    embedded server verifies it in the handshake; demo certificates are due at once)."""
    assert f"{demo.url}/.well-known/est/" in demo.output()  # the console says where EST is
    user_number, pin = demo.holder("system")
    browser = playwright.chromium.launch(
        executable_path=require_binary("chromium"), args=CHROMIUM_FLAGS
    )
    try:
        page = browser.new_context(ignore_https_errors=True, locale="nl-NL").new_page()
        wizard = Wizard(page, demo.url)
        wizard.open_landing()
        wizard.choose("system")
        wizard.fill_user_data(user_number, pin)
        wizard.fill_email("koppeling@example.org")
        wizard.fill_certificate_name("EST")
        wizard.agree()
        wizard.expect_step(7)
        page.get_by_role("button", name="Installatiecode tonen").click()
        code = page.get_by_label("Installatiecode", exact=True).input_value()
    finally:
        browser.close()
    assert len(code) > 30

    new_ec_key(tmp_path / "key.pem")
    request = openssl("req", "-new", "-key", str(tmp_path / "key.pem"), "-subj", "/CN=EST")
    status, answer = curl_est(
        demo, "simpleenroll", tmp_path, "--user", f"software:{code}", body=base64_der(request)
    )
    assert status == 200, answer
    (tmp_path / "certificate.pem").write_bytes(pem_of(tmp_path, answer))

    new_ec_key(tmp_path / "next.pem")
    renewal = openssl(
        "x509",
        "-x509toreq",
        "-in",
        str(tmp_path / "certificate.pem"),
        "-signkey",
        str(tmp_path / "next.pem"),
    )
    status, answer = curl_est(
        demo,
        "simplereenroll",
        tmp_path,
        "--cert",
        str(tmp_path / "certificate.pem"),
        "--key",
        str(tmp_path / "key.pem"),
        body=base64_der(renewal),
    )
    assert status == 200, answer
    renewed = pem_of(tmp_path, answer)
    assert renewed != (tmp_path / "certificate.pem").read_bytes()

    status, answer = curl_est(demo, "cacerts", tmp_path)
    assert status == 200 and b"BEGIN" not in answer  # base64 DER, not PEM
