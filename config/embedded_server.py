"""`make run`'s web server: HTTPS with optional client certificates, and plain HTTP beside it.

The server is cheroot (CherryPy's WSGI server, pinned in pyproject.toml). Its builtin ssl
adapter verifies the client certificate during the handshake and hands the result to the
application in the WSGI environ under mod_ssl's names (SSL_CLIENT_VERIFY, SSL_CLIENT_CERT),
which core/client_certificate.py reads as its "TLS connection" source. It is a threaded
server for many connections in one process, so one process runs both listeners; gunicorn
(production, behind nginx) wraps every listener of a process in TLS alike and leaves the
peer certificate on a socket object, and runserver has no TLS at all.

- HTTPS (HTTPS_PORT, default 8443): a server certificate from the portal's own CA for
  127.0.0.1 and localhost (ca/server_certificate.py), so a browser or installer that
  trusts the portal's root trusts the server. The client certificate is optional and
  verified against the portal's CAs; revocation is then looked up in the portal's own
  records (what nginx does with the CRL in production), so a revoked certificate arrives
  as ``FAILED:certificate revoked`` and the page says so.
- HTTP (PORT, default 8000): CRLs, OCSP and the CA certificates, which relying parties fetch
  over plain HTTP, and the probes; everything else is redirected to HTTPS, as nginx's port
  80 does in production.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from ca import interface as ca
from core.client_certificate import TLS_CERTIFICATE, TLS_VERIFY

logger = logging.getLogger(__name__)
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Who may ask for a page: the server certificate names these, PORTAL_URL uses the first.
HOSTS = ["127.0.0.1", "localhost"]
# Threads per listener: installers' long polls (API_STATUS_MAX_WAIT) each hold one.
HTTPS_THREADS = 16
HTTP_THREADS = 4


@dataclass(frozen=True)
class TlsFiles:
    """The files under VAR_DIR/tls that the HTTPS listener reads."""

    folder: Path

    @property
    def chain(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def client_ca(self) -> Path:
        return self.folder / "client-ca.pem"

    @property
    def root(self) -> Path:
        """The portal's root: INSTALLER_SERVER_CA_FILE under `make run`."""
        return self.folder / "root.pem"


def tls_files() -> TlsFiles:
    return TlsFiles(Path(settings.VAR_DIR) / "tls")


def prepare_tls_files(files: TlsFiles) -> bool:
    """Write the server certificate (a new one if needed) and the CA files; True if new."""
    files.folder.mkdir(parents=True, exist_ok=True)
    complete = all(path.exists() for path in (files.chain, files.key, files.root))
    earlier = files.chain.read_bytes() if complete else b""
    credentials = ca.development_server_credentials(HOSTS, earlier)
    if credentials is not None:
        _write(files.key, credentials.key_pem, mode=0o600)
        _write(files.chain, credentials.chain_pem)
        _write(files.root, credentials.root_pem)
    _write(files.client_ca, ca.client_ca_bundle())
    return credentials is not None


def _write(path: Path, content: bytes, mode: int = 0o644) -> None:
    # Write, then rename: a listener starting beside us never reads half a file.
    partial = path.with_name(f".{path.name}.new")
    partial.write_bytes(content)
    partial.chmod(mode)
    partial.replace(path)


def tls_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.chain, files.key)
    # Optional: the enrollment wizard and the installers' first calls come without one. A
    # browser offers only certificates of the CAs named here (the portal's own).
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(cafile=str(files.client_ca))
    return context


def revocation_state(pem: str) -> str:
    """SUCCESS, or FAILED:<reason> when the portal's records say the certificate is revoked."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return "FAILED:unreadable certificate"
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    try:
        issued = ca.certificate_by_fingerprint(fingerprint)
        revoked = issued is not None and issued.is_revoked
    except DatabaseError:
        return "FAILED:revocation status unavailable"
    finally:
        # This runs outside Django's request cycle, which closes connections it opened.
        close_old_connections()
    return "FAILED:certificate revoked" if revoked else "SUCCESS"


def checking_revocation(app: WsgiApp) -> WsgiApp:
    """The HTTPS listener's application: the TLS verdict completed with revocation."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        state = environ.get(TLS_VERIFY) or "NONE"
        if state == "SUCCESS":
            state = revocation_state(environ.get(TLS_CERTIFICATE, ""))
        environ[TLS_VERIFY] = state
        if state != "SUCCESS":
            environ.pop(TLS_CERTIFICATE, None)
        return app(environ, start_response)

    return application


def _plain_http_allowed(path: str) -> bool:
    # The same exemptions as SECURE_SSL_REDIRECT has in production (settings).
    relative = path.lstrip("/")
    return any(re.search(pattern, relative) for pattern in settings.SECURE_REDIRECT_EXEMPT)


def redirecting_to_https(app: WsgiApp, https_port: int) -> WsgiApp:
    """The HTTP listener's application: CRL, OCSP, CA downloads, probes; else to HTTPS."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "/")
        if _plain_http_allowed(path):
            return app(environ, start_response)
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0]
        if host not in HOSTS:
            host = HOSTS[0]
        query = environ.get("QUERY_STRING", "")
        location = f"https://{host}:{https_port}{path}" + (f"?{query}" if query else "")
        # 308 keeps the method and body of a POST; a GET gets the common 301.
        method = environ.get("REQUEST_METHOD", "GET")
        status = "301 Moved Permanently" if method in {"GET", "HEAD"} else "308 Permanent Redirect"
        body = f"Deze pagina staat op / this page is at {location}\n".encode()
        start_response(
            status,
            [
                ("Location", location),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    return application


def _error_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's error log, into the portal's log instead of bare lines on stderr."""
    if "during handshake" in msg:
        # A browser that does not trust the certificate yet, or a probe, hung up: normal.
        level = logging.DEBUG
    logger.log(level, "%s", msg, exc_info=traceback)


class EmbeddedServer:
    """Both listeners, each serving in a thread of its own."""

    def __init__(
        self, app: WsgiApp, files: TlsFiles, *, host: str, http_port: int, https_port: int
    ) -> None:
        self.https = wsgi.Server(
            (host, https_port), checking_revocation(app), numthreads=HTTPS_THREADS, timeout=30
        )
        adapter = BuiltinSSLAdapter(str(files.chain), str(files.key))
        adapter.context = tls_context(files)
        self.https.ssl_adapter = adapter
        self.http = wsgi.Server(
            (host, http_port), redirecting_to_https(app, https_port), numthreads=HTTP_THREADS
        )
        for server in (self.https, self.http):
            server.error_log = _error_log  # type: ignore[method-assign]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Bind both ports (an error here, e.g. a port in use, is raised to the caller)."""
        for server in (self.https, self.http):
            server.prepare()
        for server in (self.https, self.http):
            thread = threading.Thread(target=server.serve, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in (self.https, self.http):
            server.stop()
        for thread in self._threads:
            thread.join(timeout=5)
