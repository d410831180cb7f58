"""Hostile values in every field an installer could carry never become code.

For every baked field and every class of dangerous character, the rendered sh installers
either refuse the value (UnsafeValue: the field is restricted at its source) or:

- parse (``sh -n``) and are shellcheck clean (one shellcheck run per field, over all classes);
- have exactly the lines of a render with plain values, apart from the assignments that carry
  the values (no new command, comment or here-document line);
- give the value back unchanged when the assignment is evaluated by sh;
- run (Linux with --help, macOS up to its tool check) in a throwaway HOME and working
  directory without creating a single file there.

The Windows .cmd and its INF are checked the same way in test_windows_installer_wine.py.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.test import override_settings

from ca.models import CertificateAuthority
from core.escaping import UnsafeValue
from enrollment import installer_messages, installers
from enrollment.models import Enrollment
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db

PLAIN_CODE = "T3st-install-code_0123456789abcdefghijklmnopqrstu"
# Each class of character that ends a line, a quoted string, a comment or a here-document
# in some target language, and a value too long for a careless buffer.
HOSTILE = {
    "line feed": "a\nrm -rf ~\n",
    "carriage return": "a\rtouch pwned\r",
    "line separator": "a\u2028touch pwned",
    "paragraph separator": "a\u2029touch pwned",
    "next line": "a\u0085touch pwned",
    "nul": "a\x00b",
    "single quote": "Zorgportaal 't Gooi'; touch pwned; '",
    "double quote": 'a"; touch pwned; "',
    "backtick": "a`touch pwned`",
    "dollar": "a$(touch pwned)${HOME}$1",
    "backslash": "a\\'\\n\\",
    "semicolon": "a; touch pwned",
    "ampersand": "a & touch pwned &",
    "pipe": "a | touch pwned",
    "less than": "a < /etc/passwd",
    "greater than": "a > pwned",
    "caret": "a^& touch pwned",
    "percent": "a%PATH%%%",
    "exclamation": "a!PATH!",
    "parentheses": "a) touch pwned (",
    "here-document end": "x\nROOT_CERTIFICATE\ntouch pwned",
    "10 kB": "Zorgportaal " + "é'x" * 3400,
}
PLATFORMS = ["linux", "macos"]


@dataclass(frozen=True)
class Field:
    """A value that reaches the installers, and how a test puts a hostile one in."""

    name: str
    # The sh variable that carries it, when the script holds it at all.
    variable: str | None
    apply: Callable[[Any, str], None]


def _portal_name(case: Any, value: str) -> None:
    case.settings["PORTAL_NAME"] = value


def _portal_url(case: Any, value: str) -> None:
    case.settings["PORTAL_URL"] = "https://portal.example" + value


def _install_code(case: Any, value: str) -> None:
    case.code = PLAIN_CODE + value


def _certificate_name(case: Any, value: str) -> None:
    case.enrollment.certificate_name = "AB" + value


def _holder_name(case: Any, value: str) -> None:
    case.enrollment.holder.display_name = value


def _organisation_name(case: Any, value: str) -> None:
    organisation = case.enrollment.holder.organisation
    if organisation is not None:
        organisation.name = value


def _email(case: Any, value: str) -> None:
    case.enrollment.email = value + "@example.org"


def _root_pem(case: Any, value: str) -> None:
    # Text around the PEM block (a comment, a forged END line) and inside it.
    case.root_pem = f"{value}\n{case.root_pem}\n{value}\n"


def _message(case: Any, value: str) -> None:
    # A translation is text baked into the script like any other value.
    case.message = "Klaar {} " + value


def _server_ca(case: Any, value: str) -> None:
    path = case.tmp_path / "server-ca.pem"
    path.write_text(f"{value}\n{case.root_pem}{value}", errors="surrogateescape")
    case.settings["INSTALLER_SERVER_CA_FILE"] = str(path)


FIELDS = [
    Field("portal name", "PORTAL_NAME", _portal_name),
    Field("portal URL", "PORTAL_URL", _portal_url),
    Field("install code", "INSTALL_CODE", _install_code),
    Field("certificate name", "CERTIFICATE_NAME", _certificate_name),
    Field("holder name", None, _holder_name),
    Field("organisation name", None, _organisation_name),
    Field("e-mail address", None, _email),
    Field("installer message", "M_DONE", _message),
    Field("root certificate", None, _root_pem),
    Field("server CA", None, _server_ca),
]


class Case:
    def __init__(self, enrollment: Enrollment, root_pem: str, tmp_path: Path) -> None:
        self.enrollment = enrollment
        self.root_pem = root_pem
        self.tmp_path = tmp_path
        self.code = PLAIN_CODE
        self.message: str | None = None
        self.settings: dict[str, Any] = {}

    def render(self, platform: str) -> str:
        with override_settings(**self.settings), pytest.MonkeyPatch.context() as patch:
            if self.message is not None:
                patch.setitem(installer_messages.MESSAGES, "done", {"nl": self.message})
            return installers.render_installer(
                self.enrollment, platform, self.code, self.root_pem
            ).decode()


@pytest.fixture
def new_case(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment], tmp_path: Path
) -> Callable[[], Case]:
    root = CertificateAuthority.objects.current_root()
    assert root is not None
    enrollment = make_enrollment()

    def make() -> Case:
        enrollment.refresh_from_db()
        enrollment.holder.refresh_from_db()
        return Case(enrollment, root.pem, tmp_path)

    return make


def skeleton(script: str) -> list[str]:
    """The script's lines with the value of each VARIABLE=… assignment blanked out."""
    return [re.sub(r"^([A-Z_]+)=.*", r"\1=…", line) for line in script.split("\n")]


