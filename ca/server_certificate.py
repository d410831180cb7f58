"""A TLS server certificate for the embedded development server (`make run`), from this CA.

A browser or installer that trusts the portal's root (the installers install it) then trusts
the development server too, without a certificate from elsewhere or a warning to click away.
Production never gets one: nginx serves a certificate the operator provides.

Like the OCSP responder's, it is CA infrastructure rather than a holder's certificate: it is
signed here directly (linted first, ca.signing), not through an order, and it is not
recorded among the holders' certificates. It lives 30 days and is made anew when a week is
left or the issuing CA changed; the key is a fresh P-256 key that only the web server reads.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from ca import der
from ca.models import CertificateAuthority
from ca.profiles import BACKDATE
from ca.signing import LintFailed, linted_draft, throwaway_key

VALIDITY = timedelta(days=30)
RENEW_BEFORE = timedelta(days=7)
# pkilint wants a DNS name to have a top-level domain; "localhost" (RFC 6761) has none and is
# the one name this certificate may carry despite that finding.
_LOCALHOST_FINDING = "pkix.invalid_domain_name_syntax"


@dataclass(frozen=True)
class ServerCredentials:
    """PEM texts: the certificate followed by its issuing CA, its key, and the root."""

    chain_pem: bytes
    key_pem: bytes
    root_pem: bytes


def _subject_alternative_names(hosts: list[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def _builder(
    hosts: list[str], public_key: ec.EllipticCurvePublicKey, issuer: CertificateAuthority
) -> x509.CertificateBuilder:
    now = timezone.now()
    issuer_ski = issuer.certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, settings.CA_COUNTRY),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.CA_NAME[:64]),
                    x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64]),
                ]
            )
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + VALIDITY, issuer.not_after))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_subject_alternative_names(hosts), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
            critical=False,
        )
    )


def still_good(chain_pem: bytes, hosts: list[str], now: datetime | None = None) -> bool:
    """Whether a certificate made earlier can be served again: same issuing CA, same hosts,
    more than RENEW_BEFORE left."""
    issuing = CertificateAuthority.objects.current_issuing()
    try:
        certificates = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        return False
    if issuing is None or len(certificates) < 2 or certificates[1] != issuing.certificate:
        return False
    leaf = certificates[0]
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if names != _subject_alternative_names(hosts):
        return False
    return leaf.not_valid_after_utc - (now or timezone.now()) > RENEW_BEFORE


def _sign(
    builder: x509.CertificateBuilder, issuing: CertificateAuthority, hosts: list[str]
) -> x509.Certificate:
    """As ca.signing.sign_certificate: lint a draft, sign its exact TBS bytes, check."""
    signer = issuing.signing_key()
    spec = signer.spec
    try:
        draft = linted_draft(builder, spec)
    except LintFailed as failed:
        only_localhost = [h for h in hosts if not _is_ip(h)] == ["localhost"]
        if not only_localhost or any(f.code != _LOCALHOST_FINDING for f in failed.findings):
            raise
        draft = builder.sign(throwaway_key(spec), spec.hash_algorithm()).public_bytes(
            serialization.Encoding.DER
        )
    tbs, _algorithm = der.signed_parts(draft)
    signed = der.replace_signature(draft, signer.sign(tbs, spec.hash_algorithm()))
    certificate = x509.load_der_x509_certificate(signed)
    certificate.verify_directly_issued_by(issuing.certificate)
    return certificate


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def issue(hosts: list[str]) -> ServerCredentials:
    """A new server certificate for ``hosts`` (IP addresses or DNS names) and its key."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured("the embedded server's certificate is for development only")
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None or issuing.parent is None:
        raise ImproperlyConfigured("no issuing CA: run `manage.py init_ca` first")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _sign(_builder(hosts, key.public_key(), issuing), issuing, hosts)
    return ServerCredentials(
        chain_pem=certificate.public_bytes(serialization.Encoding.PEM) + issuing.pem.encode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        root_pem=issuing.parent.pem.encode(),
    )
