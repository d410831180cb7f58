"""Twenty installers submitting with the same install code at once: one order, one certificate."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.db import connection

from ca.models import Certificate, CertificateAuthority, Order
from enrollment.models import Enrollment, InstallCode
from tests.fixtures.ca import certificate_of, fixture_bytes
from tests.fixtures.services import require

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_submissions_with_one_code_make_one_order(
    live_server: Any,
    postgres_url: str,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    workers: Any,
    settings: Any,
) -> None:
    require("PostgreSQL test database", lambda: connection.vendor == "postgresql")
    settings.API_SUBMIT_RATE_PER_CODE = settings.API_SUBMIT_RATE_PER_ADDRESS = "1000/m"
    workers.start("concurrent")
    enrollment = make_enrollment()
    code = InstallCode.objects.mint(enrollment)
    keys = [fixture_bytes("p256.pem")] * 10 + [fixture_bytes("rsa2048.pem")] * 10
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(keys))

    def submit(body: bytes) -> None:
        start.wait(timeout=30)
        response = requests.post(
            f"{live_server.url}/api/v1/csr",
            data=body,
            timeout=30,
            headers={"Authorization": f"Bearer {code}", "Content-Type": "application/pkcs10"},
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=(body,)) for body in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(statuses) == 20 and 500 not in statuses
    # One key won; the same key's duplicates were accepted as retries, the other key refused.
    assert set(statuses) <= {200, 202, 409}
    assert statuses.count(409) == 10
    assert Order.objects.filter(reference=enrollment.public_id).count() == 1
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and enrollment.installation().progress != "issued":
        time.sleep(0.2)
    assert Certificate.objects.filter(reference=enrollment.public_id).count() == 1, workers.logs()
    assert certificate_of(enrollment).reference == enrollment.public_id
