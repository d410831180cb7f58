"""The PKCS#11 key backend against SoftHSM2: the CA keys live on the token and never leave it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ca import keys
from ca.authority import HierarchyOptions, init_hierarchy
from ca.models import Certificate, CertificateAuthority, OrderStatus
from enrollment.models import Enrollment
from tests.fixtures.ca import fixture_bytes, order_for, pkilint_certificate, run

OPTIONS = HierarchyOptions(
    root_key_type="p384", issuing_key_type="rsa2048", root_days=3650, issuing_days=1825
)


@pytest.mark.django_db
def test_an_hsm_hierarchy_issues_lint_clean_verifiable_certificates(
    hsm: None,
    ca_keys: Path,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    tmp_path: Path,
) -> None:
    init_hierarchy(OPTIONS)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None and issuing.parent is not None
    assert issuing.key_backend == issuing.parent.key_backend == "pkcs11"
    # Only the delegated OCSP responder key is a file; no CA key is.
    assert [p.name.startswith("ocsp-") for p in ca_keys.glob("*.key.pem")] == [True]
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED, order.error_code
    certificate = Certificate.objects.get(order=order)
    (tmp_path / "root.pem").write_text(issuing.parent.pem)
    (tmp_path / "issuing.pem").write_text(issuing.pem)
    (tmp_path / "leaf.pem").write_text(certificate.pem)
    result = run(
        "openssl",
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        str(tmp_path / "root.pem"),
        "-untrusted",
        str(tmp_path / "issuing.pem"),
        str(tmp_path / "leaf.pem"),
    )
    assert result.returncode == 0, result.stderr
    for name in ("root.pem", "issuing.pem", "leaf.pem"):
        assert pkilint_certificate(tmp_path / name).returncode == 0


@pytest.mark.parametrize("spec", ["rsa2048", "p256", "p384"])
def test_keys_are_generated_on_the_token_as_sensitive_and_unextractable(
    hsm: None, spec: str
) -> None:
    from pkcs11 import Attribute, ObjectClass

    from ca.keys.pkcs11 import Pkcs11KeyBackend

    backend = keys.get_backend("pkcs11")
    assert isinstance(backend, Pkcs11KeyBackend)
    ref = f"unit-{spec}-{os.urandom(4).hex()}"
    key = backend.generate(ref, keys.KeySpec(spec))
    private = backend.session().get_key(object_class=ObjectClass.PRIVATE_KEY, label=ref)
    assert private[Attribute.SENSITIVE] is True
    assert private[Attribute.EXTRACTABLE] is False
    data = b"to be signed"
    signature = key.sign(data, keys.KeySpec(spec).hash_algorithm())
    public_key = key.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        public_key.verify(signature, data, ec.ECDSA(keys.KeySpec(spec).hash_algorithm()))
    with pytest.raises(keys.KeysUnavailable):
        backend.generate(ref, keys.KeySpec(spec))  # never replaces a key


def test_a_forked_worker_opens_its_own_session(hsm: None) -> None:
    backend = keys.get_backend("pkcs11")
    ref = f"fork-{os.urandom(4).hex()}"
    backend.generate(ref, keys.KeySpec("p256"))
    parent_key = keys.load_key("pkcs11", ref, generated_here=True)
    pid = os.fork()
    if pid == 0:  # the child: like a Celery pool process after fork
        code = 1
        try:
            fresh = keys.get_backend("pkcs11")
            key = keys.load_key("pkcs11", ref, generated_here=True)
            if fresh is not backend and key is not parent_key and key.sign(b"x", hashes.SHA256()):
                code = 0
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert keys.load_key("pkcs11", ref, generated_here=True) is parent_key  # parent unaffected
