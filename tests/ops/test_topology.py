"""The compose topology with real processes: two gunicorn web processes that hold no CA key
(CA_ROLE=web) and two Celery workers that do, sharing one PostgreSQL and one Redis and
nothing else. What one web accepts, a worker signs and the other web reports."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from ca.authority import init_hierarchy
from ca.models import Certificate, Order, OrderStatus
from enrollment.models import Enrollment, InstallCode
from tests.fixtures.ca import FAST, certificate_of, fixture_bytes
from tests.fixtures.workers import Webs, Workers, get_json

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SIGNING_TIMEOUT = 90.0


def post_csr(url: str, code: str, csr: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - http to loopback only
        f"{url}/api/v1/csr",
        data=csr,
        method="POST",
        headers={"Authorization": f"Bearer {code}", "Content-Type": "application/pkcs10"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    logs: Callable[[], str],
    interval: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs()}")


def test_an_order_taken_by_one_web_is_signed_by_a_worker_and_seen_by_the_other_web(
    webs: Webs,
    workers: Workers,
    make_enrollment: Callable[..., Enrollment],
) -> None:
    assert webs.environment["CA_ROLE"] == "web"
    assert webs.environment["CA_KEY_DIR"] == ""
    assert not {"CA_KEY_PASSPHRASE", "CA_KEY_PASSPHRASE_FILE", "CA_PKCS11_PIN"} & set(
        webs.environment
    )
    init_hierarchy(FAST)  # what `init` does, with the key directory the workers mount
    first = webs.start("web-1")
    second = webs.start("web-2")

    def all_logs() -> str:
        return webs.logs() + "\n" + workers.logs()

    for url in (first, second):
        health = get_json(f"{url}/healthz")
        assert health["status"] == "ok"
        assert health["database"] == "ok"
        assert health["broker"] == "ok"
        assert health["ca"] == "ok"

    enrollment = make_enrollment()
    code = InstallCode.objects.mint(enrollment)
    status, body = post_csr(first, code, fixture_bytes("p256.pem"))
    assert status == 202, (body, all_logs())
    auth = {"Authorization": f"Bearer {code}"}

    # No worker yet: the webs queue the order but cannot sign it.
    time.sleep(2)
    assert Order.objects.get(reference=enrollment.public_id).status == OrderStatus.PENDING
    assert get_json(f"{second}/api/v1/status", auth)["status"] == "csr_received"

    workers.start("worker-1")
    workers.start("worker-2")

    def issued_through_the_other_web() -> bool:
        return bool(get_json(f"{second}/api/v1/status", auth)["status"] == "issued")

    # One poll a second stays inside the per-code read limit (API_READ_RATE_PER_CODE).
    wait_until(
        issued_through_the_other_web, SIGNING_TIMEOUT, "the certificate", all_logs, interval=1.0
    )
    answer = get_json(f"{second}/api/v1/status", auth)
    certificate = Certificate.objects.get(reference=enrollment.public_id)
    assert certificate_of(enrollment) == certificate  # the RA recorded it
    assert answer["serial"] == certificate.serial_hex
    assert Order.objects.get(reference=enrollment.public_id).status == OrderStatus.ISSUED
