from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from enrollment.models import PolicyDocument


@register(Tags.database)
def policy_published(app_configs: Any, **kwargs: Any) -> list[Warning]:
    try:
        if PolicyDocument.objects.current() is not None:
            return []
    except DatabaseError:
        return []
    return [
        Warning(
            "No CP/CPS version is published, so no enrollment can be completed.",
            hint="Publish one under Admin > CP/CPS versions, or run `manage.py seed_demo`.",
            id="enrollment.W001",
        )
    ]


@register(Tags.security, deploy=True)
def captcha_test_mode_off(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.CAPTCHA_TEST_MODE:
        return [
            Error(
                "CAPTCHA_TEST_MODE is on: the captcha accepts the answer PASSED.",
                hint="Unset CAPTCHA_TEST_MODE; it exists for automated tests only.",
                id="enrollment.E001",
            )
        ]
    return []
