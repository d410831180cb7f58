"""Every error under /api/, /ocsp, /captcha/ and /.well-known/est/ is JSON with a stable code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from ca.models import CertificateAuthority
from core.api_errors import HTTP_ERRORS
from enrollment.captcha import purge_expired
from enrollment.models import Enrollment, InstallCode
from enrollment.openapi import ALL_ERROR_CODES, ERROR_MESSAGES

pytestmark = pytest.mark.django_db


def error_of(response: Any) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) == {"code", "message"} and body["message"], body
    return response.status_code, body["code"]


def test_get_on_the_csr_endpoint_is_405_json_and_keeps_the_allow_header(client: Client) -> None:
    response = client.get("/api/v1/csr")
    assert error_of(response) == (405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_on_the_read_endpoints_are_405_not_a_csrf_refusal(
    method: str,
) -> None:
    client = Client(enforce_csrf_checks=True)
    for path in ["/api/v1/status", "/api/v1/certificate", "/api/v1/tls-check"]:
        response = getattr(client, method)(path)
        assert error_of(response) == (405, "method_not_allowed"), path
        assert response["Allow"] == "GET"


def test_put_on_ocsp_is_405_json(client: Client) -> None:
    response = client.put("/ocsp", b"\x30\x00", content_type="application/ocsp-request")
    assert error_of(response) == (405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_a_malformed_ocsp_request_still_gets_an_ocsp_response(client: Client) -> None:
    response = client.post("/ocsp", b"not der", content_type="application/ocsp-request")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    assert response.content == bytes.fromhex("30030a0101")  # malformedRequest, RFC 6960


def test_an_unknown_api_path_is_404_json(client: Client) -> None:
    assert error_of(client.get("/api/v1/nothing-here")) == (404, "not_found")
    assert error_of(client.get("/api/")) == (404, "not_found")


def test_a_page_that_does_not_exist_is_still_an_html_page(client: Client) -> None:
    response = client.get("/enroll/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def expired_captcha_key() -> str:
    """A captcha that expired and was purged, as beat does: what a stale page still shows."""
    store = CaptchaStore.objects.create(
        challenge="123456", response="123456", expiration=timezone.now() - timedelta(minutes=1)
    )
    assert purge_expired() == 1
    return str(store.hashkey)


def test_the_image_of_an_expired_captcha_is_410_json(client: Client) -> None:
    response = client.get(f"/captcha/image/{expired_captcha_key()}/")
    assert error_of(response) == (410, "captcha_expired")


def test_the_audio_of_an_expired_captcha_is_410_json(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("captcha.views.settings.CAPTCHA_FLITE_PATH", "/usr/bin/flite")
    response = client.get(f"/captcha/audio/{expired_captcha_key()}.wav")
    assert error_of(response) == (410, "captcha_expired")


def test_a_captcha_refresh_without_the_script_header_is_404_json(client: Client) -> None:
    assert error_of(client.get("/captcha/refresh/")) == (404, "not_found")


def test_an_oversized_csr_is_413_with_its_own_code(
    client: Client, hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> None:
    code = InstallCode.objects.mint(make_enrollment())
    response = client.post(
        "/api/v1/csr",
        b"x" * 20_000,
        content_type="application/pkcs10",
        headers={"Authorization": f"Bearer {code}"},
    )
    assert error_of(response) == (413, "csr_too_large")


def test_a_body_beyond_djangos_upload_limit_is_413_json(client: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/ocsp", b"\x30" * 5000, content_type="application/ocsp-request")
    assert error_of(response) == (413, "request_too_large")


def test_an_over_long_url_is_refused_414_before_routing(client: Client, settings: Any) -> None:
    settings.API_MAX_URL_LENGTH = 300
    assert error_of(client.get("/api/v1/status?wait=" + "1" * 300)) == (414, "uri_too_long")
    assert error_of(client.get("/ocsp/" + "A" * 400)) == (414, "uri_too_long")
    # Up to the limit the request is routed as usual.
    assert error_of(client.get("/api/v1/status?x=" + "1" * 250))[0] == 401


def test_a_request_for_a_host_not_served_is_400_json(client: Client) -> None:
    assert error_of(client.get("/api/v1/status", HTTP_HOST="evil.example")) == (
        400,
        "bad_request",
    )


def test_a_crash_is_500_json(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(server_url: str) -> dict[str, Any]:
        raise RuntimeError("a bug")

    monkeypatch.setattr("enrollment.api.openapi_document", crash)
    response = Client(raise_request_exception=False).get("/api/v1/openapi.json")
    assert error_of(response) == (500, "server_error")


def test_an_outage_under_ocsp_is_503_json_with_the_configured_retry_after(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.OUTAGE_RETRY_AFTER_SECONDS = 2

    def database_down(request_der: bytes) -> bytes:
        raise OperationalError("connection refused")

    monkeypatch.setattr("ca.views.ocsp.answer", database_down)
    response = client.post("/ocsp", b"\x30\x00", content_type="application/ocsp-request")
    assert error_of(response) == (503, "service_unavailable")
    assert response["Retry-After"] == "2"


def test_the_message_is_in_the_visitors_language(client: Client) -> None:
    dutch = client.get("/api/v1/nothing-here").json()["message"]
    client.cookies["django_language"] = "en"
    english = client.get("/api/v1/nothing-here").json()["message"]
    assert english == "There is nothing at this address; see the API description for the paths."
    assert dutch == "Op dit adres staat niets; zie de API-beschrijving voor de paden."


def test_every_generic_code_is_in_the_apis_error_table_and_document() -> None:
    for code in HTTP_ERRORS:
        assert code in ALL_ERROR_CODES
        assert ERROR_MESSAGES[code]
