"""Sessions: one statement per write, and Django's answers when a write cannot be done."""

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.sessions import SessionStore

# Outside a test's transaction, as requests are: the one-statement path.
pytestmark = pytest.mark.django_db(transaction=True)


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0].upper() for query in context.captured_queries]


def test_a_new_session_is_one_insert() -> None:
    session = SessionStore()
    session["step"] = "e-mailadres"
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert _statements(queries) == ["INSERT"]
    assert SessionStore(session.session_key)["step"] == "e-mailadres"


def test_a_changed_session_is_one_update() -> None:
    session = SessionStore()
    session["step"] = "e-mailadres"
    session.save()
    session["step"] = "certificaatnaam"
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert _statements(queries) == ["UPDATE"]
    assert SessionStore(session.session_key)["step"] == "certificaatnaam"


def test_saving_a_session_deleted_meanwhile_is_an_update_error() -> None:
    session = SessionStore()
    session["step"] = "wachtwoord"
    session.save()
    Session.objects.filter(session_key=session.session_key).delete()
    session["step"] = "voorwaarden"
    with pytest.raises(UpdateError):
        session.save()


def test_a_key_that_exists_is_refused_on_create() -> None:
    first = SessionStore()
    first.save()
    second = SessionStore()
    second._session_key = first.session_key
    with pytest.raises(CreateError):
        second.save(must_create=True)


def test_inside_a_transaction_a_failed_write_leaves_the_transaction_usable() -> None:
    first = SessionStore()
    first.save()
    with transaction.atomic():
        second = SessionStore()
        second._session_key = first.session_key
        with pytest.raises(CreateError):
            second.save(must_create=True)
        assert Session.objects.filter(session_key=first.session_key).exists()
