"""nginx in front of the live test server, terminating TLS and verifying client certificates
the way the production nginx does (deploy/nginx), with a server certificate of a test CA.
It sends the proxy secret as production does: deploy/nginx/proxy-secret.sh writes the include."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ca.crl import trust_files
from ca.models import CertificateAuthority
from tests.conftest import require_binary
from tests.stack_ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PROXY_SECRET_SCRIPT = ROOT / "deploy" / "nginx" / "proxy-secret.sh"


@dataclass(frozen=True)
class ServerTls:
    ca_pem: Path
    certificate: Path
    key: Path


@pytest.fixture
def server_tls(tmp_path: Path) -> ServerTls:
    """A throwaway CA and a server certificate for 127.0.0.1 (what a real portal gets from ACME)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test server CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path / "server-tls"
    folder.mkdir()
    paths = ServerTls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {run}/access.log;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {certificate};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        # Ask for a client certificate, but enrollment pages work without one.
        ssl_client_certificate {run}/client-ca.pem;
        ssl_crl {run}/crl.pem;
        ssl_verify_client optional;
        ssl_verify_depth 2;
        client_max_body_size 64k;
        # A certificate that fails verification (revoked, expired) still reaches the portal,
        # which explains the problem on a page instead of nginx's bare 400.
        error_page 495 = @portal;
        location / {{
            try_files /nonexistent @portal;
        }}
        location @portal {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            # Always set, so a client can never supply its own.
            proxy_set_header X-Client-Verify $ssl_client_verify;
            proxy_set_header X-Client-Cert $ssl_client_escaped_cert;
            # X-Proxy-Secret, written by the production script from the secret file.
            include {run}/proxy-secret.conf;
        }}
    }}
}}
"""


def write_proxy_secret_include(folder: Path, secret: str) -> Path:
    """What the nginx image does at start: proxy-secret.sh turns the secret file into the
    include with `proxy_set_header X-Proxy-Secret`. Returns the include's path."""
    (folder / "proxy_secret").write_text(secret + "\n")
    include = folder / "proxy-secret.conf"
    subprocess.run(
        ["sh", str(PROXY_SECRET_SCRIPT)],
        env={
            "PATH": "/usr/bin:/bin",
            "PROXY_SECRET_FILE": str(folder / "proxy_secret"),
            "PROXY_SECRET_INCLUDE": str(include),
        },
        check=True,
        capture_output=True,
        timeout=30,
    )
    return include


@dataclass
class Nginx:
    url: str
    run: Path
    binary: str
    # The live server behind nginx, and the secret nginx sends it: what a test that plays
    # another container (talking to web directly) needs.
    upstream: str = ""
    proxy_secret: str = ""

    def write_trust_files(self) -> None:
        for name, content in trust_files().items():
            (self.run / name).write_bytes(content)

    def refresh_crls(self) -> None:
        """What ops do after a CRL is published: export it and reload nginx."""
        self.write_trust_files()
        subprocess.run(
            [self.binary, "-p", str(self.run), "-c", str(self.run / "nginx.conf"), "-s", "reload"],
            check=True,
        )
        time.sleep(0.5)  # the old worker finishes; new connections see the new CRL


@pytest.fixture
def nginx_server(
    live_server: Any,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    tmp_path: Path,
    settings: Any,
) -> Iterator[Nginx]:
    """nginx on https://127.0.0.1:PORT, proxied to the live server; the portal's settings point at it."""
    binary = require_binary("nginx")
    run = tmp_path / "nginx"
    run.mkdir()
    port = free_port()
    upstream = int(live_server.url.rsplit(":", 1)[1])
    conf = run / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            run=run,
            port=port,
            certificate=server_tls.certificate,
            key=server_tls.key,
            upstream=upstream,
        )
    )
    proxy_secret = secrets.token_urlsafe(32)
    write_proxy_secret_include(run, proxy_secret)
    server = Nginx(
        f"https://127.0.0.1:{port}", run, binary, f"http://127.0.0.1:{upstream}", proxy_secret
    )
    server.write_trust_files()
    process = subprocess.Popen([binary, "-p", str(run), "-c", str(conf)], stderr=subprocess.PIPE)
    settings.PORTAL_URL = server.url
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    settings.PROXY_SECRET = proxy_secret
    settings.INSTALLER_SERVER_CA_FILE = str(server_tls.ca_pem)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                break
        except OSError:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"nginx did not start: {stderr}")
            time.sleep(0.05)
    yield server
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def nginx(nginx_server: Nginx) -> str:
    return nginx_server.url
