"""Admins issue user numbers and PINs, block and unblock, in the portal's back office."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from enrollment.models import (
    ActivationCode,
    Holder,
    HolderStatus,
    OutgoingMail,
    PinCheck,
    PinHandover,
    PolicyDocument,
)
from tests.enrollment.admin_pages import (
    ADD_URL,
    CHANGELIST_URL,
    add_holder,
    form_token,
    holder_data,
    make_admin,
    post_add_form,
    run_action,
    shown_pin,
    shown_pins,
)
from tests.enrollment.factories import issue_holder, make_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_nl(client: Client) -> Client:
    client.force_login(make_admin())
    return client


def texts_of_messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


# --- Adding a holder, idempotently -------------------------------------------------------


def test_adding_a_holder_redirects_to_a_page_that_shows_the_pin_once(
    admin_client_nl: Client,
) -> None:
    submitted = post_add_form(admin_client_nl)
    assert submitted.status_code == 302 and "/issued/" in submitted["Location"]
    page = admin_client_nl.get(submitted["Location"])
    html = page.content.decode()
    holder = Holder.objects.get(display_name="B. de Vries")
    pin = shown_pin(html)
    assert holder.user_number in html
    assert ActivationCode.verify(holder.user_number, pin).result is PinCheck.OK
    assert "no-store" in page["Cache-Control"]
    # Never again: not on a reload, not on the change page, not in the session.
    again = admin_client_nl.get(submitted["Location"]).content.decode()
    assert pin not in again and "worden niet opnieuw getoond" in again
    change = admin_client_nl.get(f"/admin/enrollment/holder/{holder.pk}/change/").content.decode()
    assert pin not in change
    assert all(pin not in str(s.get_decoded()) for s in Session.objects.all())
    # ... nor at rest in the clear: the handover keeps it encrypted.
    assert pin.encode() not in bytes(PinHandover.objects.get().pins_encrypted)


def test_submitting_the_add_form_twice_creates_one_holder_and_says_it_was_done(
    admin_client_nl: Client,
) -> None:
    token = form_token(admin_client_nl.get(ADD_URL).content.decode())
    data = {**holder_data(), "issue_token": token}
    first = admin_client_nl.post(ADD_URL, data)
    second = admin_client_nl.post(ADD_URL, data)  # a reload of the POST, or a double click
    assert first["Location"] == second["Location"]
    assert Holder.objects.count() == 1
    assert AuditEntry.objects.filter(event=AuditEvent.HOLDER_ISSUED).count() == 1
    assert OutgoingMail.objects.filter(kind="user_number").count() == 1
    assert any("al gedaan" in text for text in texts_of_messages(second))
    # The browser shows the answer of the last submit: the PIN is still there, once.
    assert len(shown_pins(admin_client_nl.get(second["Location"]).content.decode())) == 1


def test_a_second_holder_of_the_same_name_is_added_only_when_asked_for(
    admin_client_nl: Client,
) -> None:
    existing, _pin = issue_holder(name="b. de vries", organisation=make_organisation("Zorg BV"))
    refused = post_add_form(admin_client_nl)  # a new drawing of the form, as after "back"
    html = refused.content.decode()
    assert f"bestaat al, gebruikersnummer {existing.user_number}" in html
    assert 'name="add_duplicate"' in html and Holder.objects.count() == 1
    accepted = post_add_form(admin_client_nl, add_duplicate="on")
    assert accepted.status_code == 302 and Holder.objects.count() == 2


def test_an_add_form_without_its_token_creates_nothing(admin_client_nl: Client) -> None:
    response = admin_client_nl.post(ADD_URL, holder_data())
    assert response.status_code == 200
    assert "Dit formulier is verouderd" in response.content.decode()
    assert not Holder.objects.exists()


def test_a_token_is_free_again_when_its_submit_had_errors(admin_client_nl: Client) -> None:
    token = form_token(admin_client_nl.get(ADD_URL).content.decode())
    refused = admin_client_nl.post(
        ADD_URL, {**holder_data(contact_email="geen-adres"), "issue_token": token}
    )
    assert refused.status_code == 200 and not Holder.objects.exists()
    accepted = admin_client_nl.post(ADD_URL, {**holder_data(), "issue_token": token})
    assert accepted.status_code == 302 and Holder.objects.count() == 1


def test_the_pin_page_shows_the_pin_large_with_copy_button_and_letter(
    admin_client_nl: Client,
) -> None:
    html = add_holder(admin_client_nl).content.decode()
    assert re.search(r'class="pin-value pin-secret"', html)
    assert html.count('class="button pin-copy"') == 2  # user number and PIN
    assert "Gebruikersnummer" in html and "Brief afdrukken (PDF)" in html
    assert "admin-pins.js" in html


def test_another_admin_cannot_open_a_handover(admin_client_nl: Client) -> None:
    location = post_add_form(admin_client_nl)["Location"]
    other = Client()
    other.force_login(make_admin("ander"))
    assert other.get(location).status_code == 404
    assert other.get(f"{location}letters.pdf").status_code == 404


def test_the_pins_are_wiped_when_the_handover_ends(admin_client_nl: Client) -> None:
    location = post_add_form(admin_client_nl)["Location"]
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = admin_client_nl.get(f"{location}letters.pdf")
        assert response.status_code == 302
        post_add_form(admin_client_nl, display_name="C. Tweede")  # every claim sweeps
    first = PinHandover.objects.order_by("created_at").first()
    assert first is not None and first.wiped_at is not None
    assert bytes(first.pins_encrypted) == b""


def test_done_wipes_the_pins_at_once(admin_client_nl: Client) -> None:
    location = post_add_form(admin_client_nl)["Location"]
    admin_client_nl.post(f"{location}wipe/")
    assert admin_client_nl.get(f"{location}letters.pdf").status_code == 302
    assert bytes(PinHandover.objects.get().pins_encrypted) == b""


# --- The holder form ---------------------------------------------------------------------


def test_the_holder_form_has_delivery_message_box_contact_person_and_ip_ranges(
    admin_client_nl: Client,
) -> None:
    html = admin_client_nl.get(ADD_URL).content.decode()
    for name in (
        "pin_delivery",
        "messagebox_address",
        "is_contact_person",
        "allowed_networks",
        "organisation",
    ):
        assert f'name="{name}"' in html, name
    assert "Bezorging pincode" in html and "Adres berichtenbox" in html


def test_a_message_box_holder_gets_the_pin_by_mail_and_is_a_contact_person(
    admin_client_nl: Client,
) -> None:
    add_holder(
        admin_client_nl,
        pin_delivery="messagebox",
        messagebox_address="box@zorg.example",
        is_contact_person="on",
    )
    holder = Holder.objects.get()
    assert holder.is_contact_person and holder.pin_delivery == "messagebox"
    assert OutgoingMail.objects.filter(kind="pin", recipients=["box@zorg.example"]).exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pin_delivery": "messagebox"}, "het adres van de berichtenbox nodig"),
        ({"allowed_networks": "192.0.2.0/24"}, "Alleen systeemcertificaten"),
        (
            {"kind": "system", "allowed_networks": "192.0.2.0/33"},
            "192.0.2.0/33 is geen IP-adres of -bereik",
        ),
        ({"kind": "system", "allowed_networks": "0.0.0.0/0"}, "0.0.0.0/0 staat elk adres toe"),
    ],
)
def test_the_holder_form_explains_what_is_wrong(
    admin_client_nl: Client, values: dict[str, str], message: str
) -> None:
    response = post_add_form(admin_client_nl, **values)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Holder.objects.exists()


def test_a_letter_needs_the_organisation_s_postal_address(admin_client_nl: Client) -> None:
    bare = make_organisation("Zonder Adres", postal_address=False)
    response = post_add_form(admin_client_nl, organisation=str(bare.pk))
    assert "Zonder Adres heeft geen postadres" in response.content.decode()
    assert not Holder.objects.exists()


def test_an_organisation_s_postal_address_is_all_or_nothing(admin_client_nl: Client) -> None:
    url = "/admin/enrollment/organisation/add/"
    partial = admin_client_nl.post(url, {"name": "Zorg", "postal_address": "Postbus 1"})
    assert "Vul ook de postcode in" in partial.content.decode()
    admin_client_nl.post(
        url, {"name": "Zorg", "postal_address": "Postbus 1", "postal_code": "1234ab", "city": "Ede"}
    )
    organisation = make_organisation("Zorg")
    assert organisation.postal_code == "1234 AB"
    assert organisation.address_lines() == ["Postbus 1", "1234 AB  EDE"]


# --- Re-issuing PINs, blocking -----------------------------------------------------------


def test_reissuing_a_pin_unblocks_replaces_the_old_one_and_shows_the_new_one(
    admin_client_nl: Client,
) -> None:
    holder, old_pin = issue_holder()
    holder.block(actor="test")
    response = run_action(admin_client_nl, "issue_pins", [holder])
    assert response.status_code == 302
    html = admin_client_nl.get(response["Location"]).content.decode()
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE
    assert ActivationCode.verify(holder.user_number, old_pin).result is PinCheck.WRONG
    assert ActivationCode.verify(holder.user_number, shown_pin(html)).result is PinCheck.OK
    assert "Brief afdrukken (PDF)" in html


def test_running_the_reissue_twice_with_one_page_issues_once(admin_client_nl: Client) -> None:
    holder, _pin = issue_holder()
    token = form_token(admin_client_nl.get(CHANGELIST_URL).content.decode())
    first = run_action(admin_client_nl, "issue_pins", [holder], token)
    second = run_action(admin_client_nl, "issue_pins", [holder], token)
    assert first["Location"] == second["Location"]
    assert holder.activation_codes.count() == 2  # the first and one new, not two new
    assert any("al gedaan" in text for text in texts_of_messages(second))


def test_the_letters_action_prints_letters_and_shows_no_pin(admin_client_nl: Client) -> None:
    holder, _pin = issue_holder()
    response = run_action(admin_client_nl, "issue_pin_letters", [holder])
    html = admin_client_nl.get(response["Location"]).content.decode()
    assert not shown_pins(html) and "Brief afdrukken (PDF)" in html


def test_block_and_unblock_actions_say_what_they_did(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    run_action(admin_client_nl, "block_holders", [holder])
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED
    again = run_action(admin_client_nl, "block_holders", [holder])
    assert any("al geblokkeerd" in text for text in texts_of_messages(again))
    run_action(admin_client_nl, "unblock_holders", [holder])
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE


def test_unblock_does_not_lift_a_block_for_wrong_pins(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    for _attempt in range(5):
        ActivationCode.verify(holder.user_number, "00000000")
    run_action(admin_client_nl, "unblock_holders", [holder])
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED


def test_holders_are_never_deleted(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    assert admin_client_nl.get(f"/admin/enrollment/holder/{holder.pk}/delete/").status_code == 403
    assert Holder.objects.exists()


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
    html = admin_client_nl.get(CHANGELIST_URL, {"q": term}).content.decode()
    assert holder.user_number in html
    if query != "organisation":
        assert other.user_number not in html


def test_holders_can_be_filtered_by_kind_and_status(admin_client_nl: Client) -> None:
    personal, _ = issue_holder("personal")
    system, _ = issue_holder("system", name="Koppeling")
    html = admin_client_nl.get(CHANGELIST_URL, {"kind__exact": "system"}).content.decode()
    assert system.user_number in html and personal.user_number not in html
    system.block(actor="test")
    html = admin_client_nl.get(CHANGELIST_URL, {"status__exact": "blocked"}).content.decode()
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


# --- In the portal's name and language ---------------------------------------------------


def test_the_admin_is_the_portal_s_back_office_in_dutch(admin_client_nl: Client) -> None:
    html = admin_client_nl.get("/admin/").content.decode()
    assert "Certificaatportaal — beheer" in html
    assert "Django" not in html and "Websitebeheer" not in html
    assert "Certificaathouders" in html  # holders, apart from the admin's own "Gebruikers"


def test_the_admin_speaks_english_when_chosen(admin_client_nl: Client) -> None:
    admin_client_nl.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    html = admin_client_nl.get("/admin/").content.decode()
    assert "Certificaatportaal — administration" in html and "Certificate holders" in html


def test_pin_rows_are_named_by_date_and_state_in_words(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    holder.issue_pin(actor="test")
    html = admin_client_nl.get(f"/admin/enrollment/holder/{holder.pk}/change/").content.decode()
    today = timezone.localdate()
    assert re.search(
        rf"Pincode van {today.day} \w+ {today.year}, vervangen door een nieuwere", html
    )
    assert "bruikbaar, nog niet gebruikt" in html
    for english in ("CREATED AT", "EXPIRES AT", "FAILED ATTEMPTS", "USED AT", "usable", "replaced"):
        assert english not in html
    assert "Foute pogingen" in html and "Geldig tot" in html


# --- Every action audited, with the admin as actor ---------------------------------------


def test_every_admin_action_is_audited_with_the_admin_as_actor(admin_client_nl: Client) -> None:
    admin_client_nl.post(
        "/admin/enrollment/organisation/add/",
        {"name": "Nieuw", "postal_address": "Postbus 9", "postal_code": "9999 ZZ", "city": "Ee"},
    )
    location = post_add_form(admin_client_nl, organisation=str(make_organisation("Nieuw").pk))[
        "Location"
    ]
    holder = Holder.objects.get()
    admin_client_nl.get(f"{location}letters.pdf")
    admin_client_nl.post(
        f"/admin/enrollment/holder/{holder.pk}/change/",
        {
            **holder_data(organisation=str(holder.organisation_id)),
            "contact_email": "n@x.example",
            "activation_codes-TOTAL_FORMS": "1",
            "activation_codes-INITIAL_FORMS": "1",
            "activation_codes-0-id": str(holder.activation_codes.get().pk),
            "activation_codes-0-holder": str(holder.pk),
        },
    )
    for action in ("issue_pins", "block_holders", "unblock_holders"):
        run_action(admin_client_nl, action, [holder])
    events = list(
        AuditEntry.objects.filter(actor="admin:beheer")
        .order_by("seq")
        .values_list("event", flat=True)
    )
    for event in (
        AuditEvent.ORGANISATION_CREATED,
        AuditEvent.HOLDER_ISSUED,
        AuditEvent.PIN_LETTERS_PRINTED,
        AuditEvent.HOLDER_CHANGED,
        AuditEvent.PIN_ISSUED,
        AuditEvent.HOLDER_BLOCKED,
        AuditEvent.HOLDER_UNBLOCKED,
    ):
        assert event in events, event
    changed = AuditEntry.objects.get(event=AuditEvent.HOLDER_CHANGED)
    assert changed.details["changed"] == {"contact_email": "n@x.example"}
    assert AuditEntry.objects.verify() == []


def test_the_audit_log_is_readable_and_filterable(admin_client_nl: Client) -> None:
    holder, _ = issue_holder()
    holder.block(actor="admin:beheer")
    holder.unblock(actor="system:test")
    url = "/admin/audit/auditentry/"
    html = admin_client_nl.get(url, {"event__exact": "holder_blocked"}).content.decode()
    assert 'field-event">certificaathouder geblokkeerd<' in html
    assert 'field-event">certificaathouder gedeblokkeerd<' not in html
    admins = admin_client_nl.get(url, {"actor_kind": "admin"}).content.decode()
    assert "admin:beheer" in admins and "system:test" not in admins
    found = admin_client_nl.get(url, {"q": holder.user_number}).content.decode()
    assert found.count(f"user_number: {holder.user_number}") >= 2
    entry = AuditEntry.objects.filter(event=AuditEvent.HOLDER_BLOCKED).get()
    detail = admin_client_nl.get(f"{url}{entry.pk}/change/").content.decode()
    assert holder.user_number in detail and entry.entry_hash in detail


def test_mail_of_a_new_holder_is_sent_once(admin_client_nl: Client) -> None:
    token = form_token(admin_client_nl.get(ADD_URL).content.decode())
    for _submit in range(3):
        admin_client_nl.post(ADD_URL, {**holder_data(), "issue_token": token})
    assert OutgoingMail.objects.count() == 1
    assert mail.outbox == []  # sent after the commit, by the outbox's task


def test_the_admin_list_of_users_is_still_django_s(admin_client_nl: Client) -> None:
    # The admin's own accounts stay "Gebruikers"; only holders were renamed.
    assert User.objects.count() == 1
    assert "Gebruikers" in admin_client_nl.get("/admin/").content.decode()
