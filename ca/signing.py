"""Signing certificates and CRLs: lint a throwaway-signed copy, then sign its exact TBS bytes.

The copy signed with a throwaway key of the same type (RSA or the same curve, hence the same
signature AlgorithmIdentifier) is complete and well-formed, so pkilint checks the real thing;
the CA key then signs that copy's to-be-signed bytes and only the signature is swapped in
(:mod:`ca.der`). This also works for an HSM key, which ``cryptography`` cannot hold.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ca import der
from ca.keys import KeySpec, PrivateKey, SigningKey

if TYPE_CHECKING:
    from ca.lint import Finding

_lock = threading.Lock()
_throwaway: dict[str, PrivateKey] = {}


class LintFailed(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(str(f) for f in findings))
        self.findings = findings


def throwaway_key(spec: KeySpec) -> PrivateKey:
    """A per-process key of the signer's type, never used for anything that is published."""
    family = "rsa" if spec.is_rsa else spec.name
    with _lock:
        key = _throwaway.get(family)
        if key is None:
            key = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if spec.is_rsa
                else ec.generate_private_key(spec.curve)
            )
            _throwaway[family] = key
        return key


def linted_draft(builder: x509.CertificateBuilder, spec: KeySpec) -> bytes:
    """The certificate signed with the throwaway key of ``spec``'s type, in DER, once pkilint
    found nothing in it; raises :class:`LintFailed` otherwise."""
    from ca import lint  # pkilint takes ~0.5 s to import; only signing processes need it

    draft = builder.sign(throwaway_key(spec), spec.hash_algorithm())
    der_bytes = draft.public_bytes(serialization.Encoding.DER)
    findings = lint.lint_certificate(der_bytes)
    if findings:
        raise LintFailed(findings)
    return der_bytes


def sign_certificate(
    builder: x509.CertificateBuilder, signer: SigningKey, issuer: x509.Certificate | None = None
) -> x509.Certificate:
    """Lint, then sign. ``issuer`` is None for a self-signed certificate."""
    spec = signer.spec
    draft = linted_draft(builder, spec)
    tbs, _algorithm = der.signed_parts(draft)
    signed = der.replace_signature(draft, signer.sign(tbs, spec.hash_algorithm()))
    certificate = x509.load_der_x509_certificate(signed)
    # A cheap last check (≈ 0.05 ms) that the key really belongs to the issuer certificate.
    if issuer is None:
        certificate.verify_directly_issued_by(certificate)
    else:
        certificate.verify_directly_issued_by(issuer)
    return certificate


def sign_crl(
    builder: x509.CertificateRevocationListBuilder, signer: SigningKey, issuer: x509.Certificate
) -> x509.CertificateRevocationList:
    spec = signer.spec
    algorithm = spec.hash_algorithm()
    # Not linted in process: pkilint needs about a minute for 100,000 entries, and a CRL's
    # structure is fixed by ca.crl (the tests lint it with lint_crl).
    draft = builder.sign(throwaway_key(spec), algorithm).public_bytes(serialization.Encoding.DER)
    tbs, _algorithm = der.signed_parts(draft)
    crl = x509.load_der_x509_crl(der.replace_signature(draft, signer.sign(tbs, algorithm)))
    public_key = issuer.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)
    if not crl.is_signature_valid(public_key):
        raise ValueError("the CA key does not match the CA certificate")
    return crl
