"""The container deployment, checked without a Docker engine: the compose file as Compose
reads it, the entrypoint script, and the nginx configuration as nginx parses it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.fixtures.services import require_binary

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
NGINX_CONF = ROOT / "deploy" / "nginx" / "portal.conf"
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
PORTAL_SERVICES = {"web", "worker", "beat"}
CA_KEY_MOUNT = "/var/lib/portal/ca-keys"
# Settings that name key material: the web tier must never see them (check ca.E001).
CA_KEY_SETTINGS = {
    "CA_KEY_DIR",
    "CA_KEY_PASSPHRASE",
    "CA_KEY_PASSPHRASE_FILE",
    "CA_PKCS11_MODULE",
    "CA_PKCS11_PIN",
    "CA_PKCS11_PIN_FILE",
}


def example_variables() -> set[str]:
    """Every NAME in .env.example, set (NAME=…) or documented with its default (# NAME=…)."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


@pytest.fixture(scope="module")
def compose() -> Iterator[dict[str, Any]]:
    """`docker-compose config` with the values of .env.example, parsed."""
    binary = require_binary("docker-compose")
    result = subprocess.run(
        [binary, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    yield yaml.safe_load(result.stdout)


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def volume_sources(service: dict[str, Any]) -> list[str]:
    sources = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            sources.append(str(volume.get("source", "")))
        else:
            sources.append(str(volume).split(":", 1)[0])
    return sources


def test_it_validates_quietly_with_the_example_environment() -> None:
    binary = require_binary("docker-compose")
    result = subprocess.run(
        [binary, "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_it_has_the_production_shape(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {
        "nginx",
        "web",
        "worker",
        "beat",
        "postgres",
        "redis",
        "mailpit",
    }
    for name in PORTAL_SERVICES:
        assert services(compose)[name]["command"] == [name]


def test_only_the_worker_mounts_the_ca_key_volume(compose: dict[str, Any]) -> None:
    mounting = {
        name
        for name, service in services(compose).items()
        if "ca-keys" in volume_sources(service)
        or any(CA_KEY_MOUNT in str(v) for v in service.get("volumes", []))
    }
    assert mounting == {"worker"}
    assert "ca-keys" in compose["volumes"]


def test_only_the_worker_is_given_ca_key_settings_and_the_passphrase(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        environment = service.get("environment", {})
        given = {key for key, value in environment.items() if value} & CA_KEY_SETTINGS
        secrets = {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
        if name == "worker":
            assert environment["CA_ROLE"] == "worker"
            assert {"CA_KEY_DIR", "CA_KEY_PASSPHRASE_FILE"} <= given
            assert "ca_key_passphrase" in secrets
        else:
            assert given == set(), name
            assert "ca_key_passphrase" not in secrets, name


def test_web_and_beat_run_with_the_web_ca_role(compose: dict[str, Any]) -> None:
    assert services(compose)["web"]["environment"]["CA_ROLE"] == "web"
    assert services(compose)["beat"]["environment"]["CA_ROLE"] == "web"


def test_web_trusts_only_the_network_it_shares_with_nginx_alone(compose: dict[str, Any]) -> None:
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert services(compose)["web"]["environment"]["TRUSTED_PROXIES"] == subnet
    on_edge = {name for name, service in services(compose).items() if "edge" in service["networks"]}
    assert on_edge == {"nginx", "web"}
    assert set(services(compose)["nginx"]["networks"]) == {"edge"}
    assert set(services(compose)["web"]["networks"]) == {"edge", "backend"}
    for name in set(services(compose)) - {"web"}:
        assert "TRUSTED_PROXIES" not in services(compose)[name].get("environment", {}), name


def test_portal_processes_read_secrets_from_files(compose: dict[str, Any]) -> None:
    for name in PORTAL_SERVICES:
        environment = services(compose)[name]["environment"]
        assert environment["SECRET_KEY_FILE"].startswith("/run/secrets/")
        assert "SECRET_KEY" not in environment
        assert ":" not in environment["DATABASE_URL"].split("//", 1)[1].split("@", 1)[0]
        assert environment["PORTAL_MODE"] == "production"


def test_redis_never_evicts_and_persists(compose: dict[str, Any]) -> None:
    command = services(compose)["redis"]["command"]
    joined = " ".join(command) if isinstance(command, list) else command
    assert "--maxmemory-policy noeviction" in joined
    assert "--appendonly yes" in joined
    assert "/data" in " ".join(str(v) for v in services(compose)["redis"]["volumes"])


def test_postgres_keeps_its_data_in_a_volume(compose: dict[str, Any]) -> None:
    assert "postgres-data" in volume_sources(services(compose)["postgres"])


def test_every_service_restarts_and_is_health_checked_where_it_can_be(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        assert service.get("restart") == "unless-stopped", name
    for name in ("nginx", "worker", "postgres", "redis"):
        assert services(compose)[name]["healthcheck"]["test"], name
    # web uses the image's HEALTHCHECK (/healthz); beat has no port to ask.
    assert "healthcheck" not in services(compose)["web"]
    assert "HEALTHCHECK" in (ROOT / "Dockerfile").read_text()
    assert "/healthz" in (ROOT / "Dockerfile").read_text()
    for name in PORTAL_SERVICES:
        conditions = services(compose)[name]["depends_on"]
        assert conditions["postgres"]["condition"] == "service_healthy"
        assert conditions["redis"]["condition"] == "service_healthy"


def test_scaled_services_share_nothing_on_disk_and_publish_no_ports(
    compose: dict[str, Any],
) -> None:
    # --scale web=3 --scale worker=4: fixed host ports or bind-mounted state would collide.
    for name in ("web", "worker"):
        service = services(compose)[name]
        assert "ports" not in service, name
        assert "container_name" not in service, name
        binds = [
            v for v in service.get("volumes", []) if isinstance(v, dict) and v.get("type") == "bind"
        ]
        assert binds == [], name
    assert "web:8000" in NGINX_CONF.read_text()


def test_every_variable_compose_uses_is_in_the_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_FILE.read_text()))
    passed_through = set(
        re.findall(r"^\s+([A-Z][A-Z0-9_]*):\s*$", COMPOSE_FILE.read_text(), re.MULTILINE)
    )
    assert used
    assert used - example_variables() == set()
    assert passed_through - example_variables() == set()


def test_every_setting_the_portal_reads_is_in_the_env_example() -> None:
    settings = (ROOT / "config" / "settings.py").read_text()
    read = set(
        re.findall(r"env_(?:str|bool|int|list|networks|secret)\(\s*\"([A-Z0-9_]+)\"", settings)
    )
    assert {"SECRET_KEY", "DATABASE_URL", "CA_KEY_PASSPHRASE", "ALLOWED_HOSTS"} <= read
    assert read - example_variables() == set()


def test_every_setting_in_the_env_example_has_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#? ?[A-Z][A-Z0-9_]*=", line):
            above = lines[:index]
            # The nearest line above that is not itself a setting is a comment.
            prose = next(
                (
                    previous
                    for previous in reversed(above)
                    if not re.match(r"^#? ?[A-Z][A-Z0-9_]*=", previous)
                ),
                "",
            )
            assert prose.startswith("# "), line


def test_the_entrypoint_is_posix_sh_and_shellcheck_clean() -> None:
    shellcheck = require_binary("shellcheck")
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    for script in (
        ENTRYPOINT,
        ROOT / "deploy" / "nginx" / "reload-trust.sh",
        ROOT / "deploy" / "nginx" / "proxy-secret.sh",
        ROOT / "deploy" / "build-argon2.sh",
    ):
        result = subprocess.run(
            [shellcheck, "--shell=sh", str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout


def write_stub_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A self-signed certificate, its key and an empty CRL: stand-ins for the mounted files."""
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stub")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(name)
        .last_update(now)
        .next_update(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    paths = (folder / "stub.pem", folder / "stub.key", folder / "crl.pem")
    paths[0].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return paths


def test_the_nginx_configuration_is_accepted_by_nginx(tmp_path: Path) -> None:
    """portal.conf inside a minimal http block, the compose service names pointed at loopback
    and the mounted certificate paths at stub files, as the nginx image would include it;
    the proxy secret's include written by proxy-secret.sh, as the image's entrypoint runs it."""
    nginx = require_binary("nginx")
    stub, key, crl = write_stub_tls_files(tmp_path)
    (tmp_path / "proxy_secret").write_text("0123456789abcdef" * 4 + "\n")
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "nginx" / "proxy-secret.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "PROXY_SECRET_FILE": str(tmp_path / "proxy_secret"),
            "PROXY_SECRET_INCLUDE": str(tmp_path / "proxy-secret.conf"),
        },
        check=True,
        timeout=30,
    )
    conf = (
        NGINX_CONF.read_text()
        .replace("/etc/nginx/proxy-secret.conf", str(tmp_path / "proxy-secret.conf"))
        .replace("http://web:8000", "http://127.0.0.1:8000")
        .replace("/etc/nginx/tls/server.pem", str(stub))
        .replace("/etc/nginx/tls/server.key", str(key))
        .replace("/etc/nginx/trust/client-ca.pem", str(stub))
        .replace("/etc/nginx/trust/crl.pem", str(crl))
        .replace("listen 80 ", "listen 127.0.0.1:18080 ")
        .replace("listen 443 ", "listen 127.0.0.1:18443 ")
        .replace("listen [::]:80 default_server;", "")
        .replace("listen [::]:443 ssl http2 default_server;", "")
    )
    (tmp_path / "portal.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/portal.conf;
}}
"""
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_forwards_the_client_certificate_verdict_on_every_proxied_request() -> None:
    conf = NGINX_CONF.read_text()
    proxied = conf.count("proxy_pass ")
    assert proxied == 2
    assert conf.count("proxy_set_header X-Client-Verify") == proxied
    assert conf.count("proxy_set_header X-Client-Cert") == proxied
    # Set, not appended to: nginx is the only proxy, and a client's own entries are dropped.
    assert conf.count("proxy_set_header X-Forwarded-For $remote_addr;") == proxied
    assert "$proxy_add_x_forwarded_for" not in conf
    assert conf.count("include /etc/nginx/proxy-secret.conf;") == proxied
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    assert "ssl_verify_client optional;" in conf
    assert "client_max_body_size 64k;" in conf
    assert "return 301 https://" in conf
