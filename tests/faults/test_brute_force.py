"""Guessing PINs ends in rate limits and lockouts, never in a guessed PIN."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from enrollment import user_numbers
from enrollment.models import ActivationCode, HolderStatus
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker

pytestmark = pytest.mark.django_db


def step(response: Any) -> str:
    return str(response.context["wizard"]["steps"].current) if response.context else ""


def test_many_user_numbers_from_one_address_hit_the_rate_limit(
    client: Client, settings: Any
) -> None:
    cache.clear()
    settings.USER_DATA_RATE_LIMIT = "20/10m"  # the default is higher: a practice's team passes
    make_policy()
    holders = [issue_holder(name=f"H{i}")[0] for i in range(30)]
    walker = WizardWalker(client)
    walker.start()
    statuses = [walker.user_data(holder.user_number, "12345678").status_code for holder in holders]
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}
    assert all(ActivationCode.objects.get(holder=h).failed_attempts <= 1 for h in holders)


def test_one_user_number_from_many_addresses_is_locked_after_five(
    client: Client, settings: Any
) -> None:
    cache.clear()
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    holder, pin = issue_holder()
    walker = WizardWalker(client)
    walker.start()
    guesses = [f"{n:08d}" for n in range(200) if f"{n:08d}" != pin]
    for number, guess in enumerate(guesses):
        address = str(ipaddress.ip_address("198.51.100.0") + number)
        response = walker.user_data(holder.user_number, guess, HTTP_X_FORWARDED_FOR=address)
        assert step(response) == "gebruikersgegevens"
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED
    assert ActivationCode.objects.get(holder=holder).failed_attempts == 5
    # Even the right PIN, from a fresh address, no longer opens the wizard.
    response = walker.user_data(holder.user_number, pin, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert step(response) == "gebruikersgegevens"


def test_guessing_user_numbers_never_costs_another_holder_more_than_its_share() -> None:
    holder, _pin = issue_holder()
    for _ in range(50):
        ActivationCode.verify(user_numbers.generate(), "12345678")
    assert ActivationCode.objects.get(holder=holder).failed_attempts == 0
