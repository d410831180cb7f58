"""Mail the registration authority sends straight away: notices about enrollments and PINs.

Sent by the tasks (``enrollment.tasks``), each after the claim that keeps it from going
twice. The mails that must not be lost with the mail server (a new holder's user number, a
PIN for a message box) go through the outbox instead (``enrollment.outbox``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from enrollment import page_links
from enrollment.models import ActivationCode, Enrollment


def send_enrollment_confirmation(enrollment_id: int) -> None:
    """To the holder: the registration is complete, with the link back to step 7."""
    enrollment = Enrollment.objects.select_related("holder").get(pk=enrollment_id)
    context = {
        "enrollment": enrollment,
        "portal_name": settings.PORTAL_NAME,
        "link": page_links.make_link(enrollment),
    }
    with translation.override("nl"):
        body = render_to_string("enrollment/mail/enrollment_confirmation.txt", context)
    send_mail(
        subject=f"{settings.PORTAL_NAME}: certificaat {enrollment.certificate_name} installeren",
        message=body,
        from_email=None,
        recipient_list=[enrollment.email],
    )


def send_expiry_reminder(enrollment_id: int) -> None:
    _send_to_contact(
        enrollment_id,
        "enrollment/mail/expiry_reminder.txt",
        "herinnering: certificaat nog niet geinstalleerd",
    )


def send_expiry_notice(enrollment_id: int) -> None:
    _send_to_contact(enrollment_id, "enrollment/mail/expiry_notice.txt", "aanvraag verlopen")


def _send_to_contact(enrollment_id: int, template: str, subject: str) -> None:
    enrollment = Enrollment.objects.select_related("holder__organisation").get(pk=enrollment_id)
    context = {
        "enrollment": enrollment,
        "holder": enrollment.holder,
        "portal_name": settings.PORTAL_NAME,
    }
    with translation.override("nl"):
        body = render_to_string(template, context)
    send_mail(
        subject=f"{settings.PORTAL_NAME}: {subject} ({enrollment.holder.display_name})",
        message=body,
        from_email=None,
        recipient_list=[enrollment.holder.contact_email],
    )


def send_unused_pin_reminder(code_id: int) -> None:
    """To the contact person: a PIN will expire before anyone used it."""
    code = ActivationCode.objects.select_related("holder__organisation").get(pk=code_id)
    context = {
        "holder": code.holder,
        "code": code,
        "portal_name": settings.PORTAL_NAME,
        "enroll_url": f"{settings.PORTAL_URL}/enroll/",
    }
    with translation.override("nl"):
        body = render_to_string("enrollment/mail/unused_pin_reminder.txt", context)
    send_mail(
        subject=f"{settings.PORTAL_NAME}: pincode van {code.holder.display_name} verloopt ongebruikt",
        message=body,
        from_email=None,
        recipient_list=[code.holder.contact_email],
    )
