"""The Windows installer (.cmd): run under Wine with recording stand-ins, and parsed.

Under Wine (one prefix for the session, tests/installers/wine.py): the calls in order with
their exact arguments, the files the tools get (request.inf, root.cer, the CSR, the chain),
retries as the portal asks (429, 503, unreachable; Retry-After), the time budget, and the
exit code and message of each failure. Without Wine: a small cmd tokenizer
(tests/installers/cmd_syntax.py) shows that a hostile value in any baked field either makes
render_installer refuse (UnsafeValue) or leaves the lines, commands and INF exactly as with a
plain value.

Wine and mingw-w64 (for the stand-in program) must be there under CI=true; elsewhere the Wine
tests are skipped without them.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path, PureWindowsPath
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from django.test import override_settings

from core.escaping import UnsafeValue
from enrollment import installer_messages, installers
from enrollment.models import Enrollment
from tests.fixtures.services import require_binary
from tests.installers import cmd_syntax
from tests.installers.wine import CROSS_COMPILER, CSR_PEM, Call, Response, StandIns, Wine

CODE = "T3st-install-code_0123456789abcdefghijklmnopqrstu"
URL = "https://portaal.example.org"
SHA1 = "0123456789ABCDEF0123456789abcdef01234567"
P7B = b"0\x82\x01\x00 a PKCS#7 chain, as the portal sends it\x00\xff"
CURL_COMMON = ["--silent", "--show-error", "--globoff", "--proto", "=https,http"]
CURL_COMMON += ["--max-time", "30", "-H", "Accept-Language: nl"]


@pytest.fixture(scope="session")
def root_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Test Root CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(Encoding.PEM).decode()


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    program = require_binary("wine")
    compiler = require_binary(CROSS_COMPILER)
    running = Wine(tmp_path_factory.mktemp("wine"), program, compiler)
    yield running
    running.close()


def enrollment(name: str = "AB12") -> Enrollment:
    """An enrollment as the installer sees it (render_installer reads these fields only)."""
    return Enrollment(
        kind="personal",
        certificate_name=name,
        expires_at=datetime.datetime(2030, 1, 31, 12, 5, tzinfo=datetime.UTC),
    )


def render(
    root_pem: str,
    *,
    name: str = "AB12",
    code: str = CODE,
    url: str = URL,
    language: str = "nl",
    **settings: Any,
) -> bytes:
    with override_settings(PORTAL_URL=url, **settings):
        return installers.render_installer(enrollment(name), "windows", code, root_pem, language)


def answer_as_the_portal(tools: StandIns, name: str = "AB12") -> None:
    tools.respond("/api/v1/csr", Response.json(202, {"status": "csr_received"}))
    tools.respond(
        "/api/v1/status",
        Response.text(status="issued", certificate_name=name, sha1=SHA1, serial="0a"),
    )
    tools.respond("/api/v1/certificate", Response(200, P7B))
    tools.respond("/api/v1/tls-check", Response.text(status="installed"))


def summary(calls: list[Call]) -> list[str]:
    """Each call in a word or two: "curl POST /api/v1/csr", "timeout 5", "certreq -new"."""
    lines = []
    for call in calls:
        if call.tool == "curl":
            lines.append(f"curl {call.request}")
        elif call.tool == "timeout":
            lines.append(f"timeout {call.args[1]}")
        else:
            lines.append(f"{call.tool} {call.args[0]}")
    return lines


HAPPY = [
    "certreq -new",
    "curl POST /api/v1/csr",
    "curl GET /api/v1/status?format=text",
    "curl GET /api/v1/certificate?format=p7b",
    "certutil -user",
    "certreq -accept",
    "curl GET /api/v1/tls-check?format=text",
]


def expected_arguments(calls: list[Call], url: str, code: str) -> list[list[str]]:
    """The exact arguments of a successful run, in the installer's working directory."""
    work = str(PureWindowsPath(calls[0].args[3]).parent)
    auth = ["-H", f"Authorization: Bearer {code}"]

    def curl(method: str, path: str, output: str, *extra: str) -> list[str]:
        return [
            *CURL_COMMON,
            *("--request", method, "--dump-header", f"{work}\\headers"),
            *("--write-out", "%{http_code}\\n", "--output", f"{work}\\{output}"),
            *extra,
            *("--url", f"{url}{path}"),
        ]

    return [
        ["-new", "-q", "-user", f"{work}\\request.inf", f"{work}\\request.csr"],
        curl(
            "POST",
            "/api/v1/csr",
            "submit.json",
            *auth,
            *("-H", "Content-Type: application/x-pem-file"),
            *("--data-binary", f"@{work}\\request.csr"),
        ),
        curl("GET", "/api/v1/status?format=text", "status.txt", *auth),
        curl("GET", "/api/v1/certificate?format=p7b", "chain.p7b", *auth),
        ["-user", "-addstore", "Root", f"{work}\\root.cer"],
        ["-accept", "-q", "-user", f"{work}\\chain.p7b"],
        curl(
            "GET",
            "/api/v1/tls-check?format=text",
            "check.txt",
            "--cert",
            f"CurrentUser\\MY\\{SHA1}",
        ),
    ]


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.rstrip().splitlines()[-1]


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


