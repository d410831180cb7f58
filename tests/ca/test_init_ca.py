"""`manage.py init_ca`: the hierarchy, idempotence, rollover, key storage and the web tier."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.checks import run_checks
from django.core.management import CommandError, call_command

from ca import keys
from ca.models import CaKind, CertificateAuthority, OcspResponder, RevocationList
from tests.fixtures.ca import pkilint_certificate, run

pytestmark = pytest.mark.django_db


def _init(*args: str) -> str:
    out = StringIO()
    call_command("init_ca", *args, stdout=out)
    return out.getvalue()


FAST = ("--root-key-type", "p384", "--issuing-key-type", "p256")


def test_it_creates_root_issuing_ocsp_responder_and_crls(ca_keys: Path) -> None:
    output = _init(*FAST)
    assert "Created root CA" in output and "Created issuing CA" in output
    root = CertificateAuthority.objects.current_root()
    issuing = CertificateAuthority.objects.current_issuing()
    assert root is not None and issuing is not None and issuing.parent == root
    basic = issuing.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    key_usage = root.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.key_cert_sign and key_usage.crl_sign
    assert OcspResponder.objects.filter(ca=issuing).exists()
    assert (
        RevocationList.objects.filter(ca=root).exists()
        and RevocationList.objects.filter(ca=issuing).exists()
    )
    key_files = sorted(p.name for p in ca_keys.glob("*.key.pem"))
    assert len(key_files) == 3
    for path in ca_keys.glob("*.key.pem"):
        assert path.stat().st_mode & 0o077 == 0
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()


def test_it_is_idempotent_and_never_overwrites(ca_keys: Path) -> None:
    _init(*FAST)
    before = {p.name: p.read_bytes() for p in ca_keys.glob("*.key.pem")}
    fingerprints = set(CertificateAuthority.objects.values_list("sha256_hex", flat=True))
    assert "nothing to do" in _init(*FAST)
    assert {p.name: p.read_bytes() for p in ca_keys.glob("*.key.pem")} == before
    assert set(CertificateAuthority.objects.values_list("sha256_hex", flat=True)) == fingerprints


def test_default_key_types_and_lifetimes_are_rsa_4096_20y_and_rsa_3072_10y(tmp_path: Path) -> None:
    _init()
    root = CertificateAuthority.objects.current_root()
    issuing = CertificateAuthority.objects.current_issuing()
    assert root is not None and issuing is not None
    root_key, issuing_key = root.certificate.public_key(), issuing.certificate.public_key()
    assert isinstance(root_key, rsa.RSAPublicKey) and root_key.key_size == 4096
    assert isinstance(issuing_key, rsa.RSAPublicKey) and issuing_key.key_size == 3072
    assert (root.not_after - root.not_before).days >= 20 * 365
    assert (issuing.not_after - issuing.not_before).days >= 10 * 365
    for ca in (root, issuing):
        path = tmp_path / f"{ca.slug}.pem"
        path.write_text(ca.pem)
        assert pkilint_certificate(path).returncode == 0
    (tmp_path / "root-only.pem").write_text(root.pem)
    result = run(
        "openssl",
        "verify",
        "-x509_strict",
        "-CAfile",
        str(tmp_path / "root-only.pem"),
        str(tmp_path / f"{issuing.slug}.pem"),
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("key_type", ["rsa2048", "p256", "p384"])
def test_key_types_are_configurable(key_type: str) -> None:
    _init(
        "--root-key-type",
        key_type,
        "--issuing-key-type",
        key_type,
        "--root-days",
        "3650",
        "--issuing-days",
        "365",
    )
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    assert keys.KeySpec.of(issuing.certificate.public_key()).name == key_type  # type: ignore[arg-type]
    assert 365 <= (issuing.not_after - issuing.not_before).days <= 366


def test_rollover_adds_an_issuing_ca_and_the_old_one_keeps_serving(tmp_path: Path) -> None:
    _init(*FAST)
    old = CertificateAuthority.objects.current_issuing()
    assert "keeps serving" in _init(*FAST, "--rollover")
    new = CertificateAuthority.objects.current_issuing()
    assert old is not None and new is not None and new.pk != old.pk
    old.refresh_from_db()
    assert not old.active
    assert set(CertificateAuthority.objects.serving().issuing()) == {old, new}
    assert new.parent == old.parent
    assert new.common_name != old.common_name


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(CommandError):
        _init("--root-days", "10")
    with pytest.raises(CommandError):
        call_command("init_ca", "--root-key-type", "p521", stdout=StringIO())


def test_a_web_process_cannot_load_or_create_ca_keys(settings: Any) -> None:
    settings.CA_ROLE = "web"
    keys.reset_for_tests()
    with pytest.raises(CommandError, match="CA_ROLE=web"):
        _init(*FAST)


def test_the_system_check_fails_when_the_web_tier_has_key_material(settings: Any) -> None:
    settings.CA_ROLE = "web"
    settings.CA_KEY_PASSPHRASE = "secret"
    errors = [e for e in run_checks(tags=["ca"]) if e.id == "ca.E001"]
    assert errors and errors[0].hint
    settings.CA_KEY_PASSPHRASE = None
    settings.CA_PKCS11_MODULE = ""
    settings.CA_PKCS11_PIN = None
    assert not [e for e in run_checks(tags=["ca"]) if e.id == "ca.E001"]


def test_the_system_check_refuses_unknown_key_types(settings: Any) -> None:
    settings.CA_ISSUING_KEY_TYPE = "rsa1024"
    assert [e for e in run_checks(tags=["ca"]) if e.id == "ca.E002"]


def test_the_system_check_refuses_a_ca_name_too_long_for_a_common_name(settings: Any) -> None:
    settings.CA_NAME = "Zorgportaal " + "x" * 37  # 49 characters + " Issuing CA 2026" > 64
    assert [e for e in run_checks(tags=["ca"]) if e.id == "ca.E006"]
    settings.CA_NAME = "Zorgportaal 't Gooi"
    assert not [e for e in run_checks(tags=["ca"]) if e.id == "ca.E006"]


def test_keys_are_loaded_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    _init(*FAST)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    keys.reset_for_tests()
    from ca.keys.files import FileKeyBackend

    loads = []
    original = FileKeyBackend.load

    def counting(self: FileKeyBackend, ref: str, *, generated_here: bool) -> keys.SoftwareKey:
        loads.append((ref, generated_here))
        return original(self, ref, generated_here=generated_here)

    monkeypatch.setattr(FileKeyBackend, "load", counting)
    for _ in range(3):
        key = issuing.signing_key()
    assert loads == [(issuing.key_ref, True)]
    assert isinstance(key, keys.SoftwareKey) and isinstance(
        key.private_key, ec.EllipticCurvePrivateKey
    )


def test_a_wrong_passphrase_is_an_error_not_a_new_key(settings: Any) -> None:
    _init(*FAST)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    settings.CA_KEY_PASSPHRASE = "wrong"
    keys.reset_for_tests()
    with pytest.raises(ValueError):
        issuing.signing_key()
    assert CaKind.ROOT


def test_health_reports_missing_ok_and_stale_crls(time_machine: Any, settings: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from ca.health import ca_status

    assert ca_status() == "missing"
    _init(*FAST)
    assert ca_status() == "ok"
    time_machine.move_to(timezone.now() + timedelta(hours=settings.CA_CRL_VALIDITY_HOURS + 1))
    assert ca_status() == "crl_stale"


def test_manage_py_check_fails_for_a_production_web_tier_with_a_ca_passphrase(
    tmp_path: Path,
) -> None:
    import os
    import sys

    root = Path(__file__).resolve().parents[2]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CA_", "PYTEST"))},
        "PORTAL_MODE": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "portal.example.nl",
        "VAR_DIR": str(tmp_path),
        "CA_ROLE": "web",
        "CA_KEY_PASSPHRASE": "the worker's secret",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ca.E001" in result.stderr
    assert "HINT" in result.stderr
