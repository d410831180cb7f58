from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.captcha import SingleUseCaptchaField
from enrollment.tasks import purge_expired_captchas
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db


def test_the_challenge_is_six_digits() -> None:
    store = CaptchaStore.objects.get(hashkey=CaptchaStore.generate_key())
    assert len(store.challenge) == 6 and store.challenge.isdigit()


@pytest.fixture
def real_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test settings' CAPTCHA_TEST_MODE would accept "PASSED" for any image."""
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", False)


def stored_captcha(answer: str = "123456", expires_in_minutes: int = 5) -> CaptchaStore:
    return CaptchaStore.objects.create(
        challenge=answer,
        response=answer,
        expiration=timezone.now() + timedelta(minutes=expires_in_minutes),
    )


@pytest.mark.usefixtures("real_answers")
def test_a_right_answer_is_accepted_and_spends_the_captcha_in_one_query() -> None:
    store = stored_captcha()
    with CaptureQueriesContext(connection) as queries:
        SingleUseCaptchaField().clean([store.hashkey, " 123456 "])
    assert len(queries) == 1 and queries[0]["sql"].startswith("DELETE")
    assert not CaptchaStore.objects.filter(pk=store.pk).exists()


@pytest.mark.usefixtures("real_answers")
def test_a_wrong_answer_is_refused_and_spends_the_captcha_too() -> None:
    store = stored_captcha()
    field = SingleUseCaptchaField()
    with pytest.raises(ValidationError) as refused:
        field.clean([store.hashkey, "654321"])
    assert refused.value.code == "invalid"
    with pytest.raises(ValidationError):
        field.clean([store.hashkey, "123456"])  # one attempt per image


@pytest.mark.usefixtures("real_answers")
def test_an_expired_captcha_is_refused_even_with_the_right_answer() -> None:
    store = stored_captcha(expires_in_minutes=-1)
    with pytest.raises(ValidationError):
        SingleUseCaptchaField().clean([store.hashkey, "123456"])


@pytest.mark.usefixtures("real_answers")
def test_an_unknown_captcha_is_refused() -> None:
    with pytest.raises(ValidationError):
        SingleUseCaptchaField().clean(["0" * 40, "123456"])


def test_a_missing_answer_is_required() -> None:
    store = stored_captcha()
    with pytest.raises(ValidationError) as refused:
        SingleUseCaptchaField().clean([store.hashkey, ""])
    assert refused.value.code in {"required", "incomplete"}
    assert CaptchaStore.objects.filter(pk=store.pk).exists()  # nothing was attempted


def test_beat_purges_expired_captchas_and_keeps_live_ones() -> None:
    live, expired = stored_captcha(), stored_captcha(expires_in_minutes=-1)
    assert purge_expired_captchas() == 1
    assert list(CaptchaStore.objects.values_list("pk", flat=True)) == [live.pk]
    assert expired.pk not in CaptchaStore.objects.values_list("pk", flat=True)


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
