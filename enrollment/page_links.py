"""Signed links back to an enrollment's step-7 page, for the confirmation e-mail.

The link admits the browser that opens it to that one enrollment's page until the enrollment
expires; it is signed, so it cannot be made for another enrollment.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from enrollment.models import Enrollment

SALT = "enrollment.page-link"
SESSION_ENROLLMENTS = "enrollments"


def make_link(enrollment: Enrollment) -> str:
    token = signing.TimestampSigner(salt=SALT).sign(str(enrollment.public_id)).split(":", 1)[1]
    path = reverse("enrollment:installation", args=[enrollment.public_id])
    return f"{settings.PORTAL_URL}{path}?toegang={token}"


def open_link(request: HttpRequest, public_id: str, token: str) -> bool:
    try:
        signing.TimestampSigner(salt=SALT).unsign(
            f"{public_id}:{token}", max_age=timedelta(days=settings.ENROLLMENT_VALIDITY_DAYS)
        )
    except signing.BadSignature:
        return False
    remember(request, public_id)
    return True


def remember(request: HttpRequest, public_id: str) -> None:
    known = request.session.get(SESSION_ENROLLMENTS, [])
    if public_id not in known:
        request.session[SESSION_ENROLLMENTS] = [*known[-9:], public_id]


def own_enrollment(request: HttpRequest, public_id: str) -> Enrollment:
    """The enrollment, if this browser made it or came through the confirmation e-mail's
    link; any other browser is told it does not exist (404)."""
    if str(public_id) not in request.session.get(SESSION_ENROLLMENTS, []):
        raise Http404
    return get_object_or_404(
        Enrollment.objects.select_related("holder__organisation"), public_id=public_id
    )
