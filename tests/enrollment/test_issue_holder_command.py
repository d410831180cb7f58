from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from enrollment.models import ActivationCode, Holder, PinCheck

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("issue_holder", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_user_number_and_a_working_pin_as_json() -> None:
    output = run(
        "--name",
        "A. Janssen",
        "--organisation",
        "Zorg BV",
        "--contact-email",
        "c@example.org",
        "--json",
    )
    data = json.loads(output)
    holder = Holder.objects.get(user_number=data["user_number"])
    assert holder.kind == "personal" and holder.organisation.name == "Zorg BV"
    assert ActivationCode.verify(data["user_number"], data["pin"]).result is PinCheck.OK


def test_it_creates_system_holders_with_allowed_ranges() -> None:
    data = json.loads(
        run(
            "--name",
            "Koppeling",
            "--organisation",
            "Zorg BV",
            "--contact-email",
            "c@example.org",
            "--kind",
            "system",
            "--allowed-ip",
            "192.0.2.0/24",
            "--allowed-ip",
            "2001:db8::/48",
            "--json",
        )
    )
    holder = Holder.objects.get(user_number=data["user_number"])
    assert [str(n) for n in holder.networks] == ["192.0.2.0/24", "2001:db8::/48"]


def test_bad_input_is_a_clear_error_and_writes_nothing() -> None:
    with pytest.raises(CommandError, match="contact_email"):
        run("--name", "X", "--organisation", "Zorg BV", "--contact-email", "not-an-email", "--json")
    with pytest.raises(CommandError, match="allowed_networks"):
        run(
            "--name",
            "X",
            "--organisation",
            "Zorg BV",
            "--contact-email",
            "c@example.org",
            "--kind",
            "system",
            "--allowed-ip",
            "300.1.1.1",
        )
    assert Holder.objects.count() == 0
