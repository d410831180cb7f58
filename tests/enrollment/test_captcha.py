from __future__ import annotations

import array
import io
import re
import subprocess
import sys
import wave
from datetime import timedelta
from pathlib import Path

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

AUDIO = Path(__file__).resolve().parents[2] / "static" / "captcha"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_captcha_audio.py"


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


def test_the_step_offers_a_refresh_link_and_the_audio_without_any_system_package(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fresh machine: no flite, no sox. The digits' sounds ship with the project.
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_FLITE_PATH", None)
    html = client.get("/enroll/personal/", follow=True).content.decode()
    assert "data-captcha-refresh" in html
    assert re.search(r'href="/captcha/audio/nl/\w+\.wav"', html)
    assert "Beluister de cijfers" in html
    client.cookies["django_language"] = "en"
    html = client.get("/enroll/personal/", follow=True).content.decode()
    assert re.search(r'href="/captcha/audio/en/\w+\.wav"', html)
    assert "Listen to the digits" in html


def wav_samples(body: bytes) -> tuple[int, array.array[int]]:
    with wave.open(io.BytesIO(body), "rb") as sound:
        assert sound.getnchannels() == 1 and sound.getsampwidth() == 2
        return sound.getframerate(), array.array("h", sound.readframes(sound.getnframes()))


def spoken(samples: array.array[int], rate: int) -> list[tuple[int, int]]:
    """(start, end) of each stretch louder than the noise floor, merged over short dips."""
    loud = [abs(s) > 600 for s in samples]
    stretches: list[tuple[int, int]] = []
    start = None
    for i, is_loud in enumerate(loud):
        if is_loud and start is None:
            start = i
        if is_loud:
            last = i
        if start is not None and not is_loud and i - last > rate // 5:
            stretches.append((start, last))
            start = None
    if start is not None:
        stretches.append((start, last))
    return stretches


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_audio_speaks_the_images_six_digits_in_the_pages_language(
    client: Client, language: str
) -> None:
    store = stored_captcha("305718")
    response = client.get(f"/captcha/audio/{language}/{store.hashkey}.wav")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    rate, samples = wav_samples(response.content)
    assert rate == 8000
    assert len(spoken(samples, rate)) == 6  # six words, each after its own pause
    # Each word is as long as the shipped recording of that digit in that language, give or
    # take its quiet consonants (the "v" and "f" of "vijf").
    for digit, (start, end) in zip("305718", spoken(samples, rate), strict=True):
        _rate, recording = wav_samples((AUDIO / language / f"{digit}.wav").read_bytes())
        assert len(recording) / 2 < end - start < len(recording) + rate // 10, digit


def test_two_answers_for_the_same_digits_differ(client: Client) -> None:
    store = stored_captcha("111111")
    first = client.get(f"/captcha/audio/nl/{store.hashkey}.wav").content
    second = client.get(f"/captcha/audio/nl/{store.hashkey}.wav").content
    assert first != second
    recording = (AUDIO / "nl" / "1.wav").read_bytes()[44:1044]
    assert recording not in first  # not findable byte for byte


# One 410 per test: core.api_errors closes the replaced response, which sends
# request_finished, and under the test client that closes the database connection.
def test_only_the_shipped_languages_are_spoken(client: Client) -> None:
    live = stored_captcha()
    assert client.get(f"/captcha/audio/de/{live.hashkey}.wav").status_code == 404


def test_an_expired_captcha_has_no_audio(client: Client) -> None:
    expired = stored_captcha(expires_in_minutes=-1)
    assert client.get(f"/captcha/audio/nl/{expired.hashkey}.wav").status_code == 410


def test_an_unknown_or_spent_captcha_has_no_audio(client: Client) -> None:
    assert client.get(f"/captcha/audio/nl/{'0' * 40}.wav").status_code == 410


def test_other_digits_come_with_their_own_audio(client: Client) -> None:
    client.cookies["django_language"] = "en"
    data = client.get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest").json()
    assert data["audio_url"] == f"/captcha/audio/en/{data['key']}.wav"
    assert client.get(data["audio_url"]).status_code == 200


def test_every_digit_ships_in_both_languages_as_a_small_file() -> None:
    for language in ("nl", "en"):
        for digit in "0123456789":
            path = AUDIO / language / f"{digit}.wav"
            assert 1_000 < path.stat().st_size < 20_000, path
            rate, samples = wav_samples(path.read_bytes())
            assert rate == 8000 and max(map(abs, samples)) > 10_000  # not silence


def test_the_script_that_made_the_digits_makes_them_again(tmp_path: Path) -> None:
    require_binary("espeak-ng")
    require_binary("flite")
    subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True, timeout=120
    )
    for language in ("nl", "en"):
        for digit in "0123456789":
            made = (tmp_path / language / f"{digit}.wav").read_bytes()
            assert made == (AUDIO / language / f"{digit}.wav").read_bytes(), (language, digit)
