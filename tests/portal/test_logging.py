"""Logs carry a request id, and never a PIN, password, install code or key."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from ca.models import CertificateAuthority
from core.request_id import RequestIdFilter
from enrollment.models import Enrollment, InstallCode
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import STRONG_PASSWORD, WizardWalker
from tests.fixtures.ca import fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_logs() -> Iterator[io.StringIO]:
    """Everything every logger says, at DEBUG, as JSON lines."""
    from pythonjsonlogger.json import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(request_id)s %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def test_a_full_enrollment_leaves_no_secret_in_the_logs(
    all_logs: io.StringIO,
    client: Client,
    hierarchy: CertificateAuthority,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
    make_enrollment: Callable[..., Enrollment],
) -> None:
    cache.clear()
    make_policy()
    holder, pin = issue_holder()
    walker = WizardWalker(client)
    walker.start()
    walker.user_data(holder.user_number, "00000000")  # a wrong PIN is logged nowhere either
    with django_capture_on_commit_callbacks(execute=True):
        walker.complete(holder.user_number, pin)
    enrollment = Enrollment.objects.get(holder=holder)
    page = client.post(
        f"/enroll/{enrollment.public_id}/installer/", {"platform": "linux"}
    ).content.decode()
    code_match = re.search(r"INSTALL_CODE='([^']+)'", page)
    assert code_match is not None
    code = code_match.group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/api/v1/csr",
            fixture_bytes("p256.pem"),
            content_type="application/pkcs10",
            headers={"Authorization": f"Bearer {code}"},
        )
    client.get("/api/v1/status", headers={"Authorization": f"Bearer {code}"})
    client.get("/api/v1/status", headers={"Authorization": "Bearer wrong-code"})
    assert InstallCode.objects.find(code) is not None

    logs = all_logs.getvalue()
    assert logs, "nothing was logged: the test would prove nothing"
    for secret in (pin, STRONG_PASSWORD, code, "00000000", "PRIVATE KEY"):
        assert secret not in logs, secret


def test_every_response_and_log_line_carries_a_request_id(
    client: Client, all_logs: io.StringIO
) -> None:
    response = client.get("/enroll/?missing-page")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    client.get("/does-not-exist/")
    assert '"request_id": "' in all_logs.getvalue()


def test_a_request_id_from_a_trusted_proxy_is_kept_and_from_others_replaced(
    client: Client, settings: Any
) -> None:
    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    kept = client.get("/healthz", headers={"X-Request-ID": "nginx-abcdef123456"})
    assert kept["X-Request-ID"] == "nginx-abcdef123456"
    settings.TRUSTED_PROXIES = []
    replaced = client.get("/healthz", headers={"X-Request-ID": "nginx-abcdef123456"})
    assert replaced["X-Request-ID"] != "nginx-abcdef123456"