class Run:
    """One installer run: its result and the stand-ins' record."""

    def __init__(self, wine: Wine, tmp_path: Path) -> None:
        self.wine = wine
        self.tmp_path = tmp_path

    def __call__(
        self, script: bytes, setup: Callable[[StandIns], None], **env: str
    ) -> tuple[subprocess.CompletedProcess[str], StandIns]:
        with self.wine.stand_ins() as tools:
            setup(tools)
            result = self.wine.run(script, self.tmp_path, env)
        assert tools.errors == [], tools.errors
        # Whatever happened, the working directory is gone and nothing was left behind.
        assert not list(self.wine.temp_directory().glob("certificaatportaal-*"))
        assert not list((self.tmp_path / "cwd").iterdir())
        return result, tools


@pytest.fixture
def run(wine: Wine, tmp_path: Path) -> Run:
    return Run(wine, tmp_path)


def test_the_installer_makes_the_key_sends_the_request_and_installs_in_order(
    run: Run, root_pem: str
) -> None:
    result, tools = run(render(root_pem), answer_as_the_portal)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(tools.calls) == HAPPY
    assert [call.args for call in tools.calls] == expected_arguments(tools.calls, URL, CODE)
    inf_lines = installers.windows_request_inf("AB12")
    assert tools.calls[0].read["inf"] == ("\r\n".join(inf_lines) + "\r\n").encode()
    assert tools.calls[1].read["--data-binary"] == CSR_PEM
    assert tools.calls[4].read["certificate"] == crlf(root_pem)
    assert tools.calls[5].read["chain"] == P7B
    for step in range(1, 6):
        assert f"[{step}/5]" in result.stdout
    assert 'Klaar: het certificaat "AB12" is ge' in result.stdout


def test_a_server_ca_is_written_next_to_the_root_and_given_to_every_curl_call(
    run: Run, root_pem: str, tmp_path: Path
) -> None:
    server_ca = tmp_path / "server-ca.pem"
    server_ca.write_text(root_pem)
    script = render(root_pem, INSTALLER_SERVER_CA_FILE=str(server_ca))
    result, tools = run(script, answer_as_the_portal)
    assert result.returncode == 0, result.stdout
    assert summary(tools.calls) == HAPPY
    for call in tools.calls:
        if call.tool == "curl":
            cacert = call.args.index("--cacert")
            assert call.args[cacert - 4 : cacert] == CURL_COMMON[-4:]
            assert call.read["--cacert"] == crlf(root_pem)


