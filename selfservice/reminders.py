"""Reminder e-mails 60, 30 and 7 days before a certificate expires, with a calendar entry."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone, translation

from ca.interface import Certificate
from enrollment.models import Enrollment, HolderKind
from selfservice.models import REMINDER_DAYS, ExpiryReminder

logger = logging.getLogger(__name__)


def due_thresholds(not_after: datetime, now: datetime) -> list[int]:
    return [days for days in REMINDER_DAYS if now >= not_after - timedelta(days=days)]


def send_due_reminders(now: datetime | None = None) -> int:
    """Send each certificate's most urgent reminder that is due and not sent; returns the count."""
    now = now or timezone.now()
    horizon = now + timedelta(days=max(REMINDER_DAYS))
    candidates = (
        Certificate.objects.filter(revoked_at=None, not_after__gt=now, not_after__lte=horizon)
        # A certificate renewed or replaced already needs no reminder.
        .exclude(Exists(Enrollment.objects.replacements_issued().filter(renews=OuterRef("pk"))))
        .select_related("enrollment__holder__organisation")
        .prefetch_related("expiry_reminders")
    )
    sent = 0
    for certificate in candidates:
        already = {reminder.days for reminder in certificate.expiry_reminders.all()}
        due = [days for days in due_thresholds(certificate.not_after, now) if days not in already]
        if due and _claim_and_send(certificate, due):
            sent += 1
    return sent


def _claim_and_send(certificate: Certificate, due: list[int]) -> bool:
    try:
        with transaction.atomic():
            claims = [
                ExpiryReminder.objects.create(certificate=certificate, days=days) for days in due
            ]
    except IntegrityError:
        return False  # another run claimed it first
    try:
        _send(certificate, min(due))
    except Exception:
        # Not sent: give the claim back so the next run tries again.
        ExpiryReminder.objects.filter(pk__in=[claim.pk for claim in claims]).delete()
        logger.exception("expiry reminder for certificate %s not sent", certificate.pk)
        return False
    return True


def calendar_entry(certificate: Certificate) -> str:
    enrollment = certificate.enrollment
    day = timezone.localtime(certificate.not_after).date() - timedelta(days=1)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{settings.PORTAL_NAME}//NL",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{certificate.sha256_hex}-expiry@{settings.PORTAL_URL.split('://', 1)[-1].split('/')[0].split(':')[0]}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:Certificaat {enrollment.certificate_name} vernieuwen",
        f"DESCRIPTION:Uw certificaat {enrollment.certificate_name} verloopt. Vernieuw het via {settings.PORTAL_URL}/inloggen/",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def _send(certificate: Certificate, days: int) -> None:
    enrollment = Enrollment.objects.of_certificate(certificate)
    if enrollment.kind == HolderKind.SYSTEM:
        _send_system_notice(certificate, enrollment, days)
        return
    context = {
        "certificate": certificate,
        "enrollment": enrollment,
        "days": days,
        "portal_name": settings.PORTAL_NAME,
        "login_url": f"{settings.PORTAL_URL}/inloggen/",
    }
    with translation.override("nl"):
        body = render_to_string("selfservice/mail/expiry_reminder.txt", context)
    message = EmailMessage(
        subject=f"{settings.PORTAL_NAME}: uw certificaat {enrollment.certificate_name} verloopt over {days} dagen",
        body=body,
        to=[enrollment.email],
    )
    message.attach(
        f"{enrollment.certificate_name}-verloopt.ics", calendar_entry(certificate), "text/calendar"
    )
    message.send()


def _send_system_notice(certificate: Certificate, enrollment: Enrollment, days: int) -> None:
    """To the contact person: which certificate (serial, fingerprint), when, and both ways
    to renew it: EST by the software itself, or an installation again by hand."""
    holder = enrollment.holder
    context = {
        "certificate": certificate,
        "enrollment": enrollment,
        "holder": holder,
        "days": days,
        "portal_name": settings.PORTAL_NAME,
        "time_zone": settings.TIME_ZONE,
        "window_opens": certificate.not_after - timedelta(days=settings.RENEWAL_WINDOW_DAYS),
        "overlap_days": settings.RENEWAL_OVERLAP_DAYS,
        "est_url": f"{settings.PORTAL_URL}/.well-known/est/",
        "script_url": f"{settings.PORTAL_URL}{static('est/est-renew.sh')}",
        "organisation_url": f"{settings.PORTAL_URL}/mijn/organisatie/",
    }
    with translation.override("nl"):
        body = render_to_string("selfservice/mail/expiry_notice_system.txt", context)
    EmailMessage(
        subject=(
            f"{settings.PORTAL_NAME}: systeemcertificaat {enrollment.certificate_name} "
            f"van {holder.display_name} verloopt over {days} dagen"
        ),
        body=body,
        to=[holder.contact_email],
    ).send()
