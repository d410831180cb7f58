"""OCSP (openssl against a live server, GET and POST), CRL URLs and the CA download page."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.test import Client
from django.urls import reverse

from ca.models import Certificate, CertificateAuthority, RevocationReason
from enrollment.models import Enrollment
from tests.fixtures.ca import BIN, fixture_bytes, order_for, run
from tests.fixtures.services import require_binary


def _issue(
    make_enrollment: Callable[..., Enrollment], capture: Callable[..., Any] | None = None
) -> Certificate:
    if capture is None:
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    else:
        with capture(execute=True):
            order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    return Certificate.objects.get(order=order)


def _openssl_ocsp(
    url: str, tmp_path: Path, issuing: CertificateAuthority, certificate: Certificate
) -> str:
    assert issuing.parent is not None
    (tmp_path / "trust.pem").write_text(issuing.parent.pem + issuing.pem)
    (tmp_path / "issuer.pem").write_text(issuing.pem)
    (tmp_path / "leaf.pem").write_text(certificate.pem)
    result = run(
        "openssl",
        "ocsp",
        "-issuer",
        str(tmp_path / "issuer.pem"),
        "-cert",
        str(tmp_path / "leaf.pem"),
        "-CAfile",
        str(tmp_path / "trust.pem"),
        "-url",
        url,
        "-no_nonce",
        timeout=30,
    )
    assert "Response verify OK" in result.stderr + result.stdout, result.stderr + result.stdout
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_openssl_ocsp_says_good_then_revoked_against_a_live_server(
    live_server: Any,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    tmp_path: Path,
) -> None:
    require_binary("openssl")
    certificate = _issue(make_enrollment)
    url = f"{live_server.url}/ocsp"
    assert f"{tmp_path / 'leaf.pem'}: good" in _openssl_ocsp(url, tmp_path, hierarchy, certificate)
    certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="admin:alice")
    output = _openssl_ocsp(url, tmp_path, hierarchy, certificate)
    assert f"{tmp_path / 'leaf.pem'}: revoked" in output
    assert "Reason: keyCompromise" in output


def _request(certificate: Certificate, issuing: CertificateAuthority) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(
        certificate.certificate,
        issuing.certificate,
        hashes.SHA1(),  # noqa: S303 - CertID
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


@pytest.mark.django_db
def test_get_and_post_give_the_same_presigned_answer_from_the_delegated_responder(
    tmp_path: Path,
    client: Client,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    certificate = _issue(make_enrollment, django_capture_on_commit_callbacks)
    request_der = _request(certificate, hierarchy)
    posted = client.post(reverse("ca:ocsp"), request_der, content_type="application/ocsp-request")
    encoded = quote(base64.b64encode(request_der).decode(), safe="")
    got = client.get(f"/ocsp/{encoded}")
    assert posted["Content-Type"] == got["Content-Type"] == "application/ocsp-response"
    assert posted.content == got.content
    response = ocsp.load_der_ocsp_response(posted.content)
    assert response.certificate_status == ocsp.OCSPCertStatus.GOOD
    responder = response.certificates[0]
    eku = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.ExtendedKeyUsageOID.OCSP_SIGNING in eku
    responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    responder.verify_directly_issued_by(hierarchy.certificate)
    assert response.next_update_utc is not None
    (tmp_path / "response.der").write_bytes(posted.content)
    (tmp_path / "responder.der").write_bytes(responder.public_bytes(serialization.Encoding.DER))
    for tool, name in (("lint_ocsp_response", "response.der"), ("lint_pkix_cert", "responder.der")):
        lint = run(str(BIN / tool), "lint", "-s", "WARNING", str(tmp_path / name))
        assert lint.returncode == 0, f"{tool}: {lint.stdout}"


@pytest.mark.django_db
def test_revocation_replaces_the_cached_good_answer(
    client: Client,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    certificate = _issue(make_enrollment, django_capture_on_commit_callbacks)
    request_der = _request(certificate, hierarchy)

    def status() -> object:
        answer = client.post(
            reverse("ca:ocsp"), request_der, content_type="application/ocsp-request"
        )
        response = ocsp.load_der_ocsp_response(answer.content)
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return response.response_status
        return response.certificate_status

    assert status() == ocsp.OCSPCertStatus.GOOD  # now cached
    # Revoked, but the worker has not signed the new answer yet: never "good" meanwhile.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        certificate.revoke(RevocationReason.SUPERSEDED, actor="admin:a")
    from ca.ocsp import forget_cached_response

    forget_cached_response(hierarchy.pk, certificate.serial_hex)  # the on-commit hook's job
    assert status() == ocsp.OCSPResponseStatus.TRY_LATER
    for callback in callbacks:
        callback()
    assert status() == ocsp.OCSPCertStatus.REVOKED


@pytest.mark.django_db
def test_unknown_certificates_and_garbage_get_unsigned_errors(
    client: Client, hierarchy: CertificateAuthority
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    stranger = (
        x509.CertificateBuilder()
        .subject_name(hierarchy.certificate.subject)
        .issuer_name(hierarchy.certificate.subject)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(hierarchy.certificate.not_valid_before_utc)
        .not_valid_after(hierarchy.certificate.not_valid_after_utc)
        .sign(key, hashes.SHA256())
    )
    request_der = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(stranger, hierarchy.certificate, hashes.SHA1())  # noqa: S303
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    unknown = client.post(reverse("ca:ocsp"), request_der, content_type="application/ocsp-request")
    assert (
        ocsp.load_der_ocsp_response(unknown.content).response_status
        == ocsp.OCSPResponseStatus.UNAUTHORIZED
    )
    garbage = client.post(
        reverse("ca:ocsp"), b"\x30\x03abc", content_type="application/ocsp-request"
    )
    assert (
        ocsp.load_der_ocsp_response(garbage.content).response_status
        == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )
    bad_get = client.get("/ocsp/%%%not-base64")
    assert (
        ocsp.load_der_ocsp_response(bad_get.content).response_status
        == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


@pytest.mark.django_db
def test_crls_are_served_as_der_and_pem_at_the_distribution_point(
    client: Client, hierarchy: CertificateAuthority, settings: Any
) -> None:
    path = hierarchy.crl_url.removeprefix(settings.PORTAL_URL)
    der = client.get(path)
    assert der.status_code == 200 and der["Content-Type"] == "application/pkix-crl"
    x509.load_der_x509_crl(der.content)
    pem = client.get(path.replace(".crl", ".pem"))
    assert pem.status_code == 200
    assert (
        x509.load_pem_x509_crl(pem.content).public_bytes(serialization.Encoding.DER) == der.content
    )
    assert client.get("/crl/nonexistent.crl").status_code == 404


@pytest.mark.django_db
def test_the_download_page_lists_root_and_issuing_ca_with_fingerprints(
    client: Client, hierarchy: CertificateAuthority, settings: Any
) -> None:
    root = hierarchy.parent
    assert root is not None
    page = client.get(reverse("ca:certificates"), HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    for ca in (root, hierarchy):
        assert ca.sha256_colon in html
        assert reverse("ca:certificate", args=[ca.slug, "pem"]) in html
        assert reverse("ca:certificate", args=[ca.slug, "crt"]) in html
    der = client.get(hierarchy.certificate_url.removeprefix(settings.PORTAL_URL))
    assert der["Content-Type"] == "application/pkix-cert"
    assert der.content == bytes(hierarchy.certificate_der)
    pem = client.get(reverse("ca:certificate", args=[root.slug, "pem"]))
    assert pem.content.decode() == root.pem


@pytest.mark.django_db
def test_the_web_tier_answers_ocsp_and_crls_without_any_key(
    client: Client,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
) -> None:
    from ca import keys

    certificate = _issue(make_enrollment, django_capture_on_commit_callbacks)
    settings.CA_ROLE = "web"
    keys.reset_for_tests()
    with pytest.raises(keys.KeysUnavailable):
        hierarchy.signing_key()
    answer = client.post(
        reverse("ca:ocsp"),
        _request(certificate, hierarchy),
        content_type="application/ocsp-request",
    )
    assert (
        ocsp.load_der_ocsp_response(answer.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    )
    assert client.get(hierarchy.crl_url.removeprefix(settings.PORTAL_URL)).status_code == 200
