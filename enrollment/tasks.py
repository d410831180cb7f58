"""Periodic and background work of the registration authority."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from enrollment import bulk, captcha, mail
from enrollment.models import ActivationCode, Enrollment, OutgoingMail


@shared_task(name="enrollment.send_confirmation")
def send_confirmation(enrollment_id: int) -> None:
    mail.send_enrollment_confirmation(enrollment_id)


@shared_task(name="enrollment.send_outgoing_mail")
def send_outgoing_mail(mail_id: int) -> bool:
    """Queued when the transaction that stored the mail commits; a failure waits for the sweep."""
    return OutgoingMail.objects.send(mail_id)


@shared_task(name="enrollment.sweep_outgoing_mail")
def sweep_outgoing_mail() -> int:
    """Send mails whose retry is due, or whose task never reached the broker."""
    return OutgoingMail.objects.send_due()


@shared_task(name="enrollment.purge_expired_captchas")
def purge_expired_captchas() -> int:
    """Captchas no one answered in time; the wizard's check leaves them (enrollment.captcha)."""
    return captcha.purge_expired()


@shared_task(name="enrollment.record_missed_certificates")
def record_missed_certificates() -> int:
    """Certificates the CA issued whose report did not arrive (ca.signals); every minute."""
    return Enrollment.objects.record_missed_certificates(older_than=timedelta(minutes=1))


@shared_task(name="enrollment.expire_and_remind")
def expire_and_remind() -> dict[str, int]:
    """Expire enrollments not installed in time and remind contact persons a week before.

    Each notice is claimed with a conditional UPDATE before it is sent, so two beat schedulers
    or a retried task never send the same notice twice.
    """
    expired = reminded = 0
    for enrollment in Enrollment.objects.past_expiry():
        if enrollment.expire():
            expired += 1
    for enrollment_id in Enrollment.objects.filter(
        status="expired", expiry_notice_sent_at=None
    ).values_list("pk", flat=True):
        if _claim(enrollment_id, "expiry_notice_sent_at"):
            mail.send_expiry_notice(enrollment_id)
    for enrollment_id in Enrollment.objects.due_for_reminder().values_list("pk", flat=True):
        if _claim(enrollment_id, "reminder_sent_at"):
            mail.send_expiry_reminder(enrollment_id)
            reminded += 1
    for code_id in ActivationCode.objects.expiring_unused().values_list("pk", flat=True):
        claimed = ActivationCode.objects.filter(pk=code_id, reminder_sent_at=None).update(
            reminder_sent_at=timezone.now()
        )
        if claimed:
            mail.send_unused_pin_reminder(code_id)
            reminded += 1
    return {"expired": expired, "reminded": reminded}


def _claim(enrollment_id: int, field: str) -> bool:
    with transaction.atomic():
        return bool(
            Enrollment.objects.filter(pk=enrollment_id, **{field: None}).update(
                **{field: timezone.now()}
            )
        )


@shared_task(name="enrollment.retire_renewed_certificates")
def retire_renewed_certificates() -> int:
    """Revoke, as superseded, system certificates whose EST renewal's overlap is over."""
    return Enrollment.objects.retire_renewed()


@shared_task(name="enrollment.import_holders")
def import_holders(import_id: int) -> None:
    """A confirmed CSV import (enrollment.bulk.run_import); its claim makes a redelivery safe."""
    bulk.run_import(import_id)
