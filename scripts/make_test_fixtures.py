#!/usr/bin/env python3
"""Write the CSRs the CA tests use to tests/ca/fixtures/ (run again to regenerate them all).

Usage: .venv/bin/python scripts/make_test_fixtures.py [DIRECTORY]

Each file is one case of the CSR policy (see ca/csr_policy.py for the error codes); the keys
are thrown away, since the tests only need the requests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.x509.oid import NameOID

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "tests" / "ca" / "fixtures"


def _csr(
    key: object, algorithm: hashes.HashAlgorithm | None = None
) -> x509.CertificateSigningRequest:
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            # The subject and extension below must be ignored by the CA.
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Chosen By The Client")])
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )
    return builder.sign(key, algorithm)  # type: ignore[arg-type]


def _pem(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.PEM)


def _der(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.DER)


def generate(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    sha256 = hashes.SHA256()
    files: dict[str, bytes] = {}
    # Accepted.
    files["rsa2048.pem"] = _pem(_csr(rsa.generate_private_key(65537, 2048), sha256))
    files["rsa3072.der"] = _der(_csr(rsa.generate_private_key(65537, 3072), sha256))
    files["rsa4096.pem"] = _pem(_csr(rsa.generate_private_key(65537, 4096), hashes.SHA384()))
    files["p256.pem"] = _pem(_csr(ec.generate_private_key(ec.SECP256R1()), sha256))
    files["p384.der"] = _der(_csr(ec.generate_private_key(ec.SECP384R1()), hashes.SHA384()))
    # Refused.
    good = bytearray(_der(_csr(rsa.generate_private_key(65537, 2048), sha256)))
    good[-10] ^= 0x01  # inside the signature value
    files["bad_signature.der"] = bytes(good)
    files["rsa1024.pem"] = _pem(_csr(rsa.generate_private_key(65537, 1024), sha256))  # noqa: S505 - a refused case
    files["rsa8192.pem"] = _pem(_csr(rsa.generate_private_key(65537, 8192), sha256))
    files["rsa_e3.pem"] = _pem(_csr(rsa.generate_private_key(3, 2048), sha256))
    files["p521.pem"] = _pem(_csr(ec.generate_private_key(ec.SECP521R1()), hashes.SHA512()))
    files["dsa2048.pem"] = _pem(_csr(dsa.generate_private_key(2048), sha256))
    files["ed25519.pem"] = _pem(_csr(ed25519.Ed25519PrivateKey.generate(), None))
    files["garbage.bin"] = b"this is not a certificate request\x00\xff" * 4
    for name, data in files.items():
        (directory / name).write_bytes(data)
        print(f"wrote {directory / name}")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIRECTORY)
