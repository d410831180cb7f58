"""Wrong-PIN counts for user numbers that have no PIN to try: unknown, blocked by an admin,
or without a PIN issued.

A real holder's wrong PINs are counted on the PIN (``ActivationCode.failed_attempts``) and
block the number at ``PIN_MAX_ATTEMPTS``. If other numbers simply answered "wrong" for ever,
the count of attempts left and the block would tell anyone which numbers exist. So they are
counted too, in the shared cache, with the same limit and the same answers; the count lasts
as long as a PIN is valid. The cache holds a digest of the number, not the number.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache

KEY = "enrollment:shadow-pin-attempts:{digest}"


def _key(user_number: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{user_number}".encode()).hexdigest()
    return KEY.format(digest=digest[:32])


def counted(user_number: str) -> int:
    return int(cache.get(_key(user_number), 0))


def count_wrong(user_number: str) -> int:
    """Count one more wrong PIN for the number; the count after it."""
    key = _key(user_number)
    timeout = int(timedelta(days=settings.PIN_VALIDITY_DAYS).total_seconds())
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1
