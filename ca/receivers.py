from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from ca import services
from ca.models import RevocationReason
from enrollment.signals import holder_blocked, holder_unblocked


@receiver(holder_blocked, dispatch_uid="ca.revoke_on_block")
def revoke_on_block(sender: Any, holder: Any, **kwargs: Any) -> None:
    services.revoke_holder_certificates(
        holder,
        kwargs.get("reason") or RevocationReason.CERTIFICATE_HOLD,
        actor=kwargs.get("actor") or "system:block",
        client_address=kwargs.get("client_address"),
    )


@receiver(holder_unblocked, dispatch_uid="ca.release_on_unblock")
def release_on_unblock(sender: Any, holder: Any, **kwargs: Any) -> None:
    services.release_holder_certificates(
        holder,
        actor=kwargs.get("actor") or "system:unblock",
        client_address=kwargs.get("client_address"),
    )
