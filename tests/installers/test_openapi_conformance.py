"""The installer API keeps to its own OpenAPI document (schemathesis, property-based)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ca.models import CertificateAuthority
from core import progress_events
from enrollment.models import Enrollment, InstallCode

# A CSR body is bytes (DER) or text (PEM): send what hypothesis makes as it is.
schemathesis.serializer.alias(["application/pkcs10"], "application/octet-stream")
schemathesis.serializer.alias(["application/x-pem-file"], "text/plain")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
CURRENT = {"code": ""}


@schema.auth()
class InstallCodeAuth:
    """The valid install code of the test's enrollment; schemathesis also tries invalid ones."""

    def get(self, case: Any, context: Any) -> str:
        return CURRENT["code"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: requests must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def install_code(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    settings.API_SUBMIT_RATE_PER_CODE = settings.API_READ_RATE_PER_CODE = "100000/m"
    settings.API_SUBMIT_RATE_PER_ADDRESS = settings.API_READ_RATE_PER_ADDRESS = "100000/m"
    cache.clear()
    # Long polls (status?wait=N) end after a moment here: the answers matter, not the waits.
    waiting = progress_events.wait_for_change
    monkeypatch.setattr(
        progress_events,
        "wait_for_change",
        lambda topic, changed, seconds, **kw: waiting(topic, changed, min(seconds, 0.1), **kw),
    )
    CURRENT["code"] = InstallCode.objects.mint(make_enrollment())
    return CURRENT["code"]


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_openapi_document_says(case: Any, install_code: str) -> None:
    # Excluded: a schema cannot say "a valid PKCS#10 request", so schema-valid bodies are
    # rightly refused with the CSR policy's 422 and code.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


OTHER_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.django_db
def test_an_undeclared_method_gets_the_405_its_operation_documents(install_code: str) -> None:
    """schemathesis judges each 405 by the operation's own responses (body, Allow header)."""
    checked = 0
    for path, operations in schema.raw_schema["paths"].items():
        declared = {method.upper() for method in operations}
        operation = schema[path][sorted(declared)[0]]
        for method in sorted(OTHER_METHODS - declared):
            case = operation.Case(headers={"Authorization": f"Bearer {install_code}"})
            case.method = method  # type: ignore[assignment]  # one of OTHER_METHODS
            response = case.call()
            assert response.status_code == 405, (path, method, response.status_code)
            case.method = sorted(declared)[0]  # judged by the documented operation's responses
            case.validate_response(
                response,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                    response_headers_conformance,
                ],
            )
            checked += 1
    assert checked >= 8