def assigned(script: str, variable: str) -> str:
    """What sh makes of the script's assignment of ``variable``."""
    lines = [line for line in script.split("\n") if line.startswith(f"{variable}=")]
    assert len(lines) == 1, lines
    result = subprocess.run(
        ["sh", "-c", f'{lines[0]}\nprintf "%s" "${variable}"'],
        capture_output=True,
        timeout=10,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.decode()


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*"))


def run_sandboxed(script: Path, platform: str, sandbox: Path) -> subprocess.CompletedProcess[bytes]:
    """Linux: --help; macOS (no options): until its tool check, as `security` is not here."""
    home, cwd = sandbox / "home", sandbox / "cwd"
    home.mkdir(parents=True)
    cwd.mkdir()
    arguments = ["--help"] if platform == "linux" else []
    return subprocess.run(
        ["sh", str(script), *arguments],
        cwd=cwd,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(sandbox / "tmp")},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=20,
    )


def rendered_cases(
    new_case: Callable[[], Case], field: Field, platform: str
) -> Iterator[tuple[str, str | None]]:
    """(class, script) per hostile class; script None where the value was refused."""
    for label, value in HOSTILE.items():
        case = new_case()
        field.apply(case, value)
        try:
            yield label, case.render(platform)
        except UnsafeValue:
            yield label, None


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_a_hostile_value_in_any_field_never_changes_what_the_sh_installer_runs(
    new_case: Callable[[], Case], field: Field, platform: str, tmp_path: Path
) -> None:
    shellcheck = require_binary("shellcheck")
    plain_case = new_case()
    field.apply(plain_case, "")  # the same field, harmless: e.g. a clean server CA file
    plain = plain_case.render(platform)
    scripts: dict[str, Path] = {}
    for label, script in rendered_cases(new_case, field, platform):
        if script is None:
            continue
        assert skeleton(script) == skeleton(plain), f"{field.name}, {label}: lines changed"
        if field.variable is not None:
            value = HOSTILE[label]
            case = new_case()
            field.apply(case, value)
            expected = {
                "PORTAL_NAME": case.settings.get("PORTAL_NAME"),
                "PORTAL_URL": case.settings.get("PORTAL_URL"),
                "INSTALL_CODE": case.code,
                "CERTIFICATE_NAME": case.enrollment.certificate_name,
                "M_DONE": case.message,
            }[field.variable]
            # sh's $(…) drops trailing line feeds: the one thing the encoding cannot carry.
            assert assigned(script, field.variable) == str(expected).rstrip("\n"), label
        path = tmp_path / f"{len(scripts):02d}.sh"
        path.write_text(script)
        scripts[label] = path
        parsed = subprocess.run(["sh", "-n", str(path)], capture_output=True, timeout=10)
        assert parsed.returncode == 0, f"{field.name}, {label}: {parsed.stderr!r}"
        sandbox = tmp_path / f"sandbox-{len(scripts)}"
        run_sandboxed(path, platform, sandbox)
        assert files_under(sandbox / "home") == [], label
        assert files_under(sandbox / "cwd") == [], label
    if scripts:
        checked = subprocess.run(
            [shellcheck, "--shell=sh", *map(str, scripts.values())],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode == 0, checked.stdout[:3000]


def test_fields_restricted_at_their_source_refuse_every_hostile_class(
    new_case: Callable[[], Case],
) -> None:
    for field in FIELDS:
        if field.name not in {"install code", "certificate name"}:
            continue
        for label, script in rendered_cases(new_case, field, "linux"):
            assert script is None, f"{field.name} accepted {label}"


def test_free_text_of_the_holder_never_reaches_an_installer(
    new_case: Callable[[], Case],
) -> None:
    plain = {platform: new_case().render(platform) for platform in [*PLATFORMS, "windows"]}
    for field in FIELDS:
        if field.name not in {"holder name", "organisation name", "e-mail address"}:
            continue
        for platform, expected in plain.items():
            for label, script in rendered_cases(new_case, field, platform):
                assert script == expected, f"{field.name}, {label}, {platform}"


def test_text_around_or_inside_a_pem_block_is_dropped_or_refused(
    new_case: Callable[[], Case],
) -> None:
    case = new_case()
    certificate = x509.load_pem_x509_certificate(case.root_pem.encode())
    clean = certificate.public_bytes(Encoding.PEM).decode()
    case.root_pem = f"touch pwned\n{clean}\nROOT_CERTIFICATE\nrm -rf ~\n"
    script = case.render("linux")
    assert "pwned" not in script and "rm -rf ~" not in script
    assert script.count("\nROOT_CERTIFICATE\n") == 1
    case.root_pem = clean.replace("\n", "\n'$(touch pwned)'\n", 1)
    with pytest.raises(UnsafeValue):
        case.render("linux")


def test_a_dutch_portal_name_with_an_apostrophe_reads_back_unchanged(
    new_case: Callable[[], Case], tmp_path: Path
) -> None:
    case = new_case()
    case.settings["PORTAL_NAME"] = "Zorgportaal 't Gooi"
    script = case.render("linux")
    assert assigned(script, "PORTAL_NAME") == "Zorgportaal 't Gooi"
    assert assigned(script, "ROOT_NAME") == "Zorgportaal 't Gooi Root CA"
    path = tmp_path / "installer.sh"
    path.write_text(script)
    shown = run_sandboxed(path, "linux", tmp_path / "sandbox")
    assert shown.returncode == 0
    assert shown.stdout.decode().startswith("Zorgportaal 't Gooi: installatie")


INSTALLER_TEMPLATES = {
    "installers/linux.sh": {"sh", "pem"},
    "installers/macos.command": {"sh", "pem"},
    "installers/_http.sh": {"sh"},
    "installers/windows.cmd": {"cmd"},
}


def variable_nodes(nodelist: Any) -> Iterator[Any]:
    from django.template.base import VariableNode

    for node in nodelist:
        if isinstance(node, VariableNode):
            yield node
        for attribute in getattr(node, "child_nodelists", ()):
            yield from variable_nodes(getattr(node, attribute, None) or [])


@pytest.mark.parametrize("name", sorted(INSTALLER_TEMPLATES))
def test_every_variable_of_an_installer_template_ends_in_its_targets_escaping_filter(
    name: str,
) -> None:
    from django.template import engines

    template = engines["django"].get_template(name).template  # type: ignore[attr-defined]
    source = Path(template.origin.name).read_text()
    assert "autoescape off" not in source
    for node in variable_nodes(template.nodelist):
        filters = [function.__name__ for function, _arguments in node.filter_expression.filters]
        assert filters and filters[-1] in INSTALLER_TEMPLATES[name], (
            f"{name}: {{{{ {node.filter_expression.token} }}}} has no escaping filter"
        )
