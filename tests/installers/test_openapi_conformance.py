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
from schemathesis.specs.openapi.checks import positive_data_acceptance

from ca.models import CertificateAuthority
from enrollment import progress_events
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
        lambda enrollment_id, changed, seconds, **kw: waiting(
            enrollment_id, changed, min(seconds, 0.1), **kw
        ),
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
