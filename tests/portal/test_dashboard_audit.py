"""A contact person's block and unblock are recorded by the change itself, or not at all."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from audit.models import AuditEntry, AuditEvent
from enrollment.models import Holder, HolderStatus
from tests.enrollment.factories import issue_holder
from tests.fixtures.login import Browser, first_login

# The login tests' fixtures (tests/portal/conftest.py): a holder with a certificate, a stopped
# clock, nginx in front.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("behind_nginx")]


class AuditWriteFailed(Exception):
    pass


def _raise(*args: Any, **kwargs: Any) -> NoReturn:
    raise AuditWriteFailed


@pytest.fixture
def contact_person(issued: Any, clock: Any) -> tuple[Browser, Holder, Holder]:
    """A logged-in contact person and a colleague of the same organisation."""
    contact, certificate = issued()
    Holder.objects.filter(pk=contact.pk).update(is_contact_person=True)
    colleague, _pin = issue_holder(name="B. Bakker", organisation=contact.organisation)
    browser = Browser(certificate)
    first_login(browser, contact, clock)
    return browser, contact, colleague


def _entries(event: str, holder: Holder) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(event=event, object_id=str(holder.pk)))


def test_a_colleague_s_block_and_unblock_are_recorded_once_with_the_contact_person(
    contact_person: tuple[Browser, Holder, Holder],
) -> None:
    browser, contact, colleague = contact_person
    browser.post(f"/mijn/organisatie/{colleague.user_number}/block/", {})
    browser.post(f"/mijn/organisatie/{colleague.user_number}/block/", {})  # blocked already
    browser.post(f"/mijn/organisatie/{colleague.user_number}/unblock/", {})
    [blocked] = _entries(AuditEvent.HOLDER_BLOCKED, colleague)
    [unblocked] = _entries(AuditEvent.HOLDER_UNBLOCKED, colleague)
    assert blocked.actor == unblocked.actor == f"holder:{contact.user_number}"
    assert blocked.client_address == "127.0.0.1"
    assert blocked.details["reason"] == "contact_person"


def test_unblocking_a_colleague_who_is_not_blocked_records_nothing(
    contact_person: tuple[Browser, Holder, Holder],
) -> None:
    browser, _contact, colleague = contact_person
    response = browser.post(f"/mijn/organisatie/{colleague.user_number}/unblock/", {})
    assert response.status_code == 302
    assert not _entries(AuditEvent.HOLDER_UNBLOCKED, colleague)


def test_a_colleague_s_block_whose_audit_entry_fails_is_rolled_back(
    contact_person: tuple[Browser, Holder, Holder], monkeypatch: pytest.MonkeyPatch
) -> None:
    browser, _contact, colleague = contact_person
    monkeypatch.setattr(AuditEntry.objects, "record", _raise)
    with pytest.raises(AuditWriteFailed):
        browser.post(f"/mijn/organisatie/{colleague.user_number}/block/", {})
    colleague.refresh_from_db()
    assert colleague.status == HolderStatus.ACTIVE
