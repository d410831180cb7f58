"""The wizard's captcha: django-simple-captcha with six digits and one query per answer, and
an audio alternative that always works (WCAG 1.1.1).

The library speaks the digits only where the flite synthesiser is installed. Here the digits'
sounds ship with the project (static/captcha/<language>/<digit>.wav, made once by
scripts/make_captcha_audio.py) and are put together per request in the page's language.
"""

from __future__ import annotations

import array
import io
import operator
import secrets
import sys
import wave
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField, CaptchaTextInput
from captcha.helpers import captcha_image_url
from captcha.models import CaptchaStore
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache


def six_digit_challenge() -> tuple[str, str]:
    """Six digits, as the seed's example "699828" shows."""
    digits = "".join(secrets.choice("0123456789") for _ in range(6))
    return digits, digits


class SpokenCaptchaInput(CaptchaTextInput):
    """The library's widget, with the audio alternative always there, in the page's language."""

    def audio_url(self) -> str:
        return audio_url(self._key)


def audio_url(key: str) -> str:
    return reverse("enrollment:captcha-audio", kwargs={"language": spoken_language(), "key": key})


def spoken_language() -> str:
    """The active language if its digits ship with the project, else the default (Dutch)."""
    language = (translation.get_language() or "").split("-")[0]
    return language if language in SPOKEN_LANGUAGES else settings.LANGUAGE_CODE


class SingleUseCaptchaField(CaptchaField):
    """The library's field, checked and spent in one DELETE.

    The library's ``clean`` first deletes every expired captcha (BEGIN, DELETE, COMMIT), then
    reads the captcha and deletes it as a model instance: five round trips on the PIN step,
    the wizard's slowest. Here one DELETE spends the captcha only if the answer matches and
    it has not expired, and its row count is the verdict; a wrong answer spends it too, as
    in the library (one attempt per image). Expired captchas are purged by beat
    (``enrollment.purge_expired_captchas``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", SpokenCaptchaInput())
        super().__init__(*args, **kwargs)

    def clean(self, value: Any) -> Any:
        forms.MultiValueField.clean(self, value)  # required, and both parts present
        key, answer = value[0], (value[1] or "").strip().lower()
        value[1] = ""
        if captcha_settings.CAPTCHA_TEST_MODE and answer == "passed":
            # Test mode: any image is solved by "PASSED"; still spent once.
            _spend(key)
            return value
        if not answer and not self.required:
            return value
        if not _spend(key, answer):
            _spend(key)
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return value


def _spend(key: str, answer: str | None = None) -> bool:
    """Delete captcha ``key`` (only if ``answer`` is its answer and it is live, if given).

    One statement: ``QuerySet.delete`` would wrap its DELETE in BEGIN and COMMIT.
    """
    table = connection.ops.quote_name(CaptchaStore._meta.db_table)
    sql = f"DELETE FROM {table} WHERE hashkey = %s"  # noqa: S608 - the model's table
    params: list[str | datetime] = [key]
    if answer is not None:
        sql += " AND response = %s AND expiration > %s"
        params += [answer, timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0


def purge_expired() -> int:
    """Delete captchas no one answered in time; how many."""
    deleted, _ = CaptchaStore.objects.filter(expiration__lte=timezone.now()).delete()
    return deleted


# --- The audio alternative ------------------------------------------------------------

AUDIO_DIRECTORY = Path(settings.BASE_DIR) / "static" / "captcha"
SPOKEN_LANGUAGES = ("nl", "en")
RATE = 8000  # the digit files' sample rate (scripts/make_captcha_audio.py)


@cache
def _digit(language: str, digit: str) -> array.array[int]:
    with wave.open(str(AUDIO_DIRECTORY / language / f"{digit}.wav"), "rb") as source:
        samples = array.array("h", source.readframes(source.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def spoken_digits(digits: str, language: str) -> bytes:
    """A WAV file that says ``digits`` one by one, with a pause before each.

    Pauses, loudness and a soft noise floor vary per request, so that two answers for the
    same digits differ and the shipped files cannot be found in the answer byte for byte.
    """
    randomness = secrets.SystemRandom()
    samples = array.array("h", bytes(2 * RATE // 2))  # half a second before the first digit
    for digit in digits:
        samples.extend(array.array("h", bytes(2 * randomness.randint(RATE // 3, RATE * 2 // 3))))
        gain = randomness.uniform(0.8, 1.0)
        samples.extend(int(sample * gain) for sample in _digit(language, digit))
    samples.extend(array.array("h", bytes(2 * RATE // 2)))
    # The digits peak at 70 % of full scale, so a noise of at most 128 never overflows.
    noise = array.array("b", secrets.token_bytes(len(samples)))
    samples = array.array("h", map(operator.add, samples, noise))
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(samples.tobytes())
    return out.getvalue()


@never_cache
def audio(request: HttpRequest, language: str, key: str) -> HttpResponse:
    """The digits of captcha ``key`` spoken in ``language``; 410 once it is spent or expired."""
    if language not in SPOKEN_LANGUAGES:
        raise Http404
    store = (
        CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now())
        .only("challenge")
        .first()
    )
    if store is None:
        # As the library: 410, so that crawlers forget the address (core.api_errors words it).
        return HttpResponse(status=410)
    response = HttpResponse(spoken_digits(store.challenge, language), content_type="audio/wav")
    response["Content-Disposition"] = 'inline; filename="cijfers.wav"'
    return response


@never_cache
def refresh(request: HttpRequest) -> JsonResponse:
    """Other digits for the "show other digits" link: the library's answer, with our audio."""
    if request.headers.get("x-requested-with") != "XMLHttpRequest":
        raise Http404
    key = CaptchaStore.pick()
    return JsonResponse(
        {"key": key, "image_url": captcha_image_url(key), "audio_url": audio_url(key)}
    )
