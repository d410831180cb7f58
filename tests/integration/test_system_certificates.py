"""System certificates through real nginx: accepted from an allowed address, refused from
another loopback address, and personal certificates refused."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ca.models import CertificateAuthority
from ca.services import order_certificate
from enrollment.models import Enrollment, RefusedAddress
from tests.conftest import require_binary
from tests.enrollment.factories import issue_holder
from tests.integration.stack import ServerTls

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def certificate_files(
    tmp_path: Path, make_enrollment: Callable[..., Enrollment], eager_tasks: None
) -> Callable[[str, str], tuple[Path, Path]]:
    """Issue a certificate for a new holder of ``kind`` and write its key and chain to files."""

    def make(kind: str, allowed: str) -> tuple[Path, Path]:
        holder, _pin = issue_holder(kind, name=f"Test {kind}", allowed_networks=allowed)
        enrollment = make_enrollment(kind=kind, holder=holder)
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([]))
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        order_certificate(enrollment, csr)  # signed eagerly when this autocommit ends
        enrollment.refresh_from_db()
        folder = tmp_path / kind
        folder.mkdir()
        (folder / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        issuer = enrollment.certificate.issuer
        (folder / "chain.pem").write_text(enrollment.certificate.pem + issuer.pem)
        return folder / "chain.pem", folder / "key.pem"

    return make


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
    certificate_files: Callable[[str, str], tuple[Path, Path]],
) -> None:
    certificate, key = certificate_files("system", "127.0.0.1/32")
    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.1")
    assert status == 200 and body["name"] == "Test system" and body["address"] == "127.0.0.1"

    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.2")
    assert (status, body["code"]) == (403, "address_not_allowed")
    assert RefusedAddress.objects.filter(address="127.0.0.2").exists()


def test_personal_certificates_cannot_use_the_system_api(
    nginx: str,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    certificate_files: Callable[[str, str], tuple[Path, Path]],
) -> None:
    certificate, key = certificate_files("personal", "")
    status, body = curl(f"{nginx}/api/v1/system/whoami", server_tls, certificate, key, "127.0.0.1")
    assert (status, body["code"]) == (403, "personal_certificate")
