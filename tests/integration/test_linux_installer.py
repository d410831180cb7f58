"""The whole of step 7 on Linux, with the real things: the wizard, the downloaded installer run
as a user would, nginx verifying client certificates, Redis, a Celery worker process and
PostgreSQL. Afterwards the NSS database holds the certificate and trusts the root."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from ca.models import Certificate, CertificateAuthority, Order
from enrollment.models import Enrollment
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker
from tests.fixtures.ca import BIN, certificate_of
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db(transaction=True)


def enroll_through_the_wizard(kind: str = "personal") -> tuple[Client, Enrollment]:
    make_policy()
    holder, pin = issue_holder(kind, name="A. Janssen" if kind == "personal" else "Koppeling")
    client = Client()
    walker = WizardWalker(client, kind)
    response = walker.complete(holder.user_number, pin, name="LINUX-1")
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, Enrollment.objects.get(holder=holder)


def download_installer(client: Client, enrollment: Enrollment, folder: Path) -> Path:
    response = client.post(f"/enroll/{enrollment.public_id}/installer/", {"platform": "linux"})
    assert response.status_code == 200
    path = folder / "installeer-LINUX-1.sh"
    path.write_bytes(response.content)
    return path


def only_certificate_of(enrollment: Enrollment) -> Certificate:
    """The enrollment's recorded certificate, which is all its holder has and came from its
    one order."""
    certificate = certificate_of(enrollment)
    assert list(Certificate.objects.filter(holder_reference=enrollment.holder.ca_reference)) == [
        certificate
    ]
    assert Order.objects.filter(reference=enrollment.public_id).count() == 1
    return certificate


def run_installer(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    return subprocess.run(
        ["sh", str(script), "--yes", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=environment,
        stdin=subprocess.DEVNULL,
    )


def test_the_linux_installer_enrolls_installs_and_confirms_over_mutual_tls(
    nginx: str, workers: Any, hierarchy: CertificateAuthority, tmp_path: Path
) -> None:
    certutil = require_binary("certutil")
    require_binary("openssl")
    require_binary("curl")
    workers.start("installer-worker")
    client, enrollment = enroll_through_the_wizard()
    script = download_installer(client, enrollment, tmp_path)
    assert nginx in script.read_text()

    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out"
    result = run_installer(script, home, "--out", str(out))
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{workers.logs()}"
    assert "Klaar" in result.stdout

    # The NSS database that Chrome and Chromium use holds the certificate and trusts the root.
    listing = subprocess.run(
        [certutil, "-L", "-d", f"sql:{home}/.pki/nssdb"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^LINUX-1\s+u,u,u$", listing, re.M), listing
    assert re.search(r"Root CA\s+C,,\s*$", listing, re.M), listing

    # The certificate chains to our root, is fit for client authentication, and lints clean.
    root = CertificateAuthority.objects.current_root()
    assert root is not None
    (tmp_path / "root.pem").write_text(root.pem)
    verify = subprocess.run(
        [
            "openssl",
            "verify",
            "-x509_strict",
            "-purpose",
            "sslclient",
            "-CAfile",
            str(tmp_path / "root.pem"),
            "-untrusted",
            str(out / "chain.pem"),
            str(out / "certificate.pem"),
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    lint = subprocess.run(
        [str(BIN / "lint_pkix_cert"), "lint", "-s", "WARNING", str(out / "certificate.pem")],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    # The key stayed on the machine, readable only by its owner.
    assert (out / "key.pem").stat().st_mode & 0o077 == 0
    # nginx verified the certificate and the portal recorded the installation.
    enrollment.refresh_from_db()
    assert enrollment.status == "installed"
    only_certificate_of(enrollment)


def test_a_second_run_of_the_same_installer_is_refused_cleanly(
    nginx: str, workers: Any, hierarchy: CertificateAuthority, tmp_path: Path
) -> None:
    workers.start("replay-worker")
    client, enrollment = enroll_through_the_wizard()
    script = download_installer(client, enrollment, tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    assert run_installer(script, home).returncode == 0
    again = run_installer(script, tmp_path)
    assert again.returncode != 0
    assert "andere sleutel" in again.stderr or "another key" in again.stderr
    only_certificate_of(enrollment)
