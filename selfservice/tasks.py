from celery import shared_task

from selfservice.reminders import send_due_reminders


@shared_task(name="portal.send_expiry_reminders")
def send_expiry_reminders() -> int:
    return send_due_reminders()
