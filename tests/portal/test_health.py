from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ca.health import key_status, record_key_heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_liveness_and_reports_the_dependencies(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert data["database"] == "ok" and data["broker"] == "unavailable" and data["ca"] == "missing"


def test_readyz_is_503_until_everything_is_ready(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    data = response.json()
    assert (
        data["broker"] == "unavailable" and data["worker"] != "ok" and data["ca_key"] == "unknown"
    )


def test_the_key_heartbeat_proves_the_issuing_key_signs(hierarchy: Any) -> None:
    assert key_status() == "unknown"
    record_key_heartbeat()
    assert key_status() == "ok"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_readyz_is_ok_with_a_real_worker(
    live_server: Any, workers: Any, broker: Any, hierarchy: Any, settings: Any
) -> None:
    import time

    import requests

    from ca.tasks import publish_revocations  # noqa: F401 - the worker's tasks are registered

    settings.REDIS_URL = broker.url
    workers.start("ready")
    from config.celery import app

    app.send_task("ca.key_heartbeat")
    deadline = time.monotonic() + 30
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = requests.get(f"{live_server.url}/readyz", timeout=10).json()
        if data["status"] == "ok":
            break
        time.sleep(0.5)
    assert data["status"] == "ok", (data, workers.logs())
