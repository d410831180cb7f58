"""The installer API: every path, with the exact status and error code."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from ca.models import CertificateAuthority, Order, RevocationReason
from enrollment.models import Enrollment, InstallCode
from tests.fixtures.ca import certificate_of, fixture_bytes

pytestmark = pytest.mark.django_db

CSR = fixture_bytes("rsa2048.pem")
OTHER_CSR = fixture_bytes("p256.pem")


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@pytest.fixture
def enrollment(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> Enrollment:
    return make_enrollment()


@pytest.fixture
def code(enrollment: Enrollment) -> str:
    return InstallCode.objects.mint(enrollment)


def auth(code: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {code}"}


def submit(
    client: Client, code: str, body: bytes = CSR, content_type: str = "application/pkcs10"
) -> Any:
    return client.post("/api/v1/csr", body, content_type=content_type, headers=auth(code))


class TestHappyPath:
    def test_submit_sign_fetch(
        self,
        client: Client,
        code: str,
        enrollment: Enrollment,
        eager_tasks: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = submit(client, code)
        assert response.status_code == 202
        status = client.get("/api/v1/status", headers=auth(code)).json()
        assert status["status"] == "issued" and len(status["sha1"]) == 40

        pem = client.get("/api/v1/certificate?format=pem", headers=auth(code))
        chain = x509.load_pem_x509_certificates(pem.content)
        issuing = CertificateAuthority.objects.current_issuing()
        assert issuing is not None
        assert len(chain) == 2 and chain[1] == issuing.certificate
        leaf_key = (
            chain[0]
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        csr_key = (
            x509.load_pem_x509_csr(CSR)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        assert leaf_key == csr_key

        p7b = client.get("/api/v1/certificate?format=p7b", headers=auth(code))
        assert p7b["Content-Type"] == "application/pkcs7-mime"
        assert len(pkcs7.load_der_pkcs7_certificates(p7b.content)) == 3

    def test_status_as_text_lines_for_the_windows_installer(
        self, client: Client, code: str
    ) -> None:
        response = client.get("/api/v1/status?format=text", headers=auth(code))
        assert response.content.decode().splitlines()[0] == "status=waiting_for_csr"

    def test_der_csrs_are_accepted(self, client: Client, code: str) -> None:
        der = x509.load_pem_x509_csr(CSR).public_bytes(serialization.Encoding.DER)
        assert submit(client, code, der).status_code == 202
        assert client.get("/api/v1/status", headers=auth(code)).json()["status"] == "csr_received"


class TestInstallCodes:
    def test_no_or_unknown_code_is_401(self, client: Client) -> None:
        assert client.get("/api/v1/status").json()["code"] == "install_code_unknown"
        response = client.get("/api/v1/status", headers=auth("nonsense"))
        assert response.status_code == 401 and response.json()["code"] == "install_code_unknown"

    def test_a_code_replaced_by_a_newer_download_is_401(
        self, client: Client, enrollment: Enrollment, code: str
    ) -> None:
        InstallCode.objects.mint(enrollment)
        response = submit(client, code)
        assert response.status_code == 401 and response.json()["code"] == "install_code_replaced"

    def test_an_expired_enrollments_code_is_410(
        self, client: Client, enrollment: Enrollment, code: str
    ) -> None:
        Enrollment.objects.filter(pk=enrollment.pk).update(expires_at=timezone.now())
        response = submit(client, code)
        assert response.status_code == 410 and response.json()["code"] == "install_code_expired"
        assert Order.objects.count() == 0

    def test_a_blocked_holders_open_enrollment_gets_no_certificate(
        self, client: Client, enrollment: Enrollment, code: str
    ) -> None:
        enrollment.holder.block(actor="test")
        response = submit(client, code)
        assert response.status_code == 403 and response.json()["code"] == "holder_blocked"
        status = client.get("/api/v1/status", headers=auth(code))
        assert status.status_code == 403 and status.json()["code"] == "holder_blocked"
        assert Order.objects.count() == 0

    def test_codes_are_stored_only_as_sha256(self, code: str) -> None:
        stored = InstallCode.objects.get()
        assert code not in stored.code_hash and len(stored.code_hash) == 64


class TestCsrPolicy:
    @pytest.mark.parametrize(
        ("fixture", "status", "error"),
        [
            ("rsa1024.pem", 422, "key_too_small"),
            ("rsa_e3.pem", 422, "rsa_exponent"),
            ("p521.pem", 422, "curve_not_allowed"),
            ("dsa2048.pem", 422, "key_type_not_allowed"),
            ("garbage.bin", 422, "csr_malformed"),
            ("bad_signature.der", 422, "csr_bad_signature"),
        ],
    )
    def test_bad_csrs_are_refused_with_the_policys_code(
        self, client: Client, code: str, fixture: str, status: int, error: str
    ) -> None:
        response = submit(client, code, fixture_bytes(fixture))
        assert (response.status_code, response.json()["code"]) == (status, error)
        assert Order.objects.count() == 0

    def test_an_empty_body_is_refused(self, client: Client, code: str) -> None:
        response = submit(client, code, b"")
        assert (response.status_code, response.json()["code"]) == (422, "csr_empty")

    def test_a_megabyte_is_refused_before_it_is_parsed(self, client: Client, code: str) -> None:
        response = submit(client, code, b"A" * (1024 * 1024))
        assert (response.status_code, response.json()["code"]) == (413, "csr_too_large")
        assert Order.objects.count() == 0


class TestReplay:
    def test_the_same_key_after_issuance_returns_the_certificate_status(
        self, client: Client, code: str, eager_tasks: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            submit(client, code)
        again = submit(client, code)
        assert again.status_code == 200 and again.json()["status"] == "issued"
        assert Order.objects.count() == 1

    def test_another_key_after_issuance_is_409(
        self, client: Client, code: str, eager_tasks: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            submit(client, code)
        response = submit(client, code, OTHER_CSR)
        assert (response.status_code, response.json()["code"]) == (409, "already_issued")

    def test_another_key_while_signing_is_409(self, client: Client, code: str) -> None:
        submit(client, code)
        response = submit(client, code, OTHER_CSR)
        assert (response.status_code, response.json()["code"]) == (409, "order_in_progress")

    def test_a_retried_submission_of_the_same_key_is_accepted_once(
        self, client: Client, code: str
    ) -> None:
        assert submit(client, code).status_code == 202
        assert submit(client, code).status_code == 202
        assert Order.objects.count() == 1

    def test_certificate_before_issuance_is_404(self, client: Client, code: str) -> None:
        response = client.get("/api/v1/certificate", headers=auth(code))
        assert (response.status_code, response.json()["code"]) == (404, "not_issued")

    def test_unknown_certificate_format_is_400(
        self, client: Client, code: str, eager_tasks: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            submit(client, code)
        response = client.get("/api/v1/certificate?format=der", headers=auth(code))
        assert (response.status_code, response.json()["code"]) == (400, "unknown_format")


class TestRateLimits:
    def test_too_many_submissions_per_code_is_429(
        self, client: Client, code: str, settings: Any
    ) -> None:
        settings.API_SUBMIT_RATE_PER_CODE = "2/m"
        statuses = [submit(client, code, b"").status_code for _ in range(3)]
        assert statuses == [422, 422, 429]
        response = submit(client, code)
        assert response.json()["code"] == "rate_limited"
        # The seconds until the minute's window ends, not a fixed minute.
        assert 1 <= int(response["Retry-After"]) <= 60

    def test_too_many_requests_per_address_is_429(self, client: Client, settings: Any) -> None:
        settings.API_READ_RATE_PER_ADDRESS = "3/m"
        statuses = [
            client.get("/api/v1/status", headers=auth(f"guess-{i}")).status_code for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]


class TestTlsCheck:
    def issue(
        self, client: Client, code: str, django_capture_on_commit_callbacks: Any
    ) -> x509.Certificate:
        with django_capture_on_commit_callbacks(execute=True):
            submit(client, code)
        return x509.load_pem_x509_certificates(
            client.get("/api/v1/certificate", headers=auth(code)).content
        )[0]

    def via_proxy(self, certificate: x509.Certificate, verify: str = "SUCCESS") -> dict[str, Any]:
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return {
            "HTTP_X_CLIENT_VERIFY": verify,
            "HTTP_X_CLIENT_CERT": quote(pem),
            "REMOTE_ADDR": "127.0.0.1",
        }

    def test_a_verified_certificate_confirms_the_installation(
        self,
        client: Client,
        code: str,
        enrollment: Enrollment,
        settings: Any,
        eager_tasks: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
        certificate = self.issue(client, code, django_capture_on_commit_callbacks)
        response = client.get("/api/v1/tls-check", **self.via_proxy(certificate))
        assert response.json() == {
            "status": "installed",
            "certificate_name": enrollment.certificate_name,
        }
        enrollment.refresh_from_db()
        assert enrollment.status == "installed" and enrollment.installed_at is not None
        assert client.get("/api/v1/status", headers=auth(code)).json()["status"] == "installed"

    def test_headers_from_an_untrusted_address_are_ignored(
        self,
        client: Client,
        code: str,
        settings: Any,
        eager_tasks: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.TRUSTED_PROXIES = []
        certificate = self.issue(client, code, django_capture_on_commit_callbacks)
        response = client.get("/api/v1/tls-check", **self.via_proxy(certificate))
        assert (response.status_code, response.json()["code"]) == (401, "no_client_certificate")

    def test_a_failed_verification_is_401(self, client: Client, settings: Any) -> None:
        settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
        response = client.get(
            "/api/v1/tls-check", HTTP_X_CLIENT_VERIFY="FAILED:certificate revoked"
        )
        assert (response.status_code, response.json()["code"]) == (
            401,
            "client_certificate_invalid",
        )

    def test_a_revoked_certificate_is_403(
        self,
        client: Client,
        code: str,
        enrollment: Enrollment,
        settings: Any,
        eager_tasks: None,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
        certificate = self.issue(client, code, django_capture_on_commit_callbacks)
        certificate_of(enrollment).revoke(RevocationReason.KEY_COMPROMISE, actor="test")
        response = client.get("/api/v1/tls-check", **self.via_proxy(certificate))
        assert (response.status_code, response.json()["code"]) == (403, "certificate_revoked")


def test_the_openapi_document_lists_every_path_and_error_code(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/api/v1/csr",
        "/api/v1/status",
        "/api/v1/certificate",
        "/api/v1/tls-check",
    }
    assert (
        "install_code_expired"
        in document["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    )


class TestLongPolling:
    """/api/v1/status?wait=N answers as soon as the progress changes (progress_events)."""

    @pytest.mark.parametrize(
        ("query", "error_code"),
        [
            ("wait=soon", "invalid_wait"),
            ("wait=-1", "invalid_wait"),
            ("wait=%C2%B2", "invalid_wait"),
            ("wait=61", "invalid_wait"),
            ("wait=1&since=done", "invalid_since"),
        ],
    )
    def test_a_wrong_wait_or_since_is_400(
        self, client: Client, code: str, query: str, error_code: str
    ) -> None:
        response = client.get(f"/api/v1/status?{query}", headers=auth(code))
        assert response.status_code == 400
        assert response.json()["code"] == error_code

    def test_without_an_order_in_progress_the_answer_comes_at_once(
        self, client: Client, code: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        waited: list[float] = []
        monkeypatch.setattr(
            "core.progress_events.wait_for_change",
            lambda _topic, changed, seconds, **_: waited.append(seconds) if not changed() else None,
        )
        response = client.get("/api/v1/status?wait=20", headers=auth(code))
        assert response.json()["status"] == "waiting_for_csr"
        assert waited == []

    def test_a_pending_order_is_waited_on_until_it_is_issued(
        self, client: Client, code: str, enrollment: Enrollment, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from ca.issuance import issue_order

        monkeypatch.setattr("ca.tasks.sign_order.apply_async", lambda *a, **k: None)
        assert submit(client, code).json()["status"] == "csr_received"
        checks: list[bool] = []
        topics: list[str] = []

        def wait(topic: str, changed: Callable[[], bool], seconds: float, **_: Any) -> None:
            topics.append(topic)
            checks.append(changed())
            issue_order(Order.objects.get(reference=enrollment.public_id).pk)  # the worker
            checks.append(changed())

        monkeypatch.setattr("core.progress_events.wait_for_change", wait)
        response = client.get("/api/v1/status?wait=20", headers=auth(code))
        assert checks == [False, True]
        assert topics == [str(enrollment.public_id)]  # what the RA announces under
        assert response.json()["status"] == "issued"
