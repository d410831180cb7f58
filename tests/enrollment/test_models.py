from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from enrollment import user_numbers
from enrollment.models import (
    ActivationCode,
    BlockReason,
    Holder,
    HolderStatus,
    PinCheck,
    PolicyDocument,
)
from tests.enrollment.factories import issue_holder, make_organisation

pytestmark = pytest.mark.django_db


def test_issuing_a_holder_gives_a_valid_user_number_and_an_8_digit_pin() -> None:
    holder, pin = issue_holder()
    assert user_numbers.is_valid(holder.user_number)
    assert len(pin) == 8 and pin.isdigit()


def test_the_pin_is_stored_only_as_a_hash() -> None:
    holder, pin = issue_holder()
    code = ActivationCode.objects.get(holder=holder)
    assert pin not in code.pin_hash
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.OK


def test_the_contact_person_gets_the_user_number_but_never_the_pin(
    django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        holder, pin = issue_holder(contact_email="contact@zorg.example")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["contact@zorg.example"]
    assert holder.user_number in message.body
    assert pin not in message.body and pin not in message.subject


def test_pins_expire_after_the_configured_validity(settings: Any) -> None:
    settings.PIN_VALIDITY_DAYS = 60
    holder, pin = issue_holder()
    with time_machine.travel(timezone.now() + timedelta(days=61)):
        assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.EXPIRED


def test_five_wrong_pins_block_the_holder_and_a_new_pin_unblocks() -> None:
    holder, pin = issue_holder()
    results = [ActivationCode.verify(holder.user_number, "99999999").result for _ in range(5)]
    assert results == [PinCheck.WRONG] * 4 + [PinCheck.BLOCKED]
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED and holder.block_reason == BlockReason.PIN_ATTEMPTS
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.BLOCKED
    new_pin = holder.issue_pin(actor="test")
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.WRONG
    assert ActivationCode.verify(holder.user_number, new_pin).result is PinCheck.OK


def test_a_pin_is_single_use() -> None:
    holder, pin = issue_holder()
    code = ActivationCode.verify(holder.user_number, pin).code
    assert code is not None
    assert code.consume() is True
    assert code.consume() is False
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.USED


def test_an_unknown_user_number_is_just_wrong() -> None:
    assert ActivationCode.verify("12345678901237", "12345678").result is PinCheck.WRONG


def test_personal_holders_cannot_have_ip_ranges() -> None:
    with pytest.raises(ValidationError):
        issue_holder("personal", allowed_networks="10.0.0.0/8")


def test_system_holders_accept_ipv4_and_ipv6_ranges_and_refuse_garbage() -> None:
    holder, _ = issue_holder("system", allowed_networks="192.0.2.0/24\n2001:db8::/32")
    assert [str(n) for n in holder.networks] == ["192.0.2.0/24", "2001:db8::/32"]
    with pytest.raises(ValidationError):
        issue_holder("system", name="Ander", allowed_networks="not-an-ip")
    assert Holder.objects.filter(display_name="Ander").count() == 0


def test_user_numbers_are_unique_and_never_reused() -> None:
    organisation = make_organisation()
    numbers = {
        issue_holder(organisation=organisation, name=f"H{i}")[0].user_number for i in range(50)
    }
    assert len(numbers) == 50


def test_the_current_policy_is_the_latest_published_one() -> None:
    PolicyDocument.objects.create(
        version="1.0", title="CP/CPS", body="a", published_at=timezone.now() - timedelta(days=2)
    )
    PolicyDocument.objects.create(
        version="1.1", title="CP/CPS", body="b", published_at=timezone.now() - timedelta(days=1)
    )
    PolicyDocument.objects.create(version="2.0-concept", title="CP/CPS", body="c")
    current = PolicyDocument.objects.current()
    assert current is not None and current.version == "1.1"
