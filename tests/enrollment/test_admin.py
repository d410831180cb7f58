"""Admins issue user numbers and PINs, block and unblock, in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client

from enrollment.models import ActivationCode, Holder, HolderStatus, PinCheck, PolicyDocument
from tests.enrollment.factories import issue_holder, make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_nl(client: Client) -> Client:
    admin = User.objects.create_superuser("beheer", "beheer@example.org", "Beheer-Wachtwoord1!")
    client.force_login(admin)
    return client


def test_adding_a_holder_generates_a_user_number_and_shows_the_pin_once(
    admin_client_nl: Client,
) -> None:
    organisation = make_organisation()
    response = admin_client_nl.post(
        "/admin/enrollment/holder/add/",
        {
            "display_name": "B. de Vries",
            "kind": "personal",
            "organisation": organisation.pk,
            "contact_email": "contact@example.org",
            "allowed_networks": "",
            "activation_codes-TOTAL_FORMS": "0",
            "activation_codes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    holder = Holder.objects.get(display_name="B. de Vries")
    html = response.content.decode()
    assert holder.user_number in html
    pins = [
        line for line in html.split("<code>") if line[:8].isdigit() and len(line.split("<")[0]) == 8
    ]
    pin = pins[0][:8]
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.OK
    assert "no-store" in response["Cache-Control"]
    # Never again: not on the change page, not in the session.
    change = admin_client_nl.get(f"/admin/enrollment/holder/{holder.pk}/change/").content.decode()
    assert pin not in change
    assert all(pin not in str(s.get_decoded()) for s in Session.objects.all())


def test_reissuing_a_pin_unblocks_and_replaces_the_old_one(admin_client_nl: Client) -> None:
    holder, old_pin = issue_holder()
    holder.block(actor="test")
    response = admin_client_nl.post(
        "/admin/enrollment/holder/", {"action": "issue_pins", "_selected_action": [holder.pk]}
    )
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE
    assert ActivationCode.verify(holder.user_number, old_pin).result is PinCheck.WRONG
    assert holder.user_number in response.content.decode()


def test_block_and_unblock_actions(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    admin_client_nl.post(
        "/admin/enrollment/holder/", {"action": "block_holders", "_selected_action": [holder.pk]}
    )
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED
    admin_client_nl.post(
        "/admin/enrollment/holder/", {"action": "unblock_holders", "_selected_action": [holder.pk]}
    )
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE


def test_unblock_does_not_lift_a_block_for_wrong_pins(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    for _attempt in range(5):
        ActivationCode.verify(holder.user_number, "00000000")
    admin_client_nl.post(
        "/admin/enrollment/holder/", {"action": "unblock_holders", "_selected_action": [holder.pk]}
    )
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED


@pytest.mark.parametrize("query", ["user_number", "display_name", "organisation"])
def test_holders_can_be_found_by_number_name_and_organisation(
    admin_client_nl: Client, query: str
) -> None:
    holder, _ = issue_holder(name="Zoekbare Persoon")
    other, _ = issue_holder(name="Iemand Anders")
    term = {
        "user_number": holder.user_number,
        "display_name": "Zoekbare",
        "organisation": holder.organisation.name,
    }[query]
    html = admin_client_nl.get("/admin/enrollment/holder/", {"q": term}).content.decode()
    assert holder.user_number in html
    if query != "organisation":
        assert other.user_number not in html


def test_holders_can_be_filtered_by_kind_and_status(admin_client_nl: Client) -> None:
    personal, _ = issue_holder("personal")
    system, _ = issue_holder("system", name="Koppeling")
    html = admin_client_nl.get(
        "/admin/enrollment/holder/", {"kind__exact": "system"}
    ).content.decode()
    assert system.user_number in html and personal.user_number not in html
    system.block(actor="test")
    html = admin_client_nl.get(
        "/admin/enrollment/holder/", {"status__exact": "blocked"}
    ).content.decode()
    assert system.user_number in html and personal.user_number not in html


def test_a_published_policy_text_cannot_be_edited(admin_client_nl: Client) -> None:
    document = PolicyDocument.objects.create(version="1.0", title="CP/CPS", body="Origineel")
    document.publish()
    admin_client_nl.post(
        f"/admin/enrollment/policydocument/{document.pk}/change/",
        {"version": "1.0", "title": "CP/CPS", "body": "Gewijzigd"},
    )
    document.refresh_from_db()
    assert document.body == "Origineel"