def test_a_busy_portal_is_asked_again_after_its_retry_after(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        busy = Response.json(503, {"code": "unavailable", "message": "busy"}, Retry_After="1")
        tools.respond("/api/v1/csr", busy, Response.json(202, {"status": "csr_received"}))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    assert summary(tools.calls) == [HAPPY[0], HAPPY[1], "timeout 1", *HAPPY[1:]]
    assert "Het portaal is bezet, HTTP 503. Opnieuw over 1 seconden." in result.stdout
    # The same request again: the CSR of the one key made on this computer.
    assert tools.calls[1].args == tools.calls[3].args


def test_a_rate_limited_status_request_waits_as_the_portal_asks(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        limited = Response.json(429, {"code": "rate_limited"}, Retry_After="1")
        issued = Response.text(status="issued", sha1=SHA1)
        tools.respond("/api/v1/status", limited, issued)

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    assert summary(tools.calls) == [*HAPPY[:3], "timeout 1", *HAPPY[2:]]
    assert "HTTP 429" in result.stdout


def test_retry_after_is_clamped_to_one_to_sixty_seconds_with_five_when_missing(
    run: Run, root_pem: str
) -> None:
    sent = ["0", "60", "120", "Wed, 21 Oct 2015 07:28:00 GMT", None, "7"]

    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        busy = [
            Response(503, b"{}", (("Retry-After", value),) if value is not None else ())
            for value in sent
        ]
        tools.respond("/api/v1/csr", *busy, Response.json(202, {}))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    waits = [line for line in summary(tools.calls) if line.startswith("timeout")]
    assert waits == [f"timeout {n}" for n in [1, 60, 60, 60, 5, 7]]


def test_an_unreachable_portal_is_tried_again_every_five_seconds(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.respond("/api/v1/csr", Response(0), Response(0), Response.json(202, {}))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    assert summary(tools.calls)[:6] == [
        HAPPY[0],
        HAPPY[1],
        "timeout 5",
        HAPPY[1],
        "timeout 5",
        HAPPY[1],
    ]
    assert "Het portaal is niet bereikbaar. Opnieuw over 5 seconden." in result.stdout


def test_an_http_error_stops_the_installer_with_the_portals_message(
    run: Run, root_pem: str
) -> None:
    message = "This install code is not known. Download a new installer."

    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        refused = {"code": "install_code_unknown", "message": message}
        tools.respond("/api/v1/csr", Response.json(401, refused))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:2]
    assert (
        "FOUT: Het portaal weigert dit, HTTP 401. Download een nieuw installatiebestand"
        in result.stdout
    )
    assert json.dumps(message) in result.stdout
    assert last_line(result).startswith("FOUT: ")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "ga naar de pagina van stap 7, de link staat in uw e-mail, of naar stap 1, en kies Opnieuw installeren."),
        ("en", "Go to the step 7 page, the link is in your e-mail, or to step 1, and choose Install again."),
    ],
)  # fmt: skip
def test_a_certificate_issued_for_another_key_tells_the_holder_to_install_again(
    run: Run, root_pem: str, language: str, expected: str
) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        conflict = {"code": "already_issued", "message": "issued for another key"}
        tools.respond("/api/v1/csr", Response.json(409, conflict))

    result, tools = run(render(root_pem, language=language), setup)
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:2]
    assert last_line(result).startswith({"nl": "FOUT: ", "en": "ERROR: "}[language])
    assert expected.lower() in last_line(result).lower()
    accept = tools.calls[1].args.index("Accept-Language: " + language)
    assert tools.calls[1].args[accept - 1] == "-H"


def test_a_failed_order_stops_the_installer_with_the_error_code(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        failed = Response.text(status="failed", error_code="csr_key_too_weak")
        tools.respond("/api/v1/status", failed)

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:3]
    assert (
        "kon het certificaat niet maken: csr_key_too_weak. Start dit bestand opnieuw."
        in result.stdout
    )


def test_the_installer_waits_two_seconds_between_status_requests_until_issued(
    run: Run, root_pem: str
) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        signing = Response.text(status="signing")
        issued = Response.text(status="issued", sha1=SHA1)
        tools.respond("/api/v1/status", signing, signing, issued)

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    status = HAPPY[2]
    assert summary(tools.calls)[2:8] == [status, "timeout 2", status, "timeout 2", status, HAPPY[3]]


def test_certreq_failing_to_make_the_key_stops_the_installer(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.exit_codes["certreq -new"] = 1

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:1]
    assert "FOUT: De sleutel kon niet worden gemaakt. Start dit bestand opnieuw." in result.stdout


def test_certreq_failing_to_install_the_certificate_stops_the_installer(
    run: Run, root_pem: str
) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.exit_codes["certreq -accept"] = 1

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:6]
    assert "FOUT: Installeren in de certificatenopslag van Windows lukte niet." in result.stdout


def test_a_retry_that_would_outlast_the_budget_gives_up_at_once(run: Run, root_pem: str) -> None:
    # CERTIFICAATPORTAAL_BUDGET_SECONDS (documented in the installer) shortens the budget.
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.respond("/api/v1/csr", Response.json(503, {}, Retry_After="60"))

    result, tools = run(render(root_pem), setup, CERTIFICAATPORTAAL_BUDGET_SECONDS="59")
    assert result.returncode == 1
    assert summary(tools.calls) == HAPPY[:2]
    assert (
        "Het portaal bleef onbereikbaar, HTTP 503. Controleer uw internetverbinding"
        in result.stdout
    )


