"""What the CA reports to the registration authority, under the RA's own references.

Sent once the CA's transaction is done (in a worker: after the commit), never from inside
it, so a receiver that fails cannot undo an issued certificate, and the CA needs to know
nothing of who listens. A report lost with its process is not lost for good: the RA reads the
CA's state through ``ca.interface.order_progress`` and repairs what it missed.

- ``signing_started(references=[uuid, …])``: a worker took these orders.
- ``certificates_issued(issued=[IssuedCertificate, …])``: certificates stored.
- ``orders_failed(failed=[FailedOrder, …])``: orders given up on, with the CA's error code.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

signing_started = Signal()
certificates_issued = Signal()
orders_failed = Signal()


def report(signal: Signal, **kwargs: Any) -> None:
    """Send a report; a receiver that fails is logged, and the CA's work stands."""
    for receiver, result in signal.send_robust(sender=None, **kwargs):
        if isinstance(result, Exception):
            logger.error("a receiver of the CA's report failed: %r", receiver, exc_info=result)


@dataclass(frozen=True)
class IssuedCertificate:
    reference: uuid.UUID
    certificate_id: int


@dataclass(frozen=True)
class FailedOrder:
    reference: uuid.UUID
    error_code: str
