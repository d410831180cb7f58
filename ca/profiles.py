"""What goes into each kind of certificate (RFC 5280 profiles).

End-entity profiles are chosen by *name* (``personal``, ``system``); callers never pass
extensions. Every builder here returns an unsigned ``CertificateBuilder``; signing happens in
:mod:`ca.signing` (lint first, then the real key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from ca import urls_public
from ca.keys import PublicKey
from ca.order_request import Subject

if TYPE_CHECKING:
    from ca.models import CertificateAuthority

# Backdated a little: a client whose clock runs a few minutes behind must not see a
# certificate that is "not yet valid" right after installing it.
BACKDATE = timedelta(minutes=5)
ANY_POLICY = x509.ObjectIdentifier("2.5.29.32.0")
CN_MAX = 64  # ub-common-name
O_MAX = 64  # ub-organization-name


@dataclass(frozen=True)
class Profile:
    name: str
    description: str


# Decision: no emailProtection and no e-mail address in a SAN, for personal certificates too.
# The portal never proves that the holder controls the address typed in the wizard (it is
# only typed twice), and asserting an unverified mailbox would make the certificate usable for
# S/MIME signatures in that person's name; it would also bring the CA under the CA/B Forum
# S/MIME requirements. These certificates log people and systems in (clientAuth), nothing more.
PROFILES = {
    "personal": Profile("personal", "Personal client certificate (TLS client authentication)"),
    "system": Profile("system", "System client certificate (TLS client authentication)"),
}


def subject_for(holder: Subject) -> x509.Name:
    # CN = "<certificate name> - <display name>": browsers' certificate pickers (Chrome and
    # Edge on Windows list "Issued to" = CN) then show which of a person's certificates is
    # which by the name they chose in the wizard, followed by their own name. The user number
    # goes into serialNumber, the stable identifier relying parties match on.
    common_name = f"{holder.certificate_name} - {holder.display_name}"[:CN_MAX]
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, settings.CA_COUNTRY),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.organisation[:O_MAX]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.user_number),
        ]
    )


def _policies() -> x509.CertificatePolicies:
    return x509.CertificatePolicies(
        [
            x509.PolicyInformation(
                x509.ObjectIdentifier(settings.CA_POLICY_OID), [urls_public.cps_url()]
            )
        ]
    )


def _key_identifiers(
    builder: x509.CertificateBuilder, public_key: PublicKey, issuer: CertificateAuthority | None
) -> x509.CertificateBuilder:
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    builder = builder.add_extension(ski, False)
    # A self-signed root carries an AKI too (its own key id): RFC 5280 §4.2.1.1 allows
    # leaving it out, but pkilint asks for it and path builders use it.
    authority_ski = issuer.subject_key_identifier if issuer is not None else ski
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority_ski), False
    )


def _validity(
    builder: x509.CertificateBuilder, now: datetime, days: int, issuer: CertificateAuthority | None
) -> x509.CertificateBuilder:
    not_after = now + timedelta(days=days)
    if issuer is not None:
        # Never outlive the issuer: a rolled-over CA can then retire when its last one expires.
        not_after = min(not_after, issuer.not_after)
    return builder.not_valid_before(now - BACKDATE).not_valid_after(not_after)


def end_entity(
    profile_name: str,
    holder: Subject,
    public_key: PublicKey,
    issuer: CertificateAuthority,
    now: datetime,
) -> x509.CertificateBuilder:
    if profile_name not in PROFILES:
        raise ValueError(f"unknown profile {profile_name!r}")
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_for(holder))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        # 159 random bits: positive, at most 20 octets, unpredictable (RFC 5280 §4.1.2.2).
        .serial_number(x509.random_serial_number())
    )
    builder = _validity(builder, now, settings.CA_CERT_VALIDITY_DAYS, issuer)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            # RSA keys may also be used for RSA key transport in older TLS client stacks.
            key_encipherment=is_rsa,
            content_commitment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
    )
    builder = _key_identifiers(builder, public_key, issuer)
    builder = builder.add_extension(_crl_distribution_points(issuer), critical=False)
    builder = builder.add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(urls_public.ocsp_url()),
                ),
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(issuer.certificate_url),
                ),
            ]
        ),
        critical=False,
    )
    return builder.add_extension(_policies(), critical=False)


def _crl_distribution_points(issuer: CertificateAuthority) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(issuer.crl_url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, settings.CA_COUNTRY),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.CA_NAME[:O_MAX]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:CN_MAX]),
        ]
    )


def root_ca(
    common_name: str, public_key: PublicKey, now: datetime, days: int
) -> x509.CertificateBuilder:
    name = ca_name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
    )
    builder = _validity(builder, now, days, None)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(_ca_key_usage(), critical=True)
    return _key_identifiers(builder, public_key, None)


def issuing_ca(
    common_name: str, public_key: PublicKey, parent: CertificateAuthority, now: datetime, days: int
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca_name(common_name))
        .issuer_name(parent.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
    )
    builder = _validity(builder, now, days, parent)
    # pathlen 0: this CA issues end-entity certificates only, never another CA.
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    builder = builder.add_extension(_ca_key_usage(), critical=True)
    builder = _key_identifiers(builder, public_key, parent)
    builder = builder.add_extension(_crl_distribution_points(parent), critical=False)
    builder = builder.add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(parent.certificate_url),
                )
            ]
        ),
        critical=False,
    )
    # anyPolicy: the issuing CA may issue under any policy the root's CP allows; the
    # end-entity certificates carry the specific CA_POLICY_OID.
    return builder.add_extension(
        x509.CertificatePolicies([x509.PolicyInformation(ANY_POLICY, None)]), critical=False
    )


def ocsp_responder(
    public_key: PublicKey, issuer: CertificateAuthority, now: datetime, days: int
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(ca_name(f"{issuer.common_name} OCSP"))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
    )
    builder = _validity(builder, now, days, issuer)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    builder = builder.add_extension(
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
    builder = builder.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
    )
    # ocsp-nocheck: clients do not ask about the responder itself (RFC 6960 §4.2.2.2.1);
    # the responder certificate is therefore short-lived and renewed by the worker.
    builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    builder = _key_identifiers(builder, public_key, issuer)
    return builder.add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    x509.AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier(issuer.certificate_url),
                )
            ]
        ),
        critical=False,
    )
