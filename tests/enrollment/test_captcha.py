from __future__ import annotations

from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.test import Client

from tests.conftest import require_binary

pytestmark = pytest.mark.django_db


def test_the_challenge_is_six_digits() -> None:
    store = CaptchaStore.objects.get(hashkey=CaptchaStore.generate_key())
    assert len(store.challenge) == 6 and store.challenge.isdigit()


def test_the_captcha_image_is_served_as_png(client: Client) -> None:
    key = CaptchaStore.generate_key()
    response = client.get(f"/captcha/image/{key}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_the_refresh_link_returns_a_new_challenge(client: Client) -> None:
    response = client.get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    data = response.json()
    assert CaptchaStore.objects.filter(hashkey=data["key"]).exists()


def test_the_step_offers_a_refresh_link_and_an_audio_alternative(
    client: Client, settings: object
) -> None:
    require_binary("flite")
    html = client.get("/enroll/personal/").content.decode()
    assert "data-captcha-refresh" in html
    assert "/captcha/audio/" in html


@pytest.mark.integration
def test_the_audio_alternative_speaks_the_digits(client: Client) -> None:
    require_binary("flite")
    key = CaptchaStore.generate_key()
    response: Any = client.get(f"/captcha/audio/{key}.wav")
    assert response.status_code == 200
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:4]
        == b"RIFF"
    )
