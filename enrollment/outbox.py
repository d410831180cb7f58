"""The outbox seen from the rest of the registration authority.

Mail that must not be lost with a failing mail server (the user number of a new holder, a
PIN for a message box) is stored in the transaction that makes what it is about, and sent
once that commits, with retries (``OutgoingMail``, in ``enrollment.models.outgoing_mail``,
which tells how). Issuing a holder stores its user-number mail itself (``Holder.objects.issue``);
the PIN mails of new PINs are stored here.
"""

from __future__ import annotations

from collections.abc import Iterable

from enrollment.models import Holder, OutgoingMail

__all__ = ["OutgoingMail", "store_pin_mails"]


def store_pin_mails(issued: Iterable[tuple[Holder, str]]) -> None:
    """Keep each message-box holder's PIN mail in the outbox; call it in the issuing transaction."""
    for holder, pin in issued:
        if holder.pin_delivery == "messagebox":
            OutgoingMail.objects.store(holder.pin_mail(pin), kind="pin")
