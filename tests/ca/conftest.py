"""Fixtures for the CA tests: a key directory per test, a CA hierarchy, enrollments, CSRs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from ca import keys
from ca.authority import HierarchyOptions, init_hierarchy
from ca.models import CertificateAuthority
from enrollment.models import Enrollment, HolderKind
from portal.celery import app as celery_app
from tests.conftest import require, require_binary
from tests.enrollment.factories import issue_holder

FIXTURES = Path(__file__).parent / "fixtures"
BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
# Fast key types for most tests; tests of the defaults ask for RSA-4096/3072 explicitly.
FAST = HierarchyOptions(
    root_key_type="p384", issuing_key_type="p256", root_days=3650, issuing_days=1825
)
DEFAULTS = HierarchyOptions(
    root_key_type="rsa4096", issuing_key_type="rsa3072", root_days=20 * 365, issuing_days=10 * 365
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def ca_keys(tmp_path: Path, settings: object) -> Iterator[Path]:
    """Every test gets its own key directory and a clean per-process key cache."""
    directory = tmp_path / "ca-keys"
    settings.CA_KEY_DIR = str(directory)  # type: ignore[attr-defined]
    settings.CA_KEY_PASSPHRASE = "test passphrase"  # type: ignore[attr-defined]
    settings.CA_KEY_BACKEND = "file"  # type: ignore[attr-defined]
    settings.CA_ROLE = "all"  # type: ignore[attr-defined]
    keys.reset_for_tests()
    yield directory
    keys.reset_for_tests()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def hierarchy(db: None) -> CertificateAuthority:
    """Root and issuing CA (P-384 / P-256 for speed) with an OCSP responder and CRLs."""
    init_hierarchy(FAST)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    return issuing


@pytest.fixture
def make_enrollment(db: None) -> Callable[..., Enrollment]:
    counter = iter(range(1, 1000))

    def make(
        kind: str = HolderKind.PERSONAL, name: str = "A. Janssen", holder: object = None
    ) -> Enrollment:
        if holder is None:
            holder, _pin = issue_holder(kind=kind, name=name)
        else:
            holder.issue_pin()  # type: ignore[attr-defined]  # one PIN per enrollment
        code = holder.activation_codes.order_by("-pk").first()  # type: ignore[attr-defined]
        return Enrollment.objects.create(
            holder=holder,
            kind=kind,
            activation_code=code,
            email="a.janssen@example.org",
            certificate_name=f"LAPTOP{next(counter)}"[:7],
            password_hash="hashed" if kind == HolderKind.PERSONAL else "",
            expires_at=timezone.now() + timedelta(days=30),
        )

    return make


def run(
    *args: str, input: bytes | None = None, timeout: int = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input.decode() if input else None,
    )


def pkilint_certificate(path: Path) -> subprocess.CompletedProcess[str]:
    return run(str(BIN / "lint_pkix_cert"), "lint", "-s", "WARNING", str(path))


def pkilint_crl(path: Path) -> subprocess.CompletedProcess[str]:
    return run(str(BIN / "lint_crl"), "lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING", str(path))


# --- SoftHSM2 -------------------------------------------------------------------------

SOFTHSM_MODULES = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
]
PKCS11_PIN = "123456"
PKCS11_LABEL = "portal-ca-test"


@pytest.fixture(scope="session")
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One token per test session: SoftHSM reads its configuration once per process."""
    module = next((m for m in SOFTHSM_MODULES if Path(m).exists()), "")
    require("SoftHSM2 (libsofthsm2.so)", lambda: bool(module))
    require_binary("softhsm2-util")
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            PKCS11_LABEL,
            "--pin",
            PKCS11_PIN,
            "--so-pin",
            "654321",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    yield module
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def hsm(softhsm_token: str, settings: Any) -> Iterator[None]:
    settings.CA_KEY_BACKEND = "pkcs11"
    settings.CA_PKCS11_MODULE = softhsm_token
    settings.CA_PKCS11_TOKEN_LABEL = PKCS11_LABEL
    settings.CA_PKCS11_PIN = PKCS11_PIN
    keys.reset_for_tests()
    yield
    keys.reset_for_tests()