def test_waiting_for_the_certificate_ends_when_the_budget_is_spent(run: Run, root_pem: str) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.respond("/api/v1/status", Response.text(status="signing"))

    result, tools = run(render(root_pem), setup, CERTIFICAATPORTAAL_BUDGET_SECONDS="7")
    assert result.returncode == 1
    status = HAPPY[2]
    waits = ["timeout 2"] * 3
    assert summary(tools.calls)[2:] == [
        status,
        waits[0],
        status,
        waits[1],
        status,
        waits[2],
        status,
    ]
    assert "Na 7 seconden nog geen certificaat. Start dit bestand" in result.stdout


def test_a_thumbprint_that_is_not_hex_is_never_used_and_the_check_is_skipped(
    run: Run, root_pem: str
) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        hostile = 'AB" --output "C:\\pwned" & echo PWNED & "'
        tools.respond("/api/v1/status", Response.text(status="issued", sha1=hostile))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0, result.stdout
    assert summary(tools.calls) == HAPPY[:6]
    assert "PWNED" not in result.stdout
    assert "maar het portaal kon het nog niet bevestigen" in result.stdout


def test_a_check_the_portal_refuses_leaves_the_certificate_installed_but_unconfirmed(
    run: Run, root_pem: str
) -> None:
    def setup(tools: StandIns) -> None:
        answer_as_the_portal(tools)
        tools.respond("/api/v1/tls-check", Response.json(401, {"code": "no_client_certificate"}))

    result, tools = run(render(root_pem), setup)
    assert result.returncode == 0
    assert summary(tools.calls) == HAPPY
    assert "maar het portaal kon het nog niet bevestigen" in result.stdout


# Values that cmd_text lets through but that mean something to cmd, curl or certreq.
ACCEPTED_HOSTILE = {
    "url": "https://portaal.example.org:8443/-K/x_y.z/on",
    "code": "--output_C-pwned-" + "x" * 80,
    "name": "-q",
}


def test_values_cmd_lets_through_reach_the_tools_exactly_and_nothing_else_runs(
    run: Run, root_pem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        installers, "formats", SimpleNamespace(date_format=lambda *args: "$PATH$ [x]=+: ON")
    )
    url, code, name = ACCEPTED_HOSTILE["url"], ACCEPTED_HOSTILE["code"], ACCEPTED_HOSTILE["name"]
    script = render(root_pem, name=name, code=code, url=url)
    result, tools = run(script, lambda tools: answer_as_the_portal(tools, name))
    assert result.returncode == 0, result.stdout
    assert [call.tool for call in tools.calls] == [
        "certreq",
        "curl",
        "curl",
        "curl",
        "certutil",
        "certreq",
        "curl",
    ]
    assert [call.args for call in tools.calls] == expected_arguments(tools.calls, url, code)
    inf = tools.calls[0].read["inf"].decode()
    assert inf == "\r\n".join(installers.windows_request_inf(name)) + "\r\n"
    assert 'Klaar: het certificaat "-q" is ge' in result.stdout


@pytest.mark.parametrize("name", ["ON", "off"])
def test_a_certificate_named_on_or_off_gets_a_windows_installer(
    run: Run, root_pem: str, name: str
) -> None:
    result, tools = run(
        render(root_pem, name=name), lambda tools: answer_as_the_portal(tools, name)
    )
    assert result.returncode == 0, result.stdout
    assert f'Klaar: het certificaat "{name}" is ge' in result.stdout
    assert f'Subject = "CN={name}"'.encode() in tools.calls[0].read["inf"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", 'https://portaal.example.org" --output "C:\\pwned'),
        ("url", "https://portaal.example.org/a b"),
        ("url", "https://portaal.example.org/%PATH%"),
        ("url", "https://portaal.example.org/x&calc"),
        ("url", "https://portaal.example.org/~x"),
    ],
)
def test_a_portal_url_that_would_split_or_expand_in_cmd_is_refused(
    root_pem: str, field: str, value: str
) -> None:
    # In `set "PORTAL_URL=…"` a quote or space is inert, but the URL is then part of a quoted
    # curl argument: urlencode makes anything outside the URL alphabet a %XX that cmd refuses.
    with pytest.raises(UnsafeValue):
        render(root_pem, **{field: value})


# Structure, without Wine: every class of character that means something to cmd, a text
# editor or certreq, in every field that reaches the installer.
BATTERY = {
    "line feed": "a\ncalc\n",
    "carriage return": "a\rcalc\r",
    "line separator": "a\u2028calc",
    "paragraph separator": "a\u2029calc",
    "next line": "a\u0085calc",
    "nul": "a\x00b",
    "single quote": "a'calc'",
    "double quote": 'a" & calc & "',
    "two double quotes": 'a"b"c',
    "backtick": "a`calc`",
    "dollar": "a$PATH$",
    "backslash": "a\\calc\\",
    "semicolon": "a;calc",
    "ampersand": "a&calc",
    "pipe": "a|calc",
    "less than": "a<calc",
    "greater than": "a>calc",
    "caret": "a^",
    "percent": "a%PATH%",
    "exclamation": "a!PATH!",
    "parentheses": "a)calc(",
    "10 kB": "x" * 10240,
}


