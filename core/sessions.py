"""Sessions in the database, written in one statement.

The wizard writes its session on every step. Django's database store wraps each write in a
transaction of its own (BEGIN, UPDATE, COMMIT) and asks whether a new key exists before it
inserts it: three round trips for every step and four for a new session, where one INSERT
or UPDATE is atomic on its own. The primary key still refuses a duplicate key (32 random
characters from 36: a collision is not expected, and is retried as Django does).
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, router, transaction
from django.utils.crypto import get_random_string


class SessionStore(db.SessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        using = router.db_for_write(self.model)
        if transaction.get_connection(using).in_atomic_block:
            # Inside a caller's transaction Django's savepoint keeps that transaction usable
            # if the statement fails.
            return super().save(must_create=must_create)
        # Django's own member, which its type stubs leave out.
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        row = self.create_model_instance(data)
        try:
            row.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError as error:
            if must_create:
                raise CreateError from error
            raise
        except DatabaseError as error:
            if not must_create:
                raise UpdateError from error
            raise
        return None
