"""System certificates through real nginx: accepted from an allowed address, refused from
another loopback address, and personal certificates refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ca.models import CertificateAuthority
from enrollment.models import RefusedAddress
from tests.fixtures.services import require_binary
from tests.fixtures.stack import ServerTls
from tests.integration.certificates import Issued

pytestmark = pytest.mark.django_db(transaction=True)


def curl(
    url: str, tls: ServerTls, certificate: Path, key: Path, source: str
) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [
            require_binary("curl"),
            "--silent",
            "--max-time",
            "20",
            "--cacert",
            str(tls.ca_pem),
            "--cert",
            str(certificate),
            "--key",
            str(key),
            "--interface",
            source,
            "--write-out",
            "\n%{http_code}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body)


def test_system_certificates_are_bound_to_their_addresses(
    nginx: str,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    issue: Callable[[str, str], Issued],
) -> None:
    issued = issue("system", "127.0.0.1/32")
    certificate, key = issued.chain, issued.key
    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.1")
    assert status == 200 and body["name"] == "Test system" and body["address"] == "127.0.0.1"

    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.2")
    assert (status, body["code"]) == (403, "address_not_allowed")
    assert RefusedAddress.objects.filter(address="127.0.0.2").exists()


def test_personal_certificates_cannot_use_the_system_api(
    nginx: str,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    issue: Callable[[str, str], Issued],
) -> None:
    issued = issue("personal", "")
    certificate, key = issued.chain, issued.key
    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.1")
    assert (status, body["code"]) == (403, "personal_certificate")
