from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client: Client, settings: Any, tmp_path: Any) -> None:
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_unreachable(client: Client, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unavailable"


@pytest.mark.integration
def test_healthz_pings_the_real_redis(client: Client, settings: Any, redis_url: str) -> None:
    settings.REDIS_URL = redis_url
    assert client.get("/healthz").json()["broker"] == "ok"


def test_pages_are_dutch_even_when_the_browser_prefers_english(client: Client) -> None:
    html = client.get("/enroll/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Certificaat installeren of vernieuwen" in html and 'lang="nl"' in html


def test_the_language_switch_is_remembered(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/enroll/"})
    html = client.get("/enroll/").content.decode()
    assert "Install or renew certificate" in html and 'lang="en"' in html
