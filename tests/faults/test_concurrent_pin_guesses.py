"""Wrong PINs sent at the same moment are counted one by one (the holder row is locked)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry, AuditEvent
from enrollment.models import ActivationCode, HolderStatus, PinCheck
from tests.enrollment.factories import issue_holder
from tests.fixtures.concurrency import at_once
from tests.fixtures.services import require

pytestmark = pytest.mark.django_db(transaction=True)


def test_twelve_wrong_pins_at_once_leave_exactly_five_counted_and_one_block(settings: Any) -> None:
    require("PostgreSQL test database", lambda: connection.vendor == "postgresql")
    holder, pin = issue_holder()
    wrong = "0" * len(pin) if pin != "0" * len(pin) else "1" * len(pin)
    verdicts = at_once(lambda: ActivationCode.verify(holder.user_number, wrong), 12)

    assert len(verdicts) == 12
    # Each wrong PIN saw the count left by the one before it: no two were told the same.
    left = sorted(int(v.attempts_left or 0) for v in verdicts if v.result is PinCheck.WRONG)
    assert left == list(range(1, settings.PIN_MAX_ATTEMPTS))
    assert sum(v.result is PinCheck.BLOCKED for v in verdicts) == 12 - len(left)
    assert ActivationCode.objects.get(holder=holder).failed_attempts == settings.PIN_MAX_ATTEMPTS
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED
    assert AuditEntry.objects.filter(event=AuditEvent.HOLDER_BLOCKED).count() == 1


def test_the_pin_and_its_holder_are_read_in_one_query_that_locks_the_holder() -> None:
    require("PostgreSQL test database", lambda: connection.vendor == "postgresql")
    holder, pin = issue_holder()
    with CaptureQueriesContext(connection) as queries:
        assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.OK
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 1
    assert 'FOR UPDATE OF "enrollment_holder"' in reads[0]
