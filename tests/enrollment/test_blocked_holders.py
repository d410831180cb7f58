"""A block puts a holder's certificates on hold, including one that a worker signs later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ca.models import CertificateAuthority, RevocationReason
from enrollment.models import Enrollment
from tests.fixtures.ca import certificate_of, fixture_bytes, order_for

pytestmark = pytest.mark.django_db


def test_a_certificate_signed_after_its_holder_was_blocked_is_put_on_hold_at_once(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enrollment = make_enrollment()
    with django_capture_on_commit_callbacks(execute=False) as signing:
        order_for(enrollment, fixture_bytes("p256.pem"))
    enrollment.holder.block(actor="admin:test")  # while the order waits for a worker
    for run in signing:
        run()  # the worker signs
    certificate = certificate_of(enrollment)
    assert certificate.revocation_reason == RevocationReason.CERTIFICATE_HOLD


def test_a_certificate_of_an_active_holder_is_not_touched(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    enrollment = make_enrollment()
    with django_capture_on_commit_callbacks(execute=True):
        order_for(enrollment, fixture_bytes("p256.pem"))
    assert certificate_of(enrollment).revoked_at is None
