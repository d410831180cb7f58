"""Sessions: one statement per write, and Django's answers when a write cannot be done."""

import pytest
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from core.sessions import SessionStore

# Outside a test's transaction, as requests are: the one-statement path.
pytestmark = pytest.mark.django_db(transaction=True)


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [query["sql"].split()[0].upper() for query in context.captured_queries]


def _saved_session(**data: str) -> SessionStore:
    session = SessionStore()
    session.update(data)
    session.save()
    return session


def _new_session_with_the_key_of(session: SessionStore) -> SessionStore:
    other = SessionStore()
    other._session_key = session.session_key
    return other


def test_a_new_session_is_one_insert() -> None:
    session = SessionStore()
    session["step"] = "e-mailadres"
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert _statements(queries) == ["INSERT"]
    assert SessionStore(session.session_key)["step"] == "e-mailadres"


def test_a_changed_session_is_one_update() -> None:
    session = _saved_session(step="e-mailadres")
    session["step"] = "certificaatnaam"
    with CaptureQueriesContext(connection) as queries:
        session.save()
    assert _statements(queries) == ["UPDATE"]
    assert SessionStore(session.session_key)["step"] == "certificaatnaam"


def test_saving_a_session_deleted_meanwhile_is_an_update_error() -> None:
    session = _saved_session(step="wachtwoord")
    Session.objects.filter(session_key=session.session_key).delete()
    session["step"] = "voorwaarden"
    with pytest.raises(UpdateError):
        session.save()


def test_a_key_that_exists_is_refused_on_create() -> None:
    second = _new_session_with_the_key_of(_saved_session())
    with pytest.raises(CreateError):
        second.save(must_create=True)


def test_inside_a_transaction_a_failed_write_leaves_the_transaction_usable() -> None:
    first = _saved_session()
    with transaction.atomic():
        second = _new_session_with_the_key_of(first)
        with pytest.raises(CreateError):
            second.save(must_create=True)
        assert Session.objects.filter(session_key=first.session_key).exists()
