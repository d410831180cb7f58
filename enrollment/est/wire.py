"""EST's encodings: base64 DER both ways (RFC 7030 section 4, RFC 8951), certs-only PKCS#7
and the CsrAttrs structure (encoded with pyasn1-alt-modules' RFC 7030 module, which pkilint
already brings, rather than DER written by hand)."""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurveOID
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import PublicKeyAlgorithmOID, SignatureAlgorithmOID
from django.http import HttpRequest, HttpResponse
from pyasn1.codec.der import encoder
from pyasn1.type import univ
from pyasn1_alt_modules import rfc5652, rfc7030

from ca import interface as ca

CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only"
CSR_ATTRIBUTES = "application/csrattrs"
PKCS10 = "application/pkcs10"
# Sizes a client should choose from; the CA takes any size in its bounds.
RSA_SIZES = [bits for bits in (2048, 3072, 4096) if ca.RSA_MIN_BITS <= bits <= ca.RSA_MAX_BITS]
CURVE_OIDS = {"secp256r1": EllipticCurveOID.SECP256R1, "secp384r1": EllipticCurveOID.SECP384R1}


class UnreadableBody(ValueError):
    """The request's body is not what EST sends; ``code`` says how."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def base64_response(der: bytes, content_type: str, status: int = 200) -> HttpResponse:
    """DER as base64 in lines of 76 characters, labelled as RFC 7030 asks (RFC 8951 keeps
    the header for the clients that look at it)."""
    response = HttpResponse(base64.encodebytes(der), content_type=content_type, status=status)
    response["Content-Transfer-Encoding"] = "base64"
    return response


def certs_only(certificates: list[x509.Certificate]) -> HttpResponse:
    return base64_response(pkcs7.serialize_certificates(certificates, Encoding.DER), CERTS_ONLY)


def csr_from(request: HttpRequest) -> bytes:
    """The PKCS#10 request in the body: base64 DER, whatever Content-Transfer-Encoding says
    (RFC 8951); PEM and bare DER are taken too, as some clients send them."""
    media_type = (request.content_type or "").lower()
    if media_type != PKCS10:
        raise UnreadableBody("unsupported_media_type")
    body = request.body
    if len(body) > 2 * ca.MAX_CSR_BYTES:
        raise UnreadableBody("csr_too_large")
    if b"-----BEGIN" in body:
        return body
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        if body[:1] == b"\x30":  # a DER SEQUENCE, sent without base64
            return body
        raise UnreadableBody("csr_not_base64") from None


def _oid(dotted: str) -> univ.ObjectIdentifier:
    return univ.ObjectIdentifier(dotted)


def _attribute(kind: str, values: list[univ.Asn1Item]) -> rfc7030.AttrOrOID:
    attribute = rfc5652.Attribute()
    attribute["attrType"] = _oid(kind)
    for value in values:
        attribute["attrValues"].append(univ.Any(encoder.encode(value)))
    choice = rfc7030.AttrOrOID()
    choice["attribute"] = attribute
    return choice


def _bare_oid(dotted: str) -> rfc7030.AttrOrOID:
    choice = rfc7030.AttrOrOID()
    choice["oid"] = _oid(dotted)
    return choice


def csr_attributes() -> bytes:
    """CsrAttrs (RFC 7030 section 4.5, key types as RFC 9908 writes them): ECDSA on the
    curves the CA accepts, RSA with its sizes, and the signature algorithms to sign with."""
    attributes = rfc7030.CsrAttrs()
    curves = [_oid(CURVE_OIDS[name].dotted_string) for name in sorted(ca.ALLOWED_CURVES)]
    attributes.append(_attribute(PublicKeyAlgorithmOID.EC_PUBLIC_KEY.dotted_string, curves))
    sizes: list[univ.Asn1Item] = [univ.Integer(bits) for bits in RSA_SIZES]
    attributes.append(_attribute(PublicKeyAlgorithmOID.RSAES_PKCS1_v1_5.dotted_string, sizes))
    for algorithm in (
        SignatureAlgorithmOID.ECDSA_WITH_SHA256,
        SignatureAlgorithmOID.ECDSA_WITH_SHA384,
        SignatureAlgorithmOID.RSA_WITH_SHA256,
    ):
        attributes.append(_bare_oid(algorithm.dotted_string))
    return bytes(encoder.encode(attributes))
