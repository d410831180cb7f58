"""A backup restores into an empty database, and CRL, OCSP and the audit chain still hold."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.core.management import call_command
from django.db import connection

from ca.models import CertificateAuthority, RevocationReason
from ca.tasks import publish_revocations
from enrollment.models import Enrollment
from tests.fixtures.ca import certificate_of, fixture_bytes, order_for
from tests.fixtures.services import require

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from django.test import Client
client = Client()
crl = x509.load_der_x509_crl(client.get("/crl/" + sys.argv[1] + ".crl").content)
print("crl-entry", crl.get_revoked_certificate_by_serial_number(int(sys.argv[2], 16)) is not None)
answer = ocsp.load_der_ocsp_response(client.get("/ocsp/" + sys.argv[3]).content)
print("ocsp", answer.certificate_status.name)
"""


@pytest.fixture
def empty_database(postgres_url: str) -> Iterator[str]:
    require("PostgreSQL test database", lambda: connection.vendor == "postgresql")
    settings_dict = connection.settings_dict
    name = f"portal_restore_{secrets.token_hex(4)}"
    admin = f"host={settings_dict['HOST'] or '127.0.0.1'} port={settings_dict['PORT'] or 5432} user={settings_dict['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    yield f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/{name}"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def manage(database_url: str, key_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "CA_", "DJANGO_SETTINGS"))
    }
    environment.update(
        PORTAL_MODE="test", DATABASE_URL=database_url, CA_KEY_DIR=str(key_dir), CA_KEY_PASSPHRASE="test passphrase",
        CA_ROLE="all", DJANGO_SETTINGS_MODULE="config.settings",
    )  # fmt: skip
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_restored_backup_serves_crl_ocsp_and_keeps_the_audit_chain(
    empty_database: str,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    tmp_path: Path,
    ca_keys: Path,
) -> None:
    require(
        "pg_dump",
        lambda: subprocess.run(["pg_dump", "--version"], capture_output=True).returncode == 0,
    )
    enrollment = make_enrollment()
    order_for(enrollment, fixture_bytes("p256.pem"))  # signed eagerly when this autocommit ends
    certificate = certificate_of(enrollment)
    certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="test")
    publish_revocations(hierarchy.pk)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate.certificate, hierarchy.certificate, hashes.SHA1())  # noqa: S303 - RFC 5019 CertID
        .build()
    )
    encoded = base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode()

    folder = tmp_path / "backup"
    call_command("backup", str(folder))
    assert (folder / "database.dump").exists() and list((folder / "ca-keys").glob("*.pem"))

    restored_keys = tmp_path / "restored-keys"
    result = manage(empty_database, restored_keys, "restore", str(folder))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in restored_keys.glob("*.pem")) == sorted(
        p.name for p in ca_keys.glob("*.pem")
    )

    again = manage(empty_database, tmp_path / "other", "restore", str(folder))
    assert again.returncode != 0 and "not empty" in again.stderr

    audit = manage(empty_database, restored_keys, "verify_audit_log")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    check = manage(
        empty_database,
        restored_keys,
        "shell",
        "-c",
        CHECK.replace("sys.argv[1]", repr(hierarchy.slug))
        .replace("sys.argv[2]", repr(certificate.serial_hex))
        .replace("sys.argv[3]", repr(encoded)),
    )
    assert "crl-entry True" in check.stdout, check.stdout + check.stderr
    assert "ocsp REVOKED" in check.stdout, check.stdout + check.stderr
