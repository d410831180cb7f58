"""The generated installers, checked against their platforms' documented syntax."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ca.models import CertificateAuthority
from enrollment import installers
from enrollment.models import Enrollment
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db

CODE = "T3st-install-code_0123456789abcdefghijklmnopqrstu"


@pytest.fixture
def enrollment(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> Enrollment:
    return make_enrollment()


def render(enrollment: Enrollment, platform: str) -> str:
    root = CertificateAuthority.objects.current_root()
    assert root is not None
    return installers.render_installer(enrollment, platform, CODE, root.pem).decode()


@pytest.mark.parametrize("platform", ["linux", "macos"])
def test_the_shell_installers_parse_and_are_shellcheck_clean(
    enrollment: Enrollment, platform: str, tmp_path: Path
) -> None:
    shellcheck = require_binary("shellcheck")
    script = tmp_path / "installer.sh"
    script.write_text(render(enrollment, platform))
    assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0
    result = subprocess.run([shellcheck, "--shell=sh", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_linux_installer_bakes_in_the_portal_code_name_and_root(enrollment: Enrollment) -> None:
    script = render(enrollment, "linux")
    root = CertificateAuthority.objects.current_root()
    assert root is not None
    assert f"INSTALL_CODE='{CODE}'" in script
    assert f"CERTIFICATE_NAME='{enrollment.certificate_name}'" in script
    assert "PORTAL_URL='http://127.0.0.1:8000'" in script
    assert root.pem.strip() in script


def test_the_linux_installer_refuses_unknown_options_with_a_clear_message(
    enrollment: Enrollment, tmp_path: Path
) -> None:
    script = tmp_path / "installer.sh"
    script.write_text(render(enrollment, "linux"))
    result = subprocess.run(
        ["sh", str(script), "--bogus"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0 and "Onbekende optie: --bogus." in result.stderr


def test_the_linux_installer_asks_for_yes_when_not_interactive(
    enrollment: Enrollment, tmp_path: Path
) -> None:
    require_binary("certutil")
    script = tmp_path / "installer.sh"
    script.write_text(render(enrollment, "linux"))
    result = subprocess.run(
        ["sh", str(script)], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )
    assert result.returncode != 0 and "--yes" in result.stderr


class TestWindows:
    KNOWN_INF_KEYS = {
        # certreq -new INF syntax (Microsoft "certreq" reference, [NewRequest] section).
        "Subject",
        "KeyAlgorithm",
        "KeyLength",
        "Exportable",
        "MachineKeySet",
        "ProviderName",
        "KeyUsage",
        "RequestType",
        "HashAlgorithm",
        "FriendlyName",
    }

    def test_the_cmd_file_has_windows_line_endings(self, enrollment: Enrollment) -> None:
        script = render(enrollment, "windows")
        assert script.startswith("@echo off\r\n")
        assert "\n" not in script.replace("\r\n", "")

    def test_the_inf_is_valid_certreq_syntax_with_a_non_exportable_user_key(
        self, enrollment: Enrollment
    ) -> None:
        lines = installers.windows_request_inf(enrollment.certificate_name)
        assert lines[:3] == ["[Version]", 'Signature="$Windows NT$"', "[NewRequest]"]
        sections: dict[str, dict[str, str]] = {}
        current = ""
        for line in lines:
            if line.startswith("["):
                current = line.strip("[]")
                sections[current] = {}
                continue
            key, _, value = line.partition("=")
            sections[current][key.strip()] = value.strip()
        request = sections["NewRequest"]
        assert set(request) <= self.KNOWN_INF_KEYS
        assert request["Exportable"] == "FALSE" and request["MachineKeySet"] == "FALSE"
        assert request["FriendlyName"] == f'"{enrollment.certificate_name}"'
        assert request["Subject"] == f'"CN={enrollment.certificate_name}"'
        assert int(request["KeyLength"]) >= 2048
        assert sections["EnhancedKeyUsageExtension"] == {"OID": "1.3.6.1.5.5.7.3.2"}  # clientAuth

    def test_the_cmd_echoes_the_inf_and_root_without_batch_metacharacters(
        self, enrollment: Enrollment
    ) -> None:
        script = render(enrollment, "windows")
        # Each line of request.inf and root.cer is written by a `>> "FILE" echo TEXT` line.
        echoed = [
            line.partition(" echo ")[2] for line in script.split("\r\n") if line.startswith(">> ")
        ]
        assert len(echoed) > len(installers.windows_request_inf(enrollment.certificate_name)) + 2
        for text in echoed:
            # A bare ( ) & | < > ^ would end the echo or redirect it; % and ! would expand.
            assert not re.search(r"[()&|<>^%!]", text), text

    def test_the_cmd_uses_only_built_in_tools(self, enrollment: Enrollment) -> None:
        script = render(enrollment, "windows")
        commands = {
            line.split()[0].lower()
            for line in script.split("\r\n")
            if line and not line.startswith(("rem", "echo", ":", ")", "@", "%", "{"))
        }
        assert {
            "certreq",
            "certutil",
            "set",
            "where",
            "mkdir",
            "for",
            "if",
            "timeout",
            "goto",
            "exit",
            "pause",
            "call",
            "rmdir",
            "setlocal",
            "chcp",
        } >= {c for c in commands if c.isalpha()}
        assert "certreq -new -q -user" in script and "certreq -accept -q -user" in script
        assert "certutil -user -addstore Root" in script
        assert "curl.exe" in script
