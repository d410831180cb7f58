"""Only nginx vouches for a client certificate, with real nginx in front of the live server.

A test here "plays another container": it talks to the web backend directly, bypassing
nginx, with `X-Client-Verify: SUCCESS` and a real issued certificate's PEM in the headers,
as a compromised worker or Redis container on the compose network could. The same holder
through nginx, with the certificate in the TLS handshake, gets in. nginx sends the secret the
way production does (deploy/nginx/proxy-secret.sh writes its include; tests/fixtures/stack.py).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import secrets
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest

from audit.models import AuditEntry
from ca.crl import trust_files
from ca.models import CertificateAuthority
from tests.fixtures.services import require_binary
from tests.fixtures.stack import Nginx, ServerTls, write_proxy_secret_include
from tests.integration.certificates import PASSWORD, Issued
from tests.stack_ports import free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# Loopback addresses: nginx and the live server listen on 127.0.0.1, which TRUSTED_PROXIES
# names; 127.0.0.2 is "another container", outside it.
NGINX_ADDRESS = "127.0.0.1"
OTHER_ADDRESS = "127.0.0.2"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self) -> dict[str, Any]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    @property
    def code(self) -> str:
        return str(self.json().get("code", ""))

    @property
    def problem(self) -> str:
        match = re.search(r'data-problem="([a-z]+)"', self.body)
        return match.group(1) if match else ""


def send(
    base: str,
    path: str,
    *,
    source: str,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    tls: ServerTls | None = None,
    certificate: Issued | None = None,
) -> Answer:
    """One request from ``source``: over TLS to nginx (with the client certificate in the
    handshake), or plain HTTP straight to the web backend."""
    parts = urlsplit(base)
    host, port = parts.hostname or "", parts.port or 0
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        assert tls is not None
        context = ssl.create_default_context(cafile=str(tls.ca_pem))
        if certificate is not None:
            context.load_cert_chain(str(certificate.chain), str(certificate.key))
        connection = http.client.HTTPSConnection(
            host, port, context=context, timeout=20, source_address=(source, 0)
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=20, source_address=(source, 0))
    body = urlencode(form) if form is not None else None
    all_headers = dict(headers or {})
    if body is not None:
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request("POST" if body is not None else "GET", path, body, all_headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode())
    finally:
        connection.close()


def forged(issued: Issued, **extra: str) -> dict[str, str]:
    """What another container sends web to pass as nginx with someone's public certificate."""
    return {
        "X-Client-Verify": "SUCCESS",
        "X-Client-Cert": quote(issued.pem),
        "X-Forwarded-For": NGINX_ADDRESS,
        **extra,
    }


def test_another_container_cannot_use_a_system_certificate_that_nginx_accepts(
    nginx_server: Nginx,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    issue: Callable[[str, str], Issued],
) -> None:
    issued = issue("system", "127.0.0.0/8")
    path = "/api/v1/system/whoami"

    through_nginx = send(
        nginx_server.url, path, source=NGINX_ADDRESS, tls=server_tls, certificate=issued
    )
    assert (through_nginx.status, issued.holder.user_number in through_nginx.body) == (200, True)
    used = AuditEntry.objects.filter(event="certificate_used").count()

    web = nginx_server.upstream
    attempts = {
        # Another container: an address outside TRUSTED_PROXIES, even holding the secret.
        "other address": send(
            web,
            path,
            source=OTHER_ADDRESS,
            headers=forged(issued, **{"X-Proxy-Secret": nginx_server.proxy_secret}),
        ),
        # A neighbour of nginx (another web container, the Docker host's gateway): the
        # address is trusted, but it does not know the secret.
        "no secret": send(web, path, source=NGINX_ADDRESS, headers=forged(issued)),
        "wrong secret": send(
            web,
            path,
            source=NGINX_ADDRESS,
            headers=forged(issued, **{"X-Proxy-Secret": secrets.token_urlsafe(32)}),
        ),
    }
    for name, answer in attempts.items():
        assert (answer.status, answer.code) == (401, "no_client_certificate"), name
    assert AuditEntry.objects.filter(event="certificate_used").count() == used


def csrf_form(answer: Answer) -> tuple[str, str]:
    """The CSRF cookie and the form's token from a page that shows a form."""
    cookies: SimpleCookie = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.body)
    assert match and "csrftoken" in cookies, answer.body[:500]
    return cookies["csrftoken"].value, match.group(1)


