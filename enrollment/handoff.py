"""Step 7 on a phone or tablet: finish on the computer where the certificate will be used.

A certificate is installed on the computer that will use it, so a phone or tablet is offered
the way to that computer instead of an installer: the step-7 link by e-mail, or as a QR code.
iPadOS Safari presents itself as a Mac, so the page also asks the browser (static/js/step7.js:
a "Mac" with a touch screen is an iPad); what the server sees is the User-Agent.

The QR code is an image of its own (``link_qr``), not part of the page: the page is shown on
every device, and drawing the code took Python 14 ms, about a third of the page, for the few
who open "Show the link as a QR code". The browser fetches it only then (a lazy image in a
closed ``<details>``).

Mailing the link is a POST that is idempotent and rate limited: the form carries a token
made for that page, a second POST of the same form (a double click, a reload) sends
nothing more, and an enrollment gets at most HANDOFF_MAILS_PER_HOUR mails, an address
HANDOFF_MAILS_PER_ADDRESS_PER_HOUR.
"""

from __future__ import annotations

import re
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import qr
from core.client_address import ratelimit_key
from core.ratelimits import REFUSE
from core.ratelimits import check as rate_check
from enrollment import page_links
from enrollment.models import Enrollment, OutgoingMail

_MOBILE = re.compile(r"iphone|ipad|ipod|android", re.IGNORECASE)
SESSION_NOTICE = "handoff_notice"
PER_ENROLLMENT = "3/h"
PER_ADDRESS = "20/h"
TOKEN_SECONDS = 24 * 3600


def is_phone_or_tablet(user_agent: str) -> bool:
    """iOS, iPadOS (before 13, or in its "mobile" mode) and Android, from the User-Agent."""
    return bool(_MOBILE.search(user_agent))


def context(request: HttpRequest, enrollment: Enrollment) -> dict[str, object]:
    """What the step-7 page needs for the phone block (rendered on every device: the
    browser may still turn out to be an iPad)."""
    return {
        "mobile": is_phone_or_tablet(request.META.get("HTTP_USER_AGENT", "")),
        "link": page_links.make_link(enrollment),
        "token": secrets.token_urlsafe(16),
        "notice": request.session.pop(SESSION_NOTICE, None),
    }


@require_GET
@never_cache  # the code is a link that opens the enrollment's page: kept by no cache
def link_qr(request: HttpRequest, public_id: str) -> HttpResponse:
    """The step-7 link as a QR code (SVG), for the browser that may see the page."""
    enrollment = page_links.own_enrollment(request, public_id)
    response = HttpResponse(
        qr.svg(page_links.make_link(enrollment), box_size=6), content_type="image/svg+xml"
    )
    # An SVG is a document that could carry script: this one runs none and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@require_POST
def mail_link(request: HttpRequest, public_id: str) -> HttpResponse:
    """ "E-mail me the link": the step-7 link to the enrollment's address, once per form."""
    enrollment = page_links.own_enrollment(request, public_id)
    token = request.POST.get("token", "")[:64]
    page = reverse("enrollment:installation", args=[enrollment.public_id]) + "#telefoon"
    if not token:
        return redirect(page)
    if not cache.add(f"handoff-mail:{enrollment.pk}:{token}", 1, TOKEN_SECONDS):
        # The same form again: what the first POST did stands.
        request.session[SESSION_NOTICE] = {"kind": "success", "text": _sent(enrollment)}
        return redirect(page)
    verdicts = [
        rate_check(
            request,
            group="handoff.enrollment",
            value=str(enrollment.pk),
            rate=PER_ENROLLMENT,
            when_down=REFUSE,
        ),
        rate_check(
            request,
            group="handoff.address",
            value=ratelimit_key("handoff.address", request),
            rate=PER_ADDRESS,
            when_down=REFUSE,
        ),
    ]
    waits = [verdict.retry_after for verdict in verdicts if verdict.limited]
    if waits:
        cache.delete(f"handoff-mail:{enrollment.pk}:{token}")
        minutes = max(1, -(-max(waits) // 60))
        text = _(
            "The link was sent several times already. Look in your mailbox (and the spam "
            "folder), or try again in %(minutes)s minutes."
        ) % {"minutes": minutes}
        request.session[SESSION_NOTICE] = {"kind": "warning", "text": text}
        return redirect(page)
    with transaction.atomic():
        OutgoingMail.objects.store(page_link_mail(enrollment), kind="page_link")
    request.session[SESSION_NOTICE] = {"kind": "success", "text": _sent(enrollment)}
    return redirect(page)


def _sent(enrollment: Enrollment) -> str:
    return _(
        "We sent the link to %(email)s. Open that e-mail on the computer where you will use "
        "the certificate."
    ) % {"email": enrollment.email}


def page_link_mail(enrollment: Enrollment) -> EmailMessage:
    """In the page's language: the holder asked for it there."""
    body = render_to_string(
        "enrollment/mail/page_link.txt",
        {
            "enrollment": enrollment,
            "portal_name": settings.PORTAL_NAME,
            "link": page_links.make_link(enrollment),
        },
    )
    subject = _("%(portal)s: install certificate %(name)s on your computer") % {
        "portal": settings.PORTAL_NAME,
        "name": enrollment.certificate_name,
    }
    return EmailMessage(subject=subject, body=body, to=[enrollment.email])
