"""One URL per wizard step: every POST redirects, Back, Forward, reloads and the language
switch show the right step with what was typed, never a secret."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from enrollment.models import Enrollment, Holder
from tests.enrollment.factories import make_policy
from tests.enrollment.wizard_client import WizardWalker

pytestmark = pytest.mark.django_db

URL = "/enroll/personal/"


@pytest.fixture(autouse=True)
def _policy_and_clean_cache() -> None:
    make_policy()
    cache.clear()


def sessions() -> str:
    return json.dumps([s.get_decoded() for s in Session.objects.all()])


def test_the_entry_sends_a_new_visitor_to_the_first_steps_url(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == URL + "gebruikersgegevens/"


def test_a_completed_step_redirects_to_the_next_steps_url(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    assert walker.last_post is not None
    assert walker.last_post.status_code == 302
    assert walker.last_post["Location"] == URL + "e-mailadres/"


def test_a_refused_step_redirects_to_itself_and_shows_its_errors_once(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    page = walker.email("a@example.org", "b@example.org")
    assert walker.last_post is not None and walker.last_post["Location"] == URL + "e-mailadres/"
    html = page.content.decode()
    assert "Verbeter het volgende" in html and 'value="a@example.org"' in html
    reloaded = walker.client.get(URL + "e-mailadres/").content.decode()
    assert "Verbeter het volgende" not in reloaded and 'value="a@example.org"' in reloaded


def test_a_step_not_reached_yet_sends_to_the_first_incomplete_one(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    assert walker.client.get(URL + "voorwaarden/")["Location"] == URL + "gebruikersgegevens/"
    walker.user_data(holder.user_number, pin)
    assert walker.client.get(URL + "wachtwoord/")["Location"] == URL + "e-mailadres/"
    assert walker.client.get(URL + "bestaat-niet/")["Location"] == URL + "e-mailadres/"


def test_back_and_forward_by_url_show_each_step_with_what_was_typed(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    walker.email("x@example.org")
    walker.certificate_name("PC-7")
    # The browser's Back and Forward: GETs of the steps' URLs.
    email = walker.client.get(URL + "e-mailadres/")
    assert email.context["form"].initial["email"] == "x@example.org"
    user_data = walker.client.get(URL + "gebruikersgegevens/").content.decode()
    assert f'value="{holder.user_number}"' in user_data and pin not in user_data
    name = walker.client.get(URL + "certificaatnaam/")
    assert name.context["form"].initial["certificate_name"] == "PC-7"
    assert walker.client.get(URL + "wachtwoord/").status_code == 200


def test_back_keeps_what_was_typed_on_the_step_being_left(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    walker.email()
    walker.back("e-mailadres", from_step="certificaatnaam", certificate_name="HALF")
    forward = walker.client.get(URL + "certificaatnaam/")
    assert forward.context["form"].initial["certificate_name"] == "HALF"


def test_switching_language_keeps_what_was_typed_but_not_the_pin(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    page = walker.switch_language(
        "en", on_step="gebruikersgegevens", user_number=holder.user_number, pin=pin
    )
    html = page.content.decode()
    assert ">User number</label>" in html and f'value="{holder.user_number}"' in html
    assert pin not in html and pin not in sessions()
    assert "Please correct" not in html
    assert walker.client.cookies["django_language"].value == "en"


def test_switching_language_on_a_later_step_keeps_its_values(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    page = walker.switch_language(
        "en", on_step="e-mailadres", email="typed@example.org", email_repeat="typed@exa"
    )
    html = page.content.decode()
    assert "Step 3 of 7" in html
    assert 'value="typed@example.org"' in html and 'value="typed@exa"' in html


def test_an_unknown_language_is_a_400(walker: WizardWalker) -> None:
    response = walker.client.post(
        URL + "gebruikersgegevens/",
        {"wizard_language": "xx", "enroll_personal-current_step": "gebruikersgegevens"},
    )
    assert response.status_code == 400


def test_wizard_pages_are_never_cached_so_back_asks_again(walker: WizardWalker) -> None:
    response = walker.client.get(URL + "gebruikersgegevens/")
    assert "no-store" in response["Cache-Control"]


def test_a_second_click_on_the_last_button_makes_nothing_twice(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    first = walker.complete(holder.user_number, pin)
    second = walker.consent()
    enrollment = Enrollment.objects.get()
    assert first["Location"] == second["Location"] == f"/enroll/{enrollment.public_id}/"
    page = walker.client.get(second["Location"]).content.decode()
    assert "Uw aanmelding was al verzonden" in page


def test_a_get_of_the_done_name_completes_nothing(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    walker.client.get(URL + "klaar/")
    assert Enrollment.objects.count() == 0
