"""Installer packages, generated per enrollment with the portal URL, install code, certificate
name and root CA certificate baked in.

Each platform's installer makes the key pair on the user's machine with the platform's own
tools, so the private key never leaves it; see templates/installers/.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone

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
        f'Subject = "CN={certificate_name}"',
        "KeyAlgorithm = RSA",
        "KeyLength = 2048",
        "Exportable = FALSE",
        "MachineKeySet = FALSE",
        'ProviderName = "Microsoft Software Key Storage Provider"',
        "KeyUsage = 0xa0",
        "RequestType = PKCS10",
        "HashAlgorithm = sha256",
        f'FriendlyName = "{certificate_name}"',
        "[EnhancedKeyUsageExtension]",
        "OID=1.3.6.1.5.5.7.3.2",
    ]


def filename(enrollment: Enrollment, platform: Platform) -> str:
    return f"installeer-{enrollment.certificate_name}.{platform.extension}"


def render_installer(
    enrollment: Enrollment, platform_key: str, install_code: str, root_pem: str
) -> bytes:
    platform = PLATFORMS[platform_key]
    server_ca_pem = _server_ca_pem()
    context = {
        "portal_name": settings.PORTAL_NAME,
        "portal_url": settings.PORTAL_URL,
        "install_code": install_code,
        "certificate_name": enrollment.certificate_name,
        "holder_name": enrollment.holder.display_name,
        "kind": enrollment.kind,
        "filename": filename(enrollment, platform),
        "expires_at": formats.date_format(timezone.localtime(enrollment.expires_at), "Y-m-d H:i"),
        "root_nickname": f"{settings.PORTAL_NAME} Root CA",
        "root_pem": root_pem,
        "root_pem_lines": root_pem.strip().splitlines(),
        "server_ca_pem": server_ca_pem,
        "server_ca_pem_lines": server_ca_pem.strip().splitlines(),
        "inf_lines": windows_request_inf(enrollment.certificate_name),
    }
    text: str = render_to_string(platform.template, context)
    # Values are our own (validated name, URL-safe code, PEM), never markup: no escaping.
    lines = [line.rstrip() for line in text.splitlines()]
    return (platform.line_ending.join(lines) + platform.line_ending).encode()


def _server_ca_pem() -> str:
    """An extra CA for the portal's TLS server certificate, when it is not publicly trusted."""
    path = settings.INSTALLER_SERVER_CA_FILE
    return Path(path).read_text() if path else ""
