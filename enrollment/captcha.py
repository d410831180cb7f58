"""The wizard's captcha: django-simple-captcha with six digits and one query per answer."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from captcha.conf import settings as captcha_settings
from captcha.fields import CaptchaField
from captcha.models import CaptchaStore
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone


def six_digit_challenge() -> tuple[str, str]:
    """Six digits, as the seed's example "699828" shows."""
    digits = "".join(secrets.choice("0123456789") for _ in range(6))
    return digits, digits


class SingleUseCaptchaField(CaptchaField):
    """The library's field, checked and spent in one DELETE.

    The library's ``clean`` first deletes every expired captcha (BEGIN, DELETE, COMMIT), then
    reads the captcha and deletes it as a model instance: five round trips on the PIN step,
    the wizard's slowest. Here one DELETE spends the captcha only if the answer matches and
    it has not expired, and its row count is the verdict; a wrong answer spends it too, as
    in the library (one attempt per image). Expired captchas are purged by beat
    (``enrollment.purge_expired_captchas``).
    """

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
