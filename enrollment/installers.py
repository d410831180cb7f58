"""Installer packages, generated per enrollment with the portal URL, install code, certificate
name and root CA certificate baked in.

Each platform's installer makes the key pair on the user's machine with the platform's own
tools, so the private key never leaves it; see templates/installers/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from core.escaping import UnsafeValue, inf_string, pem_block
from enrollment import installer_messages
from enrollment.models import Enrollment


@dataclass(frozen=True)
class Platform:
    key: str
    label: str
    template: str
    extension: str
    content_type: str
    line_ending: str = "\n"


PLATFORMS: dict[str, Platform] = {
    "windows": Platform(
        "windows", "Windows", "installers/windows.cmd", "cmd", "application/x-bat", "\r\n"
    ),
    "macos": Platform("macos", "macOS", "installers/macos.command", "command", "application/x-sh"),
    "linux": Platform("linux", "Linux", "installers/linux.sh", "sh", "application/x-sh"),
}


def detect_platform(user_agent: str) -> str:
    """The visitor's operating system from the User-Agent; Windows when unsure (the seed's audience)."""
    agent = user_agent.lower()
    if "mac os x" in agent or "macintosh" in agent:
        return "macos"
    if ("linux" in agent or "x11" in agent) and "android" not in agent:
        return "linux"
    return "windows"


def windows_request_inf(certificate_name: str) -> list[str]:
    """certreq's INF: a CNG key in CurrentUser\\My that cannot be exported."""
    return [
        "[Version]",
        'Signature="$Windows NT$"',
        "[NewRequest]",
        f"Subject = {inf_string('CN=' + certificate_name)}",
        "KeyAlgorithm = RSA",
        "KeyLength = 2048",
        "Exportable = FALSE",
        "MachineKeySet = FALSE",
        'ProviderName = "Microsoft Software Key Storage Provider"',
        "KeyUsage = 0xa0",
        "RequestType = PKCS10",
        "HashAlgorithm = sha256",
        f"FriendlyName = {inf_string(certificate_name)}",
        "[EnhancedKeyUsageExtension]",
        "OID=1.3.6.1.5.5.7.3.2",
    ]


def filename(enrollment: Enrollment, platform: Platform) -> str:
    return f"installeer-{enrollment.certificate_name}.{platform.extension}"


# The values an installer needs besides free text, each restricted to its alphabet here so
# that a record that got past validation somehow still cannot reach a script.
_INSTALL_CODE = re.compile(r"\A[A-Za-z0-9_-]{16,100}\Z")
_CERTIFICATE_NAME = re.compile(r"\A[A-Za-z0-9-]{1,7}\Z")


def render_installer(
    enrollment: Enrollment,
    platform_key: str,
    install_code: str,
    root_pem: str,
    language: str | None = None,
) -> bytes:
    """The installer for one enrollment. Every value passes its target's escaping filter in
    the template (core.escaping); the templates keep HTML autoescaping on, so a value
    without a filter could not pass unnoticed (tests/installers check that none does).

    It speaks ``language``, by default the active one: that of the step-7 page the holder
    downloads it from, which is the language they enrolled in. It asks the portal's API for
    the same language (Accept-Language), so that the portal's own messages match."""
    platform = PLATFORMS[platform_key]
    language = installer_messages.language_of_installer(language)
    if not _INSTALL_CODE.match(install_code):
        raise UnsafeValue("an install code is URL-safe base64")
    if not _CERTIFICATE_NAME.match(enrollment.certificate_name):
        raise UnsafeValue("a certificate name is 1-7 letters, digits or hyphens")
    root = pem_block(root_pem)
    server_ca = pem_block(_server_ca_pem()) if settings.INSTALLER_SERVER_CA_FILE else ""
    context = {
        "portal_name": settings.PORTAL_NAME,
        "portal_url": settings.PORTAL_URL,
        "install_code": install_code,
        "certificate_name": enrollment.certificate_name,
        "kind": enrollment.kind,
        "filename": filename(enrollment, platform),
        "expires_at": formats.date_format(timezone.localtime(enrollment.expires_at), "Y-m-d H:i"),
        "root_nickname": f"{settings.PORTAL_NAME} Root CA",
        "root_pem": root,
        "root_pem_lines": root.splitlines(),
        "server_ca_pem": server_ca,
        "server_ca_pem_lines": server_ca.splitlines(),
        "inf_lines": windows_request_inf(enrollment.certificate_name),
        "language": language,
        "m": installer_messages.messages(language),
        "cmd_messages": (
            installer_messages.cmd_messages(language) if platform.key == "windows" else []
        ),
    }
    with translation.override(language):
        text: str = render_to_string(platform.template, context)
    # Split on the line feed alone: str.splitlines() also breaks at U+2028, U+0085 and
    # other separators, which would make lines that the template does not have.
    lines = [line.rstrip(" \t\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return (platform.line_ending.join(lines) + platform.line_ending).encode()


def _server_ca_pem() -> str:
    """An extra CA for the portal's TLS server certificate, when it is not publicly trusted."""
    return Path(settings.INSTALLER_SERVER_CA_FILE).read_text()
