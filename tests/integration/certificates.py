"""Holders with a certificate signed by the portal and its key on disk, for the stack tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.hashers import make_password

from enrollment.models import Enrollment, Holder
from tests.enrollment.factories import issue_holder
from tests.fixtures.ca import certificate_of, order_for

# The password of the personal holders made here.
PASSWORD = "Zorg-Portaal7!"


@dataclass(frozen=True)
class Issued:
    holder: Holder
    chain: Path
    key: Path
    pem: str


@pytest.fixture
def issue(
    tmp_path: Path, make_enrollment: Callable[..., Enrollment], eager_tasks: None
) -> Callable[[str, str], Issued]:
    """A holder of ``kind`` with a certificate signed by the portal, its key on disk."""

    def make(kind: str, allowed: str) -> Issued:
        holder, _pin = issue_holder(kind, name=f"Test {kind}", allowed_networks=allowed)
        enrollment = make_enrollment(kind=kind, holder=holder)
        if kind == "personal":
            Enrollment.objects.filter(pk=enrollment.pk).update(
                password_hash=make_password(PASSWORD)
            )
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([]))
            .sign(key, hashes.SHA256())
            .public_bytes(serialization.Encoding.PEM)
        )
        order_for(enrollment, csr)  # signed eagerly when this autocommit ends
        certificate = certificate_of(enrollment)
        folder = tmp_path / kind
        folder.mkdir()
        (folder / "key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem = certificate.pem
        (folder / "chain.pem").write_text(pem + certificate.issuer.pem)
        return Issued(holder, folder / "chain.pem", folder / "key.pem", pem)

    return make
