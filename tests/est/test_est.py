"""EST (RFC 7030) as software uses it: CA certificates, CSR attributes, the first certificate
with an install code, renewal with the current certificate, and every refusal's status."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.utils import timezone

from audit.models import AuditEntry
from ca.models import Certificate, CertificateAuthority, Order, RevocationReason
from enrollment.models import Channel, Enrollment, EnrollmentStatus, RefusedAddress
from tests.est.conftest import (
    OUTSIDE,
    Est,
    SystemCertificate,
    certificates_in,
    csr_for,
    new_key,
)

pytestmark = pytest.mark.django_db


def basic(code: str) -> dict[str, Any]:
    token = base64.b64encode(f"software:{code}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def text(response: Any) -> str:
    assert response["Content-Type"] == "text/plain; charset=utf-8", response["Content-Type"]
    return response.content.decode()


# --- cacerts and csrattrs ----------------------------------------------------------------


def test_cacerts_gives_the_issuing_ca_and_the_root_without_authentication(
    est: Est, hierarchy: CertificateAuthority
) -> None:
    response = est.get("cacerts")
    assert response.status_code == 200
    assert response["Content-Transfer-Encoding"] == "base64"
    found = certificates_in(response)  # a SET OF in DER: in the order of their encodings
    assert hierarchy.parent is not None
    assert set(found) == {hierarchy.certificate, hierarchy.parent.certificate}


def test_csrattrs_lists_the_curves_and_rsa_sizes_the_ca_accepts(
    est: Est, hierarchy: CertificateAuthority, tmp_path: Any
) -> None:
    from pyasn1.codec.der import decoder
    from pyasn1_alt_modules import rfc7030

    response = est.get("csrattrs")
    assert (response.status_code, response["Content-Type"]) == (200, "application/csrattrs")
    attributes, rest = decoder.decode(
        base64.b64decode(response.content), asn1Spec=rfc7030.CsrAttrs()
    )
    assert rest == b""
    described = {}
    for item in attributes:
        if item.getName() == "attribute":
            values = [decoder.decode(bytes(v))[0] for v in item["attribute"]["attrValues"]]
            described[str(item["attribute"]["attrType"])] = {str(v) for v in values}
    assert described["1.2.840.10045.2.1"] == {"1.2.840.10045.3.1.7", "1.3.132.0.34"}
    assert described["1.2.840.113549.1.1.1"] == {"2048", "3072", "4096"}


def test_unknown_and_personal_labels_are_refused_and_the_system_label_works(
    est: Est, hierarchy: CertificateAuthority
) -> None:
    assert est.get("system/cacerts").status_code == 200
    assert est.get("werkplek/cacerts").status_code == 404
    response = est.get("personal/cacerts")
    assert response.status_code == 403 and text(response).startswith("personal_label:")


def test_an_unknown_operation_is_a_404_in_short_text(est: Est) -> None:
    response = est.get("serverkeygen")
    assert response.status_code == 404 and text(response).startswith("not_found:")


def test_a_wrong_method_is_a_short_text_not_json(est: Est) -> None:
    response = est.get("simpleenroll")
    assert response.status_code == 405
    assert text(response).startswith("method_not_allowed:")
    assert response["Allow"] == "POST"


# --- simpleenroll ------------------------------------------------------------------------


def test_simpleenroll_answers_202_then_the_certificate_for_the_same_request(
    est: Est,
    system_enrollment: Callable[[], tuple[Enrollment, str]],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enrollment, code = system_enrollment()
    key = new_key()
    body = csr_for(key)
    with django_capture_on_commit_callbacks(execute=True):
        first = est.post("simpleenroll", body, **basic(code))
    assert (first.status_code, first["Retry-After"]) == (202, "2")

    again = est.post("simpleenroll", body, **basic(code))
    assert again.status_code == 200
    (issued,) = certificates_in(again)
    assert issued.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.INSTALLED
    assert AuditEntry.objects.filter(event="certificate_delivered").count() == 1

    # A lost answer: the same request once more gets the same certificate, nothing new.
    replay = est.post("simpleenroll", body, **basic(code))
    assert certificates_in(replay) == [issued]
    assert Certificate.objects.count() == 1
    assert AuditEntry.objects.filter(event="certificate_delivered").count() == 1


def test_the_certificate_is_delivered_and_recorded_before_the_workers_report_arrives(
    est: Est,
    system_enrollment: Callable[[], tuple[Enrollment, str]],
    eager_tasks: None,
    report_lost: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enrollment, code = system_enrollment()
    body = csr_for(new_key())
    with django_capture_on_commit_callbacks(execute=True):
        est.post("simpleenroll", body, **basic(code))
    assert est.post("simpleenroll", body, **basic(code)).status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.certificate is not None
    assert enrollment.status == EnrollmentStatus.INSTALLED


def test_simpleenroll_takes_a_bearer_token_and_the_csr_with_or_without_transfer_encoding(
    est: Est,
    system_enrollment: Callable[[], tuple[Enrollment, str]],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _enrollment, code = system_enrollment()
    body = csr_for(new_key())
    bearer: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {code}"}
    with django_capture_on_commit_callbacks(execute=True):
        assert est.post("simpleenroll", body, **bearer).status_code == 202
    labelled = est.post(
        "system/simpleenroll", body, HTTP_CONTENT_TRANSFER_ENCODING="base64", **bearer
    )
    assert labelled.status_code == 200


def test_a_replayed_install_code_with_another_key_is_refused(
    est: Est,
    system_enrollment: Callable[[], tuple[Enrollment, str]],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _enrollment, code = system_enrollment()
    with django_capture_on_commit_callbacks(execute=True):
        est.post("simpleenroll", csr_for(new_key()), **basic(code))
    replayed = est.post("simpleenroll", csr_for(new_key()), **basic(code))
    assert replayed.status_code == 403
    assert text(replayed).startswith("install_code_used:")
    assert "Opnieuw installeren" in text(replayed)
    assert Certificate.objects.count() == 1


def test_simpleenroll_without_or_with_a_wrong_install_code_is_challenged(
    est: Est, system_enrollment: Callable[[], tuple[Enrollment, str]]
) -> None:
    system_enrollment()
    missing = est.post("simpleenroll", csr_for(new_key()))
    assert missing.status_code == 401 and text(missing).startswith("credentials_required:")
    assert missing["WWW-Authenticate"].startswith("Basic")
    wrong = est.post("simpleenroll", csr_for(new_key()), **basic("not-a-code"))
    assert wrong.status_code == 401 and text(wrong).startswith("install_code_unknown:")


def test_simpleenroll_refuses_bad_requests_with_their_status(
    est: Est, system_enrollment: Callable[[], tuple[Enrollment, str]]
) -> None:
    _enrollment, code = system_enrollment()
    cases = [
        (b"!!! not base64 !!!", "application/pkcs10", 400, "csr_not_base64"),
        (base64.encodebytes(b"0\x03\x02\x01\x00"), "application/pkcs10", 400, "csr_malformed"),
        (b"\n", "application/pkcs10", 400, "csr_empty"),
        (csr_for(new_key()), "application/json", 415, "unsupported_media_type"),
    ]
    for body, content_type, status, code_name in cases:
        response = est.post("simpleenroll", body, content_type=content_type, **basic(code))
        assert response.status_code == status, (code_name, response.content)
        assert text(response).startswith(f"{code_name}:")
    assert not Certificate.objects.exists()


def test_simpleenroll_needs_tls_and_a_system_enrollment(
    est: Est,
    system_enrollment: Callable[[], tuple[Enrollment, str]],
    make_enrollment: Callable[..., Enrollment],
) -> None:
    _enrollment, code = system_enrollment()
    plain = est.post("simpleenroll", csr_for(new_key()), secure=False, **basic(code))
    assert plain.status_code == 403 and text(plain).startswith("tls_required:")

    from enrollment.models import InstallCode

    personal_code = InstallCode.objects.mint(make_enrollment(kind="personal"))
    personal = est.post("simpleenroll", csr_for(new_key()), **basic(personal_code))
    assert personal.status_code == 403 and text(personal).startswith("personal_enrollment:")


def test_a_blocked_holder_gets_no_certificate_with_an_open_install_code(
    est: Est, system_enrollment: Callable[[], tuple[Enrollment, str]]
) -> None:
    enrollment, code = system_enrollment()
    enrollment.holder.block(actor="test")
    response = est.post("simpleenroll", csr_for(new_key()), **basic(code))
    assert response.status_code == 403 and text(response).startswith("holder_blocked:")
    assert not Order.objects.exists()


def test_refusals_speak_the_language_the_client_asks_for(
    est: Est, system_enrollment: Callable[[], tuple[Enrollment, str]]
) -> None:
    system_enrollment()
    response = est.post("simpleenroll", csr_for(new_key()), HTTP_ACCEPT_LANGUAGE="nl")
    assert text(response).startswith("credentials_required: Stuur de installatiecode")


# --- simplereenroll ----------------------------------------------------------------------


@pytest.fixture
def due(settings: Any) -> None:
    """Every certificate in its renewal window (the test CA issues for three years)."""
    settings.RENEWAL_WINDOW_DAYS = 5 * 365


def renew(
    est: Est, current: SystemCertificate, capture: Any, **kwargs: Any
) -> tuple[Any, Any, bytes]:
    """simplereenroll with a new key and the current subject, then once more: the two answers."""
    body = kwargs.pop("body", None) or csr_for(new_key(), current.certificate.subject)
    with capture(execute=True):
        first = est.post("simplereenroll", body, certificate=current.certificate, **kwargs)
    second = est.post("simplereenroll", body, certificate=current.certificate, **kwargs)
    return first, second, body


def test_simplereenroll_renews_with_the_same_subject_and_keeps_the_old_one_for_the_overlap(
    est: Est,
    system_certificate: Callable[..., SystemCertificate],
    due: None,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.RENEWAL_OVERLAP_DAYS = 7
    current = system_certificate()
    first, second, body = renew(est, current, django_capture_on_commit_callbacks)
    assert first.status_code == 202 and second.status_code == 200
    (renewed,) = certificates_in(second)
    assert renewed.subject == current.certificate.subject
    renewal = Enrollment.objects.get(channel=Channel.EST)
    assert renewal.renews_id == current.record.pk
    assert renewal.certificate_name == current.enrollment.certificate_name
    assert renewal.status == EnrollmentStatus.INSTALLED
    actor = f"holder:{current.holder.user_number}"
    assert AuditEntry.objects.filter(event="renewal_requested", actor=actor).count() == 1

    # Asked again (a lost answer): the same certificate; nothing is signed twice.
    assert certificates_in(est.post("simplereenroll", body, certificate=current.certificate)) == [
        renewed
    ]
    assert Certificate.objects.count() == 2

    # The old certificate works through the overlap, and is superseded after it.
    current.record.refresh_from_db()
    assert current.record.revoked_at is None
    assert Enrollment.objects.retire_renewed() == 0
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert Enrollment.objects.retire_renewed() == 1
        assert Enrollment.objects.retire_renewed() == 0
    current.record.refresh_from_db()
    assert current.record.revocation_reason == RevocationReason.SUPERSEDED
    assert AuditEntry.objects.filter(event="certificate_revoked", actor=actor).exists()


def test_a_renewed_certificate_cannot_be_renewed_again_for_another_key(
    est: Est,
    system_certificate: Callable[..., SystemCertificate],
    due: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    current = system_certificate()
    renew(est, current, django_capture_on_commit_callbacks)
    other = est.post(
        "simplereenroll",
        csr_for(new_key(), current.certificate.subject),
        certificate=current.certificate,
    )
    assert other.status_code == 409 and text(other).startswith("already_renewed:")
    assert Certificate.objects.count() == 2


def test_a_client_that_loops_on_simplereenroll_is_slowed_down(
    est: Est, system_certificate: Callable[..., SystemCertificate], settings: Any
) -> None:
    settings.API_SUBMIT_RATE_PER_ADDRESS = "2/m"
    current = system_certificate()
    body = csr_for(new_key(), current.certificate.subject)
    answers = [est.post("simplereenroll", body, certificate=current.certificate) for _ in range(3)]
    assert all(answer.status_code != 429 for answer in answers[:2])
    assert answers[2].status_code == 429 and int(answers[2]["Retry-After"]) >= 1
    assert text(answers[2]).startswith("rate_limited:")


def test_simplereenroll_is_refused_outside_the_renewal_window(
    est: Est, system_certificate: Callable[..., SystemCertificate], settings: Any
) -> None:
    settings.RENEWAL_WINDOW_DAYS = 30
    current = system_certificate()
    response = est.post(
        "simplereenroll",
        csr_for(new_key(), current.certificate.subject),
        certificate=current.certificate,
    )
    assert response.status_code == 403
    assert text(response).startswith("not_due:") and "30 dagen voordat het verloopt" in text(
        response
    )
    assert not Enrollment.objects.filter(channel=Channel.EST).exists()


def test_a_changed_subject_is_refused(
    est: Est, system_certificate: Callable[..., SystemCertificate], due: None
) -> None:
    current = system_certificate()
    other_subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ander systeem")])
    for subject in (other_subject, x509.Name([])):
        response = est.post(
            "simplereenroll", csr_for(new_key(), subject), certificate=current.certificate
        )
        assert response.status_code == 400 and text(response).startswith("subject_changed:")


def test_a_holder_renamed_by_an_admin_needs_an_installation_again(
    est: Est, system_certificate: Callable[..., SystemCertificate], due: None
) -> None:
    current = system_certificate()
    current.holder.display_name = "Nieuwe naam"
    current.holder.save(update_fields=["display_name"])
    response = est.post(
        "simplereenroll",
        csr_for(new_key(), current.certificate.subject),
        certificate=current.certificate,
    )
    assert response.status_code == 409 and text(response).startswith("holder_changed:")


def test_simplereenroll_refuses_each_certificate_it_must_not_renew(
    est: Est, system_certificate: Callable[..., SystemCertificate], due: None
) -> None:
    def attempt(certificate: x509.Certificate | None, source: str = "192.0.2.10") -> Any:
        subject = certificate.subject if certificate else x509.Name([])
        return est.post(
            "simplereenroll", csr_for(new_key(), subject), certificate=certificate, source=source
        )

    personal = system_certificate("personal")
    response = attempt(personal.certificate)
    assert response.status_code == 403 and text(response).startswith("personal_certificate:")

    outside = system_certificate()
    response = attempt(outside.certificate, OUTSIDE)
    assert response.status_code == 403 and text(response).startswith("address_not_allowed:")
    assert RefusedAddress.objects.filter(address=OUTSIDE, holder=outside.holder).exists()

    revoked = system_certificate()
    revoked.record.revoke(RevocationReason.KEY_COMPROMISE, actor="test")
    response = attempt(revoked.certificate)
    assert response.status_code == 403 and text(response).startswith("certificate_revoked:")

    response = attempt(None)
    assert response.status_code == 401 and text(response).startswith("no_client_certificate:")

    expired = system_certificate()
    with time_machine.travel(expired.record.not_after + timedelta(days=1)):
        response = attempt(expired.certificate)
    assert response.status_code == 403 and text(response).startswith("certificate_expired:")
    assert not Enrollment.objects.filter(channel=Channel.EST).exists()
