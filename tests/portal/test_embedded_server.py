"""`make run`'s HTTPS server (config/embedded_server.py): its certificate from the portal's CA,
client certificates verified in the handshake and checked against the portal's records, and
the plain-HTTP listener that serves only what relying parties fetch."""

from __future__ import annotations

import http.client
import os
import ssl
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ImproperlyConfigured

from ca import interface as ca
from ca.models import CertificateAuthority, RevocationReason
from config import embedded_server
from config.embedded_server import EmbeddedServer, TlsFiles
from enrollment.models import Enrollment
from tests.fixtures.ca import certificate_of, order_for
from tests.stack_ports import free_port


@pytest.fixture
def files(tmp_path: Path, settings: Any, hierarchy: CertificateAuthority) -> TlsFiles:
    settings.VAR_DIR = tmp_path / "var"
    found = embedded_server.tls_files()
    embedded_server.prepare_tls_files(found)
    return found


def test_the_server_certificate_is_the_portals_own_for_127_0_0_1_and_localhost(
    files: TlsFiles, hierarchy: CertificateAuthority
) -> None:
    leaf, issuing = x509.load_pem_x509_certificates(files.chain.read_bytes())
    assert issuing == hierarchy.certificate
    leaf.verify_directly_issued_by(hierarchy.certificate)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert hierarchy.parent is not None
    assert files.root.read_text() == hierarchy.parent.pem
    assert stat.S_IMODE(os.stat(files.key).st_mode) == 0o600
    assert hierarchy.pem.encode() in files.client_ca.read_bytes()


def test_a_later_start_serves_the_same_certificate_until_a_week_is_left(
    files: TlsFiles,
) -> None:
    first = files.chain.read_bytes()
    assert embedded_server.prepare_tls_files(files) is False
    assert files.chain.read_bytes() == first
    leaf = x509.load_pem_x509_certificates(first)[0]
    late = leaf.not_valid_after_utc - timedelta(days=6)
    from ca import server_certificate

    assert not server_certificate.still_good(first, embedded_server.HOSTS, now=late)
    assert not server_certificate.still_good(first, ["127.0.0.1", "portal.example"])


def test_production_never_gets_a_development_server_certificate(
    settings: Any, hierarchy: CertificateAuthority
) -> None:
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        ca.development_server_credentials(embedded_server.HOSTS)


# --- The listeners -----------------------------------------------------------------------


def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Stands in for Django: answers what the server put in the environ."""
    body = "\n".join(
        [
            environ.get("SSL_CLIENT_VERIFY", "-"),
            environ.get("wsgi.url_scheme", "-"),
            environ.get("SSL_CLIENT_CERT", "-"),
        ]
    ).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server(files: TlsFiles) -> Iterator[EmbeddedServer]:
    running = EmbeddedServer(
        echo, files, host="127.0.0.1", http_port=free_port(), https_port=free_port()
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def port_of(listener: Any) -> int:
    return int(listener.bind_addr[1])


def https_get(
    server: EmbeddedServer, files: TlsFiles, client: tuple[Path, Path] | None = None
) -> list[str]:
    context = ssl.create_default_context(cafile=str(files.root))
    if client is not None:
        context.load_cert_chain(*client)
    connection = http.client.HTTPSConnection(
        "localhost", port_of(server.https), context=context, timeout=10
    )
    try:
        connection.request("GET", "/api/v1/tls-check")
        return connection.getresponse().read().decode().split("\n", 2)
    finally:
        connection.close()


def client_files(folder: Path, certificate: x509.Certificate, key: Any) -> tuple[Path, Path]:
    cert_path, key_path = folder / "client.pem", folder / "client-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def portal_certificate(make_enrollment: Callable[..., Enrollment]) -> tuple[Any, Any]:
    """A certificate the portal issued (as an installer's: the key made here) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    enrollment = make_enrollment(kind="personal")
    order_for(enrollment, csr.public_bytes(serialization.Encoding.PEM))
    return certificate_of(enrollment), key


@pytest.mark.django_db(transaction=True)
def test_https_hands_the_verified_client_certificate_and_its_revocation_to_the_portal(
    server: EmbeddedServer,
    files: TlsFiles,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    tmp_path: Path,
) -> None:
    assert https_get(server, files)[:2] == ["NONE", "https"]

    issued, key = portal_certificate(make_enrollment)
    client = client_files(tmp_path, issued.certificate, key)
    state, scheme, pem = https_get(server, files, client)
    assert (state, scheme) == ("SUCCESS", "https")
    assert x509.load_pem_x509_certificate(pem.encode()) == issued.certificate

    issued.revoke(RevocationReason.KEY_COMPROMISE, actor="test")
    # Refused from the portal's own records at once: no CRL to publish and reload first.
    assert https_get(server, files, client) == ["FAILED:certificate revoked", "https", "-"]


def foreign(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Elsewhere")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return client_files(tmp_path, certificate, key)


def test_a_certificate_of_another_ca_does_not_get_through_the_handshake(
    server: EmbeddedServer, files: TlsFiles, tmp_path: Path
) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(server, files, foreign(tmp_path))


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    body: bytes


def http_request(server: EmbeddedServer, method: str, path: str, host: str = "") -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server.http), timeout=10)
    try:
        headers = {"Host": host} if host else {}
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.getheader("Location") or "", response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/crl/issuing.crl", "/ca/root.crt", "/ocsp", "/healthz"])
def test_plain_http_serves_what_relying_parties_fetch(server: EmbeddedServer, path: str) -> None:
    response = http_request(server, "GET", path)
    assert response.status == 200
    assert response.body.split(b"\n")[:2] == [b"-", b"http"]


def test_plain_http_sends_everything_else_to_https_keeping_method_and_host(
    server: EmbeddedServer,
) -> None:
    https = port_of(server.https)
    page = http_request(server, "GET", "/inloggen/?next=%2Fmijn%2F", host="localhost:1")
    assert page.status == 301
    assert page.location == f"https://localhost:{https}/inloggen/?next=%2Fmijn%2F"
    post = http_request(server, "POST", "/api/v1/csr")
    assert post.status == 308
    assert post.location == f"https://127.0.0.1:{https}/api/v1/csr"
    # A Host header of someone else's name does not make the redirect leave this machine.
    elsewhere = http_request(server, "GET", "/mijn/", host="evil.example")
    assert elsewhere.location == f"https://127.0.0.1:{https}/mijn/"
