"""The enrollment wizard, steps 2 to 6, walked through the test client."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import pytest
from captcha.models import CaptchaStore
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import user_numbers
from enrollment.models import ActivationCode, BlockReason, Enrollment, Holder, HolderStatus
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import STRONG_PASSWORD, WizardWalker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policy_and_clean_cache() -> None:
    make_policy()
    cache.clear()


def session_dump() -> str:
    return json.dumps([s.get_decoded() for s in Session.objects.all()])


def error_summary(response: Any) -> str:
    html = response.content.decode()
    start = html.find('class="error-summary"')
    return html[start : html.find("</div>", start)] if start >= 0 else ""


def current_step(response: Any) -> str:
    return response.context["wizard"]["steps"].current


class TestHappyPath:
    def test_personal_enrollment_walks_steps_2_to_6_and_lands_on_step_7(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        response = walker.user_data(holder.user_number, pin)
        assert current_step(response) == "e-mailadres"
        assert holder.display_name in response.content.decode()
        assert current_step(walker.email()) == "certificaatnaam"
        assert current_step(walker.certificate_name("PC-1")) == "wachtwoord"
        assert current_step(walker.password()) == "voorwaarden"
        response = walker.consent()

        enrollment = Enrollment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/enroll/{enrollment.public_id}/"
        assert enrollment.status == "ready"
        assert enrollment.email == "a.janssen@example.org"
        assert enrollment.certificate_name == "PC-1"
        assert check_password(STRONG_PASSWORD, enrollment.password_hash)
        assert enrollment.activation_code.used_at is not None

    def test_step_7_page_shows_the_registration_to_the_browser_that_made_it(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        response = walker.complete(holder.user_number, pin, name="PC-1")
        page = walker.client.get(response["Location"])
        assert page.status_code == 200
        text = page.content.decode()
        assert "Stap 7 van 7" in text and "Installatieproces" in text and "PC-1" in text
        assert Client().get(response["Location"]).status_code == 404

    def test_consents_are_recorded_with_policy_version_time_address_and_agent(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.client.defaults["HTTP_USER_AGENT"] = "TestBrowser/1.0"
        walker.complete(holder.user_number, pin)
        consents = Enrollment.objects.get().consents.order_by("kind")
        assert [c.kind for c in consents] == ["certificate_use", "software"]
        for consent in consents:
            assert consent.policy.version == "1.0"
            assert consent.client_address == "127.0.0.1"
            assert consent.user_agent == "TestBrowser/1.0"
            assert consent.accepted_at is not None

    def test_system_enrollment_skips_the_password_step(self, client: Client) -> None:
        holder, pin = issue_holder("system", name="Koppeling")
        walker = WizardWalker(client, "system")
        walker.start()
        walker.user_data(holder.user_number, pin)
        walker.email()
        response = walker.certificate_name("SYS-1")
        assert current_step(response) == "voorwaarden"
        assert "Stap 6 van 7" in response.content.decode()
        assert walker.consent().status_code == 302
        assert Enrollment.objects.get().password_hash == ""

    def test_each_step_reads_the_holder_once_and_suggests_a_name_only_when_showing_it(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        steps: dict[str, Callable[[], Any]] = {
            "gebruikersgegevens": lambda: walker.user_data(holder.user_number, pin),
            "e-mailadres": walker.email,
            "certificaatnaam": lambda: walker.certificate_name("PC-1"),
            "wachtwoord": walker.password,
            "voorwaarden": walker.consent,
        }
        reads = {}
        for step, post in steps.items():
            with CaptureQueriesContext(connection) as queries:
                post()
            sql = [query["sql"] for query in queries.captured_queries]
            reads[step] = (
                sum(
                    'FROM "enrollment_holder"' in statement
                    or 'JOIN "enrollment_holder"' in statement
                    for statement in sql
                ),
                sum(
                    statement.startswith("SELECT")
                    and 'FROM "enrollment_enrollment"' in statement
                    and "certificate_name" in statement.partition("WHERE")[2]
                    for statement in sql
                ),
            )
        # Holder reads, name look-ups, per step: its POST and the GET of the next step that
        # the POST redirects to read the holder once each. The name step's own check is one
        # look-up; the suggestion is looked up when the name step is shown (after the e-mail
        # step), and the last step reads the holder again under a lock and checks the name
        # again in the same transaction as it records the enrollment (then leaves the wizard).
        assert reads == {
            "gebruikersgegevens": (2, 0),
            "e-mailadres": (2, 1),
            "certificaatnaam": (2, 1),
            "wachtwoord": (2, 0),
            "voorwaarden": (2, 2),
        }

    def test_every_step_says_which_of_7_it_is(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        assert "Stap 1 van 7" in walker.client.get("/enroll/").content.decode()
        assert "Stap 2 van 7" in walker.start().content.decode()
        assert "Stap 3 van 7" in walker.user_data(holder.user_number, pin).content.decode()
        assert "Stap 4 van 7" in walker.email().content.decode()
        assert "Stap 5 van 7" in walker.certificate_name().content.decode()
        assert "Stap 6 van 7" in walker.password().content.decode()


class TestSecretsStayOutOfTheSession:
    def test_pin_password_and_captcha_never_reach_the_session_store(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        assert pin not in session_dump() and "PASSED" not in session_dump()
        walker.email()
        walker.certificate_name()
        walker.password()
        dump = session_dump()
        assert STRONG_PASSWORD not in dump and pin not in dump
        assert "csrfmiddlewaretoken" not in dump
        walker.consent()
        assert STRONG_PASSWORD not in session_dump() and pin not in session_dump()

    def test_a_rejected_password_is_not_stored_either(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        walker.email()
        walker.certificate_name()
        walker.password("Zorg-Portaal7!", repeat="Zorg-Portaal8!")
        assert "Zorg-Portaal" not in session_dump()


class TestPinLockout:
    def test_wrong_pin_and_unknown_user_number_get_the_same_message(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, _pin = holder_and_pin
        wrong_pin = walker.user_data(holder.user_number, "00000000").content.decode()
        unknown_number = "12345678901237"  # valid check digit, no such holder
        unknown = walker.user_data(unknown_number, "00000000").content.decode()
        message = "De combinatie van gebruikersnummer en pincode is niet juist."
        assert message in wrong_pin and message in unknown

    def test_from_the_third_wrong_pin_the_page_says_how_many_attempts_are_left(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, _pin = holder_and_pin
        pages = [
            walker.user_data(holder.user_number, f"0000000{n}").content.decode() for n in range(5)
        ]
        assert ["nog 2 pogingen" in page for page in pages] == [False, False, True, False, False]
        assert ["nog 1 poging;" in page for page in pages] == [False, False, False, True, False]
        assert "geblokkeerd na 5 onjuiste pincodes" in pages[4]

    @pytest.mark.parametrize("situation", ["unknown", "admin_blocked", "no_pin"])
    def test_a_number_without_a_pin_to_try_answers_as_a_real_one_attempt_by_attempt(
        self, client: Client, situation: str
    ) -> None:
        real, _pin = issue_holder("personal", name="Echte Houder")
        if situation == "unknown":
            other = user_numbers.generate()
        else:
            holder, _other_pin = issue_holder("personal", name="Andere Houder")
            other = holder.user_number
            if situation == "admin_blocked":
                holder.block(BlockReason.ADMIN, actor="admin:test")
            else:
                ActivationCode.objects.filter(holder=holder).update(revoked_at=timezone.now())

        def answers(number: str) -> list[str]:
            walker = WizardWalker(Client())
            walker.start()
            return [error_summary(walker.user_data(number, f"9999999{n}")) for n in range(6)]

        assert answers(other) == answers(real.user_number)

    def test_a_wrong_pin_counts_against_the_user_number(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, _pin = holder_and_pin
        walker.user_data(holder.user_number, "00000000")
        walker.user_data(holder.user_number, "00000001")
        assert ActivationCode.objects.get(holder=holder).failed_attempts == 2

    def test_five_failures_block_the_user_number_even_for_the_right_pin(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        for attempt in range(5):
            walker.user_data(holder.user_number, f"0000000{attempt}")
        holder.refresh_from_db()
        assert holder.status == HolderStatus.BLOCKED
        response = walker.user_data(holder.user_number, pin)
        assert current_step(response) == "gebruikersgegevens"
        assert "geblokkeerd na 5 onjuiste pincodes" in response.content.decode()
        assert "vraag uw contactpersoon" in response.content.decode()

    def test_reissuing_a_pin_unblocks_the_user_number(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, _pin = holder_and_pin
        for attempt in range(5):
            walker.user_data(holder.user_number, f"0000000{attempt}")
        new_pin = holder.issue_pin(actor="test")
        assert current_step(walker.user_data(holder.user_number, new_pin)) == "e-mailadres"

    def test_a_user_number_with_a_typo_costs_no_pin_attempt(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        last = str((int(holder.user_number[-1]) + 1) % 10)
        response = walker.user_data(holder.user_number[:-1] + last, pin)
        assert "tikfout" in response.content.decode()
        assert ActivationCode.objects.get(holder=holder).failed_attempts == 0

    def test_an_unsolved_captcha_costs_no_pin_attempt(
        self,
        walker: WizardWalker,
        holder_and_pin: tuple[Holder, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", False)
        holder, _pin = holder_and_pin
        response = walker.user_data(holder.user_number, "00000000", captcha="111111")
        assert "De cijfers komen niet overeen" in response.content.decode()
        assert ActivationCode.objects.get(holder=holder).failed_attempts == 0

    def test_a_user_number_for_the_other_kind_gets_a_clear_message(self, client: Client) -> None:
        holder, pin = issue_holder("system", name="Koppeling")
        walker = WizardWalker(client, "personal")
        walker.start()
        response = walker.user_data(holder.user_number, pin)
        assert "hoort bij een systeemcertificaat" in response.content.decode()
        assert ActivationCode.objects.get(holder=holder).used_at is None

    def test_an_expired_pin_is_explained(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        ActivationCode.objects.filter(holder=holder).update(expires_at="2000-01-01T00:00Z")
        assert (
            "Deze pincode is verlopen" in walker.user_data(holder.user_number, pin).content.decode()
        )

    def test_a_used_pin_cannot_start_a_second_enrollment(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.complete(holder.user_number, pin)
        walker.start()
        response = walker.user_data(holder.user_number, pin)
        assert "Deze pincode is al gebruikt" in response.content.decode()


class TestRateLimit:
    def test_the_user_data_step_is_rate_limited_per_client_address(
        self, walker: WizardWalker, settings: Any
    ) -> None:
        settings.USER_DATA_RATE_LIMIT = "3/m"
        numbers = ["12345678901237", "12345678901245", "12345678901252", "12345678901260"]
        statuses = [walker.user_data(number, "00000000").status_code for number in numbers]
        assert statuses == [200, 200, 200, 429]

    def test_the_refusal_says_after_how_many_minutes_to_try_again(
        self, walker: WizardWalker, settings: Any
    ) -> None:
        settings.USER_DATA_RATE_LIMIT = "1/10m"
        walker.user_data("12345678901237", "00000000")
        response = walker.user_data("12345678901237", "00000000")
        minutes = -(-int(response["Retry-After"]) // 60)
        assert response.status_code == 429 and 1 <= minutes <= 10
        expected = f"Te veel pogingen. Probeer het over {minutes} minu"
        assert expected in response.content.decode()

    def test_one_user_number_is_limited_from_any_address(
        self, walker: WizardWalker, settings: Any
    ) -> None:
        settings.USER_NUMBER_RATE_LIMIT = "2/m"
        settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
        statuses = [
            walker.user_data(
                "1234 5678 9012 37", "0", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
            ).status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 429]

    def test_a_refused_attempt_costs_no_pin_attempt(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str], settings: Any
    ) -> None:
        holder, _pin = holder_and_pin
        settings.USER_NUMBER_RATE_LIMIT = "1/m"
        walker.user_data(holder.user_number, "00000000")
        assert walker.user_data(holder.user_number, "00000000").status_code == 429
        assert ActivationCode.objects.get(holder=holder).failed_attempts == 1

    def test_a_practice_of_50_enrolling_behind_one_address_within_an_hour_passes(
        self, client: Client
    ) -> None:
        # The defaults: each holder mistypes the captcha once, then gets it right.
        for n in range(50):
            holder, pin = issue_holder("personal", name=f"Medewerker {n}")
            walker = WizardWalker(Client())
            walker.start()
            walker.user_data(holder.user_number, pin, captcha="WRONG")
            assert current_step(walker.user_data(holder.user_number, pin)) == "e-mailadres", n

    def test_a_forged_x_forwarded_for_does_not_reset_the_limit(
        self, walker: WizardWalker, settings: Any
    ) -> None:
        settings.USER_DATA_RATE_LIMIT = "2/m"
        statuses = [
            walker.user_data("12345678901237", "0", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
            for i in range(3)
        ]
        assert statuses == [200, 200, 429]

    def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_not_the_proxy(
        self, walker: WizardWalker, settings: Any
    ) -> None:
        settings.USER_DATA_RATE_LIMIT = "2/m"
        settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.0/8")]
        first = [
            walker.user_data(
                "12345678901237", "0", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
            ).status_code
            for _ in range(3)
        ]
        other_client = walker.user_data("12345678901237", "0", HTTP_X_FORWARDED_FOR="198.51.100.8")
        assert first == [200, 200, 429]
        assert other_client.status_code == 200


class TestRevalidationAtTheEnd:
    def test_finishing_does_not_spend_pin_attempts_or_the_captcha_again(
        self,
        walker: WizardWalker,
        holder_and_pin: tuple[Holder, str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", False)
        holder, pin = holder_and_pin
        store = CaptchaStore.objects.create(challenge="123456", response="123456")
        response = walker.post(
            "gebruikersgegevens",
            {
                "user_number": holder.user_number,
                "pin": pin,
                "captcha_0": store.hashkey,
                "captcha_1": "123456",
            },
        )
        assert current_step(response) == "e-mailadres"
        walker.email()
        walker.certificate_name()
        walker.password()
        assert walker.consent().status_code == 302
        assert ActivationCode.objects.get(holder=holder).failed_attempts == 0

    def test_a_solved_captcha_cannot_be_replayed(
        self, client: Client, holder_and_pin: tuple[Holder, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", False)
        holder, pin = holder_and_pin
        store = CaptchaStore.objects.create(challenge="123456", response="123456")
        fields = {
            "user_number": holder.user_number,
            "pin": pin,
            "captcha_0": store.hashkey,
            "captcha_1": "123456",
        }
        first = WizardWalker(client)
        first.start()
        assert current_step(first.post("gebruikersgegevens", fields)) == "e-mailadres"
        second = WizardWalker(Client())
        second.start()
        replay = second.post("gebruikersgegevens", fields)
        assert current_step(replay) == "gebruikersgegevens"
        assert "De cijfers komen niet overeen" in replay.content.decode()

    def test_the_pin_is_consumed_exactly_once(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.complete(holder.user_number, pin)
        code = ActivationCode.objects.get(holder=holder)
        assert code.used_at is not None and code.failed_attempts == 0
        assert Enrollment.objects.count() == 1

    def test_a_pin_used_in_another_tab_meanwhile_restarts_with_a_message(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        walker.email()
        walker.certificate_name()
        walker.password()
        ActivationCode.objects.filter(holder=holder).update(used_at="2026-01-01T00:00Z")
        response = walker.consent()
        assert response.status_code == 200
        assert "Deze pincode is al gebruikt" in response.content.decode()
        assert Enrollment.objects.count() == 0


class TestTampering:
    def test_an_unknown_current_step_is_a_400_not_a_500(self, walker: WizardWalker) -> None:
        response = walker.post("bestaat-niet", {})
        assert response.status_code == 400
        assert "Die stap bestaat niet" in response.content.decode()

    def test_an_unknown_goto_step_is_a_400(self, walker: WizardWalker) -> None:
        assert walker.back("bestaat-niet").status_code == 400

    def test_a_missing_management_form_is_a_400(self, walker: WizardWalker) -> None:
        assert walker.client.post(walker.url, {}).status_code == 400

    def test_skipping_to_the_last_step_never_completes(self, walker: WizardWalker) -> None:
        response = walker.consent()
        assert response.status_code == 200
        assert current_step(response) == "gebruikersgegevens"
        assert Enrollment.objects.count() == 0

    def test_skipping_the_password_step_never_completes(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        walker.email()
        walker.certificate_name()
        response = walker.consent()
        assert Enrollment.objects.count() == 0
        assert current_step(response) == "gebruikersgegevens"

    def test_a_system_wizard_cannot_be_completed_with_a_personal_holder_from_a_forged_store(
        self, client: Client, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker = WizardWalker(client, "system")
        walker.start()
        walker.user_data(holder.user_number, pin)
        assert Enrollment.objects.count() == 0

    def test_an_expired_session_restarts_cleanly_with_a_message(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        Session.objects.all().delete()
        response = walker.email()
        assert response.status_code == 200
        assert current_step(response) == "gebruikersgegevens"
        assert "Uw sessie is verlopen" in response.content.decode()


class TestFieldRules:
    def _to_email_step(self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)

    def test_email_addresses_must_match(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        response = walker.email("a@example.org", "b@example.org")
        assert current_step(response) == "e-mailadres"
        assert "De twee e-mailadressen zijn niet gelijk." in response.content.decode()

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("ABCDEFGH", "maximaal 7 karakters"),
            ("PC 1", "Deze tekens zijn niet toegestaan"),
            ("PC_1", "Deze tekens zijn niet toegestaan"),
            ("", "Vul een naam voor uw certificaat in."),
        ],
    )
    def test_certificate_name_rules(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str], name: str, message: str
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        walker.email()
        response = walker.certificate_name(name)
        assert current_step(response) == "certificaatnaam"
        assert message in response.content.decode()

    def test_the_suggested_certificate_name_fits_the_7_character_rule(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        form = walker.email().context["form"]
        suggestion = form["certificate_name"].value()
        assert 1 <= len(suggestion) <= 7

    def test_certificate_name_is_unique_among_the_holders_certificates(
        self, client: Client
    ) -> None:
        holder, pin = issue_holder("personal")
        WizardWalker(client).complete(holder.user_number, pin, name="pc-1")
        second_pin = holder.issue_pin(actor="test")
        walker = WizardWalker(Client())
        walker.start()
        walker.user_data(holder.user_number, second_pin)
        suggestion = walker.email().context["form"]["certificate_name"].value()
        response = walker.certificate_name("PC-1")
        assert "U heeft al een certificaat met de naam" in response.content.decode()
        assert suggestion.lower() != "pc-1"

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Kort1!", "minimaal 8 en maximaal 64"),
            ("A" * 30 + "a1!" + "b" * 40, "minimaal 8 en maximaal 64"),
            ("zorgportaal7!", "een hoofdletter"),
            ("ZORGPORTAAL7!", "een kleine letter"),
            ("ZorgPortaal!", "een cijfer"),
            ("ZorgPortaal77", "een leesteken"),
            ("Password1!", "te algemeen"),
        ],
    )
    def test_password_rules(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str], password: str, message: str
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        walker.email()
        walker.certificate_name()
        response = walker.password(password)
        assert current_step(response) == "wachtwoord"
        assert message in response.content.decode()

    def test_password_similar_to_the_holders_details_is_refused(self, client: Client) -> None:
        holder, pin = issue_holder("personal", name="Annemarie Janssen")
        walker = WizardWalker(client)
        walker.start()
        walker.user_data(holder.user_number, pin)
        walker.email()
        walker.certificate_name()
        response = walker.password("AnnemarieJanssen1!")
        assert current_step(response) == "wachtwoord"

    def test_passwords_must_match(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        walker.email()
        walker.certificate_name()
        response = walker.password(STRONG_PASSWORD, repeat=STRONG_PASSWORD + "x")
        assert "De twee wachtwoorden zijn niet gelijk." in response.content.decode()

    def test_both_consents_are_required(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        self._to_email_step(walker, holder_and_pin)
        walker.email()
        walker.certificate_name()
        walker.password()
        response = walker.consent(software=False)
        assert current_step(response) == "voorwaarden"
        assert "Ga akkoord met de voorwaarden software" in response.content.decode()
        assert Enrollment.objects.count() == 0


class TestBackKeepsWhatWasTyped:
    def test_back_shows_earlier_values_without_errors(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        walker.email("x@example.org")
        response = walker.back("e-mailadres")
        form = response.context["form"]
        assert not form.is_bound and form.initial["email"] == "x@example.org"
        assert "Verbeter het volgende" not in response.content.decode()

    def test_back_to_the_user_data_keeps_the_number_but_not_the_pin(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        response = walker.back("gebruikersgegevens")
        html = response.content.decode()
        assert f'value="{holder.user_number}"' in html
        assert pin not in html

    def test_a_reload_resumes_the_current_step(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        holder, pin = holder_and_pin
        walker.user_data(holder.user_number, pin)
        entry = walker.client.get(walker.url)
        assert entry["Location"] == "/enroll/personal/e-mailadres/"
        assert current_step(walker.client.get(entry["Location"])) == "e-mailadres"
        again = walker.client.get(walker.url + "?opnieuw=1", follow=True)
        assert current_step(again) == "gebruikersgegevens"


class TestLanguage:
    SEED_LABELS = ["Gebruikersnummer", "Pincode", "Neem de cijfers in onderstaande afbeelding over"]

    def test_the_user_data_step_carries_the_seeds_dutch_labels(self, walker: WizardWalker) -> None:
        html = walker.start().content.decode()
        for label in self.SEED_LABELS:
            assert f">{label}</label>" in html

    def test_english_is_available_through_the_language_switch(self, client: Client) -> None:
        client.post("/i18n/setlang/", {"language": "en", "next": "/enroll/personal/"})
        html = client.get("/enroll/personal/", follow=True).content.decode()
        assert ">User number</label>" in html and "Step 2 of 7" in html

    def test_every_input_has_a_label_that_names_it(
        self, walker: WizardWalker, holder_and_pin: tuple[Holder, str]
    ) -> None:
        import re

        holder, pin = holder_and_pin
        pages = [
            walker.start(),
            walker.user_data(holder.user_number, pin),
            walker.email(),
            walker.certificate_name(),
            walker.password(),
        ]
        for page in pages:
            html = page.content.decode()
            for input_id in re.findall(r'<input (?![^>]*type="hidden")[^>]*id="([^"]+)"', html):
                assert f'<label for="{input_id}">' in html, input_id


def test_without_a_published_policy_the_last_step_explains_and_keeps_the_answers(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    from enrollment.models import PolicyDocument

    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    walker.email()
    walker.certificate_name()
    walker.password()
    PolicyDocument.objects.all().delete()
    response = walker.consent()
    assert response.status_code == 200 and current_step(response) == "voorwaarden"
    assert "Het certificaatbeleid is nu niet beschikbaar" in response.content.decode()
    assert Enrollment.objects.count() == 0
    assert ActivationCode.objects.get(holder=holder).used_at is None


def test_a_space_in_the_certificate_name_is_named_and_8_characters_are_not_cut_silently(
    walker: WizardWalker, holder_and_pin: tuple[Holder, str]
) -> None:
    holder, pin = holder_and_pin
    walker.user_data(holder.user_number, pin)
    page = walker.email().content.decode()
    assert 'maxlength="7"' not in page
    assert "niet toegestaan: spatie" in walker.certificate_name("PC 1").content.decode()
    assert "maximaal 7 karakters" in walker.certificate_name("2DEC24-1").content.decode()
