"""Who presents an install code: the installer API (bearer token) and EST's ``simpleenroll``
(bearer token or HTTP Basic password) both find the enrollment here, after the rate limits.

An answer is the enrollment or a ``Refusal`` with a stable code and status, which each caller
words in its own format (JSON for the API, a short text for EST).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from core.client_address import ratelimit_key
from core.ratelimits import WhenDown
from core.ratelimits import check as rate_check
from enrollment.models import Enrollment, InstallCode

# Longer than any code the portal mints (43 characters): the bound on what HTTP Basic may carry.
MAX_CODE_LENGTH = 100


@dataclass(frozen=True)
class Refusal:
    code: str
    status: int
    retry_after: int | None = None


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def basic_password(request: HttpRequest) -> str:
    """The password of HTTP Basic (RFC 7617); EST clients put a credential there. The user
    name is ignored: the code alone names the enrollment."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 4 * MAX_CODE_LENGTH:
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[2]


def _rate_limited(
    request: HttpRequest, code: str, group: str, per_code: str, per_address: str, when: WhenDown
) -> int | None:
    """Count the request per install code and per address; the seconds to wait if over."""
    code_hash = hashlib.sha256(code.encode()).hexdigest()
    verdicts = [
        rate_check(request, group=f"{group}.code", value=code_hash, rate=per_code, when_down=when),
        rate_check(
            request,
            group=f"{group}.address",
            value=ratelimit_key(f"{group}.address", request),
            rate=per_address,
            when_down=when,
        ),
    ]
    waits = [verdict.retry_after for verdict in verdicts if verdict.limited]
    return max(waits) if waits else None


def enrollment_of_code(
    request: HttpRequest,
    code: str,
    *,
    group: str,
    per_code: str,
    per_address: str,
    when_redis_down: WhenDown,
) -> Enrollment | Refusal:
    """The enrollment the install code belongs to, or why not.

    ``per_code`` and ``per_address`` name the settings that hold the rates.
    ``when_redis_down``: REFUSE (a 503 refusal with Retry-After, before anything is read or
    written) or LOCAL (count in this process; for reads, see core.ratelimits).
    """
    wait = _rate_limited(
        request,
        code,
        group,
        getattr(settings, per_code),
        getattr(settings, per_address),
        when_redis_down,
    )
    if wait is not None:
        return Refusal("rate_limited", 429, wait)
    found = InstallCode.objects.find(code)  # (which does not look up over-long codes)
    if found is None:
        return Refusal("install_code_unknown", 401)
    if found.replaced_at is not None:
        return Refusal("install_code_replaced", 401)
    if not found.is_usable:
        return Refusal("install_code_expired", 410)
    if found.enrollment.holder.is_blocked:
        # A block puts the holder's certificates on hold; an open enrollment makes none.
        return Refusal("holder_blocked", 403)
    return found.enrollment
