"""Mail the registration authority sends. Never a PIN: that travels by letter or message box."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def send_user_number(holder_id: int) -> None:
    from enrollment.models import Holder

    holder = Holder.objects.select_related("organisation").get(pk=holder_id)
    context = {
        "holder": holder,
        "portal_name": settings.PORTAL_NAME,
        "enroll_url": f"{settings.PORTAL_URL}/enroll/",
    }
    # Contact persons are Dutch organisations; the mail carries an English summary too.
    with translation.override("nl"):
        body = render_to_string("enrollment/mail/user_number.txt", context)
    send_mail(
        subject=f"{settings.PORTAL_NAME}: gebruikersnummer voor {holder.display_name}",
        message=body,
        from_email=None,
        recipient_list=[holder.contact_email],
    )
