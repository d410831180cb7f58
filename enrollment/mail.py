"""Mail the registration authority sends.

The mails that issuing a holder makes (the user number to the contact person, the PIN to a
message box) are composed here and kept in the outbox (``enrollment.outbox``) by the
transaction that issues; the PIN travels nowhere else but that encrypted row and the mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.template.loader import render_to_string
from django.utils import translation

from enrollment.outbox import OutgoingMail, checked

if TYPE_CHECKING:
    from enrollment.models import Holder


def user_number_message(holder: Holder) -> EmailMessage:
    """To the contact person: the holder's user number (never the PIN)."""
    context = {
        "holder": holder,
        "portal_name": settings.PORTAL_NAME,
        "enroll_url": f"{settings.PORTAL_URL}/enroll/",
    }
    # Contact persons are Dutch organisations; the mail carries an English summary too.
    with translation.override("nl"):
        body = render_to_string("enrollment/mail/user_number.txt", context)
    return checked(
        EmailMessage(subject=_user_number_subject(holder), body=body, to=[holder.contact_email])
    )


def pin_message(holder: Holder, pin: str) -> EmailMessage:
    """To the organisation's message box: the user number and the PIN."""
    body = (
        f"Pincode voor {holder.display_name} ({holder.organisation.name}) bij {settings.PORTAL_NAME}.\n\n"
        f"Gebruikersnummer: {holder.user_number}\nPincode: {pin}\n\n"
        f"De pincode is eenmalig te gebruiken. Installeren: {settings.PORTAL_URL}/enroll/\n"
    )
    return checked(
        EmailMessage(subject=_pin_subject(holder), body=body, to=[holder.messagebox_address])
    )


def check_issue_mails(holder: Holder) -> None:
    """Build the headers of the mails that issuing ``holder`` sends, or ValidationError.

    Run by ``Holder.clean``, so an admin form, a CSV report or ``issue_holder`` refuses
    such a holder before anything is written. The addresses are left to their fields'
    validators; the subject and the sender (settings) are what else can fail.
    """
    checked(EmailMessage(subject=_user_number_subject(holder)))
    if holder.pin_delivery == "messagebox":
        checked(EmailMessage(subject=_pin_subject(holder)))


def _user_number_subject(holder: Holder) -> str:
    return f"{settings.PORTAL_NAME}: gebruikersnummer voor {holder.display_name}"


def _pin_subject(holder: Holder) -> str:
    return f"{settings.PORTAL_NAME}: pincode voor {holder.display_name}"


def send_enrollment_confirmation(enrollment_id: int) -> None:
    """To the holder: the registration is complete, with the link back to step 7."""
    from enrollment import page_links
    from enrollment.models import Enrollment

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
    from enrollment.models import Enrollment

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
    from enrollment.models import ActivationCode

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


def store_pin_mails(issued: Iterable[tuple[Holder, str]]) -> None:
    """Keep each message-box holder's PIN mail in the outbox; call it in the issuing transaction."""
    for holder, pin in issued:
        if holder.pin_delivery == "messagebox":
            OutgoingMail.objects.store(pin_message(holder, pin), kind="pin")