class Case:
    """One render of the installer, with each field's value settable."""

    def __init__(self, root_pem: str, directory: Path) -> None:
        self.root_pem = root_pem
        self.directory = directory
        self.name = "AB12"
        self.code = CODE
        self.expires: str | None = None
        self.message: str | None = None
        self.settings: dict[str, Any] = {"PORTAL_URL": URL}

    def render(self) -> str:
        with override_settings(**self.settings), pytest.MonkeyPatch.context() as patch:
            if self.message is not None:
                # A translation is text baked into the script like any other value.
                patch.setitem(installer_messages.MESSAGES, "done", {"nl": self.message})
            if self.expires is not None:
                expires = self.expires
                patch.setattr(
                    installers, "formats", SimpleNamespace(date_format=lambda *args: expires)
                )
            return installers.render_installer(
                enrollment(self.name), "windows", self.code, self.root_pem
            ).decode()


def _server_ca(case: Case, value: str) -> None:
    path = case.directory / f"server-ca-{len(list(case.directory.iterdir()))}.pem"
    path.write_text(f"{value}\n{case.root_pem}{value}", errors="surrogateescape")
    case.settings["INSTALLER_SERVER_CA_FILE"] = str(path)


FIELDS: dict[str, Callable[[Case, str], None]] = {
    "portal URL": lambda case, value: case.settings.update(PORTAL_URL=URL + value),
    "install code": lambda case, value: setattr(case, "code", CODE + value),
    "certificate name": lambda case, value: setattr(case, "name", "AB" + value),
    "expiry": lambda case, value: setattr(case, "expires", "2030-01-31 12:05" + value),
    "portal name": lambda case, value: case.settings.update(PORTAL_NAME="Portaal" + value),
    "installer message": lambda case, value: setattr(case, "message", "Klaar {} " + value),
    "root certificate": lambda case, value: setattr(
        case, "root_pem", f"{value}\n{case.root_pem}\n{value}\n"
    ),
    "server CA": _server_ca,
}
# The `set "NAME=…"` that carries a field, and what it must hold.
CARRIED: dict[str, tuple[str, Callable[[str], str]]] = {
    "portal URL": ("PORTAL_URL", lambda value: URL + value),
    "install code": ("INSTALL_CODE", lambda value: CODE + value),
    "certificate name": ("CERT_NAME", lambda value: f'"AB{value}"'),
    # Without double quotes: installer_messages.cmd_messages leaves them out.
    "installer message": ("M_DONE_1", lambda value: " " + value.replace('"', "")),
}


@pytest.mark.parametrize("field", FIELDS)
def test_a_hostile_value_in_any_field_is_refused_or_changes_no_command_of_the_cmd(
    root_pem: str, tmp_path: Path, field: str
) -> None:
    plain_case = Case(root_pem, tmp_path)
    FIELDS[field](plain_case, "")
    plain = plain_case.render()
    plain_inf = cmd_syntax.echoed(plain, r"%WORK%\request.inf")
    assert plain_inf == installers.windows_request_inf(plain_case.name)
    for label, value in BATTERY.items():
        case = Case(root_pem, tmp_path)
        FIELDS[field](case, value)
        try:
            script = case.render()
        except UnsafeValue:
            continue
        assert cmd_syntax.skeleton(script) == cmd_syntax.skeleton(plain), f"{field}, {label}"
        inf = cmd_syntax.echoed(script, r"%WORK%\request.inf")
        assert cmd_syntax.inf_skeleton(inf) == cmd_syntax.inf_skeleton(plain_inf), label
        if field in CARRIED:
            variable, expected = CARRIED[field]
            assert cmd_syntax.assigned(script, variable) == expected(value), f"{field}, {label}"


def test_every_field_a_value_could_escape_from_refuses_what_cmd_would_read(
    root_pem: str, tmp_path: Path
) -> None:
    """The cmd-active classes never get through, in any field that the script carries."""
    active = {"line feed", "carriage return", "nul", "double quote", "ampersand", "pipe"}
    active |= {"less than", "greater than", "caret", "percent", "exclamation", "parentheses"}
    for field in ["portal URL", "install code", "certificate name", "expiry"]:
        for label in active:
            case = Case(root_pem, tmp_path)
            FIELDS[field](case, BATTERY[label])
            with pytest.raises(UnsafeValue):
                case.render()