def test_another_container_cannot_log_in_with_a_personal_certificate_that_nginx_accepts(
    nginx_server: Nginx,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    issue: Callable[[str, str], Issued],
) -> None:
    issued = issue("personal", "")
    credentials = {"user_number": issued.holder.user_number, "password": PASSWORD}

    # Through nginx with the certificate: the login form, and the password opens the next step.
    page = send(
        nginx_server.url, "/inloggen/", source=NGINX_ADDRESS, tls=server_tls, certificate=issued
    )
    assert page.status == 200 and page.problem == ""
    cookie, token = csrf_form(page)
    logged_in = send(
        nginx_server.url,
        "/inloggen/",
        source=NGINX_ADDRESS,
        tls=server_tls,
        certificate=issued,
        headers={"Cookie": f"csrftoken={cookie}", "Origin": nginx_server.url},
        form={**credentials, "csrfmiddlewaretoken": token},
    )
    assert logged_in.status == 302
    assert logged_in.headers["Location"].endswith("/inloggen/authenticator/")

    # Straight to web, with the same certificate's PEM in the headers and the right password.
    # The CSRF pair is one the caller makes up itself, as an attacker can.
    web = nginx_server.upstream
    made_up = secrets.token_hex(16)
    for source, extra in ((OTHER_ADDRESS, {}), (NGINX_ADDRESS, {"X-Proxy-Secret": "guess"})):
        headers = forged(issued, **extra)
        assert send(web, "/inloggen/", source=source, headers=headers).problem == "none"
        attempt = send(
            web,
            "/inloggen/",
            source=source,
            headers={**headers, "Cookie": f"csrftoken={made_up}", "Origin": web},
            form={**credentials, "csrfmiddlewaretoken": made_up},
        )
        assert (attempt.status, attempt.problem) == (403, "none"), source
        assert "Location" not in attempt.headers
    assert not AuditEntry.objects.filter(event__in=["login", "login_failed"]).exists()


# --- The production configuration itself ------------------------------------------------


@dataclass
class ProductionNginx:
    url: str
    proxy_secret: str


@pytest.fixture
def production_nginx(
    live_server: Any,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    tmp_path: Path,
    settings: Any,
) -> Iterator[ProductionNginx]:
    """deploy/nginx/portal.conf as the nginx image runs it (the include rendered by
    proxy-secret.sh), with the compose names and mounted paths pointed at this machine."""
    binary = require_binary("nginx")
    run = tmp_path / "production-nginx"
    run.mkdir()
    for name, content in trust_files().items():
        (run / name).write_bytes(content)
    proxy_secret = secrets.token_hex(32)
    include = write_proxy_secret_include(run, proxy_secret)
    http_port, https_port = free_port(), free_port()
    conf = (
        (ROOT / "deploy" / "nginx" / "portal.conf")
        .read_text()
        .replace("http://web:8000", f"http://127.0.0.1:{live_server.url.rsplit(':', 1)[1]}")
        .replace("/etc/nginx/proxy-secret.conf", str(include))
        .replace("/etc/nginx/tls/server.pem", str(server_tls.certificate))
        .replace("/etc/nginx/tls/server.key", str(server_tls.key))
        .replace("/etc/nginx/trust/", f"{run}/")
        .replace("listen 80 ", f"listen 127.0.0.1:{http_port} ")
        .replace("listen 443 ", f"listen 127.0.0.1:{https_port} ")
        .replace("listen [::]:80 default_server;", "")
        .replace("listen [::]:443 ssl http2 default_server;", "")
    )
    directives = "\n".join(line for line in conf.splitlines() if not line.strip().startswith("#"))
    assert "web:8000" not in directives and "/etc/nginx" not in directives
    (run / "portal.conf").write_text(conf)
    (run / "nginx.conf").write_text(
        f"""user root;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include {run}/portal.conf;
}}
"""
    )
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    settings.PROXY_SECRET = proxy_secret
    process = subprocess.Popen(
        [binary, "-p", str(run), "-c", str(run / "nginx.conf")], stderr=subprocess.PIPE
    )
    url = f"https://127.0.0.1:{https_port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            send(f"http://127.0.0.1:{http_port}", "/", source=NGINX_ADDRESS)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"nginx did not start: {stderr}")
            time.sleep(0.05)
    yield ProductionNginx(url, proxy_secret)
    process.terminate()
    process.wait(timeout=10)


def test_production_nginx_replaces_the_headers_a_client_sends_in_its_own_name(
    production_nginx: ProductionNginx,
    server_tls: ServerTls,
    hierarchy: CertificateAuthority,
    issue: Callable[[str, str], Issued],
) -> None:
    issued = issue("system", f"{NGINX_ADDRESS}/32")
    path = "/api/v1/system/whoami"
    url = production_nginx.url
    # A client without a certificate that writes nginx's headers itself, the secret included.
    headers = forged(issued, **{"X-Proxy-Secret": production_nginx.proxy_secret})
    for source in (NGINX_ADDRESS, OTHER_ADDRESS):
        answer = send(url, path, source=source, headers=headers, tls=server_tls)
        assert (answer.status, answer.code) == (401, "no_client_certificate"), source

    # With the certificate in the handshake: believed, from the address nginx saw, not the one
    # the client wrote into X-Forwarded-For.
    allowed = send(url, path, source=NGINX_ADDRESS, tls=server_tls, certificate=issued)
    assert (allowed.status, allowed.json()["address"]) == (200, NGINX_ADDRESS)
    refused = send(
        url,
        path,
        source=OTHER_ADDRESS,
        headers={"X-Forwarded-For": NGINX_ADDRESS},
        tls=server_tls,
        certificate=issued,
    )
    assert (refused.status, refused.code) == (403, "address_not_allowed")
    assert refused.json()["address"] == OTHER_ADDRESS
