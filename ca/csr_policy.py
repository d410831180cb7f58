"""The CSR policy: the one function that decides whether a CSR is acceptable.

The CSR intake API (RA) calls :func:`check_csr` before it records an order, and the signing
task calls it again before signing. Only the public key is taken from a CSR; its subject,
attributes and requested extensions are ignored, because the certificate's contents come from
the database and the profile.

Error codes (``CsrRejected.code``), each with a message in :data:`CSR_ERRORS`:

==========================  ==============================================================
``csr_empty``               no data, or only white space
``csr_too_large``           more than 16 KiB
``csr_malformed``           neither a PEM nor a DER PKCS#10 request, or an undecodable key
``csr_bad_signature``       the request's self-signature does not verify
``signature_algorithm``     signed with something other than SHA-256/384/512 with RSA/ECDSA
``key_type_not_allowed``    the key is not RSA or ECDSA (e.g. DSA, Ed25519, RSA-PSS-only)
``key_too_small``           RSA key shorter than 2048 bits
``key_too_large``           RSA key longer than 4096 bits
``rsa_exponent``            RSA public exponent other than 65537
``curve_not_allowed``       ECDSA curve other than P-256 or P-384 (e.g. P-521)
==========================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import PublicKeyAlgorithmOID, SignatureAlgorithmOID
from django.utils.translation import gettext_lazy as _

MAX_CSR_BYTES = 16 * 1024
RSA_MIN_BITS = 2048
RSA_MAX_BITS = 4096
RSA_EXPONENT = 65537
ALLOWED_CURVES = {"secp256r1", "secp384r1"}
ALLOWED_SIGNATURE_ALGORITHMS = {
    SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}
# Keys whose SubjectPublicKeyInfo says rsaEncryption or id-ecPublicKey; an RSA-PSS-only key
# would be re-encoded as rsaEncryption by the certificate builder, changing what it means.
ALLOWED_KEY_ALGORITHMS = {
    PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5,
    PublicKeyAlgorithmOID.EC_PUBLIC_KEY,
}

CSR_ERRORS = {
    "csr_empty": _("The certificate request is empty."),
    "csr_too_large": _("The certificate request is larger than 16 KiB."),
    "csr_malformed": _("The certificate request could not be read."),
    "csr_bad_signature": _("The signature of the certificate request is not valid."),
    "signature_algorithm": _(
        "The certificate request is signed with an algorithm that is not allowed."
    ),
    "key_type_not_allowed": _("Only RSA and ECDSA keys are allowed."),
    "key_too_small": _("The RSA key is too short; use at least 2048 bits."),
    "key_too_large": _("The RSA key is too long; use at most 4096 bits."),
    "rsa_exponent": _("The RSA key must use the public exponent 65537."),
    "curve_not_allowed": _("Only the ECDSA curves P-256 and P-384 are allowed."),
}


class CsrRejected(Exception):
    """The CSR is not acceptable; ``code`` is one of :data:`CSR_ERRORS`."""

    def __init__(self, code: str) -> None:
        assert code in CSR_ERRORS, code
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(CSR_ERRORS[self.code])


@dataclass(frozen=True)
class AcceptedCsr:
    der: bytes
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    @property
    def key_description(self) -> str:
        if isinstance(self.public_key, rsa.RSAPublicKey):
            return f"RSA-{self.public_key.key_size}"
        return f"ECDSA-{self.public_key.curve.name}"


def check_csr(data: bytes) -> AcceptedCsr:
    """Accept a PEM or DER PKCS#10 request, or raise :class:`CsrRejected` with a code."""
    if not data or not data.strip():
        raise CsrRejected("csr_empty")
    if len(data) > MAX_CSR_BYTES:
        raise CsrRejected("csr_too_large")
    csr = _load(data)
    public_key = _allowed_public_key(csr)
    try:
        if csr.signature_algorithm_oid not in ALLOWED_SIGNATURE_ALGORITHMS:
            raise CsrRejected("signature_algorithm")
        valid = csr.is_signature_valid
    except CsrRejected:
        raise
    except Exception:  # any failure to verify means the signature cannot be trusted
        raise CsrRejected("csr_bad_signature") from None
    if not valid:
        raise CsrRejected("csr_bad_signature")
    try:
        der = csr.public_bytes(serialization.Encoding.DER)
    except Exception:
        raise CsrRejected("csr_malformed") from None
    return AcceptedCsr(der=der, public_key=public_key)


def _load(data: bytes) -> x509.CertificateSigningRequest:
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_csr(data.strip())
        return x509.load_der_x509_csr(data)
    except Exception:  # the parser's many error types all mean "not a CSR we can read"
        raise CsrRejected("csr_malformed") from None


def _allowed_public_key(
    csr: x509.CertificateSigningRequest,
) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    try:
        algorithm = csr.public_key_algorithm_oid  # type: ignore[attr-defined]  # missing in the stubs
        public_key = csr.public_key()
    except UnsupportedAlgorithm:
        raise CsrRejected("key_type_not_allowed") from None
    except Exception:
        raise CsrRejected("csr_malformed") from None
    if isinstance(public_key, rsa.RSAPublicKey) and algorithm in ALLOWED_KEY_ALGORITHMS:
        if public_key.key_size < RSA_MIN_BITS:
            raise CsrRejected("key_too_small")
        if public_key.key_size > RSA_MAX_BITS:
            raise CsrRejected("key_too_large")
        if public_key.public_numbers().e != RSA_EXPONENT:
            raise CsrRejected("rsa_exponent")
        return public_key
    if isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm in ALLOWED_KEY_ALGORITHMS:
        if public_key.curve.name not in ALLOWED_CURVES:
            raise CsrRejected("curve_not_allowed")
        return public_key
    raise CsrRejected("key_type_not_allowed")