def test_the_root_certificate_is_echoed_line_by_line_as_its_pem(
    root_pem: str, tmp_path: Path
) -> None:
    script = Case(root_pem, tmp_path).render()
    assert cmd_syntax.echoed(script, r"%WORK%\root.cer") == root_pem.splitlines()


@pytest.mark.parametrize(
    ("plain", "broken"),
    [
        ('set "X=ab"', 'set "X=a" & calc & "b"'),
        ('set "X=ab"', 'set "X=a"b'),
        (">> f echo ab", ">> f echo a > b"),
        (">> f echo ab", ">> f echo a | b"),
        ("(echo ab)", "(echo a)b)"),
        ("rem ab", "rem a^"),
        ('set "X=ab"', 'set "X=a%PATH%b"'),
        ('set "X=ab"', 'set "X=a!b!"'),
        (">> f echo ab", ">> f echo a\rb"),
        ("if x==y (set a=1)", "if x==y (set a=1) & calc"),
    ],
)
def test_the_tokenizer_tells_a_value_that_broke_out_from_a_plain_one(
    plain: str, broken: str
) -> None:
    assert cmd_syntax.skeleton(plain) != cmd_syntax.skeleton(broken)


def test_the_inf_tokenizer_blanks_only_the_quoted_strings() -> None:
    lines = installers.windows_request_inf("AB12")
    other = installers.windows_request_inf("Z-9")
    assert cmd_syntax.inf_skeleton(lines) == cmd_syntax.inf_skeleton(other)
    assert cmd_syntax.inf_skeleton(['Subject = "CN=a" x']) != cmd_syntax.inf_skeleton(
        ['Subject = "CN=a"']
    )
    assert cmd_syntax.inf_skeleton(['Subject = "CN=a""b"']) == cmd_syntax.inf_skeleton(
        ['Subject = "CN=ab"']
    )


def test_the_console_reads_utf8_and_gets_its_code_page_back(run: Run, root_pem: str) -> None:
    script = render(root_pem)
    result, tools = run(script, answer_as_the_portal)
    assert result.returncode == 0, result.stdout
    # Asked and switched before anything else; put back (the stand-in's 850) after it all.
    assert tools.code_pages == [(0, []), (0, ["65001"]), (len(tools.calls), ["850"])]
    # No byte beyond ASCII before the switch; the diacritics after it are UTF-8.
    switch = script.index(b"chcp 65001")
    assert script[:switch].isascii()
    assert "geïnstalleerd".encode() in script[switch:]
    script.decode("utf-8")


@pytest.mark.parametrize(
    ("language", "steps", "last"),
    [
        ("nl", "[1/5] Sleutel maken op deze computer", "Wat nu: sluit uw browser helemaal af en open hem opnieuw. Ga naar https://portaal.example.org en kies het certificaat \"AB12\" als de browser erom vraagt."),
        ("en", "[1/5] Making the key on this computer", "What now: close your browser completely and open it again. Go to https://portaal.example.org and choose the certificate named \"AB12\" when the browser asks."),
    ],
)  # fmt: skip
def test_the_installer_speaks_the_holders_language_and_ends_with_what_to_do_now(
    run: Run, root_pem: str, language: str, steps: str, last: str
) -> None:
    result, _tools = run(render(root_pem, language=language), answer_as_the_portal)
    assert result.returncode == 0, result.stdout
    assert steps in result.stdout
    assert last_line(result) == last
    other = {"nl": "Making the key", "en": "Sleutel maken"}[language]
    assert other not in result.stdout  # one language, not both on each line


def test_every_failure_message_of_the_cmd_names_a_next_step() -> None:
    failures = ["gave_up", "tool_missing_windows", "work_folder", "key_failed", "refused"]
    failures += ["conflict", "expired", "order_failed", "too_long", "install_failed"]
    next_steps = {
        "nl": ["opnieuw", "vraag", "neem contact", "ga naar", "download", "installeer op"],
        "en": ["again", "ask", "contact", "go to", "download", "install on"],
    }
    for language in installer_messages.LANGUAGES:
        texts = installer_messages.messages(language)
        for key in failures:
            assert any(step in texts[key].lower() for step in next_steps[language]), key
