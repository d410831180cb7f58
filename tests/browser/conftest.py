"""The browser tests' own fixtures, against live_server (the browser is tests/fixtures/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from pytest_django.live_server_helper import LiveServer

from enrollment.models import Holder, HolderKind, PolicyDocument
from tests.enrollment.factories import PolicyFactory, issue_holder


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # The user-data step is rate-limited per client address in the (local-memory) cache,
    # which live_server shares with the tests: every browser comes from 127.0.0.1.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def base_url(live_server: LiveServer) -> str:
    return str(live_server.url)


@pytest.fixture
def policy(transactional_db: None) -> PolicyDocument:
    """A published CP/CPS: without one the last wizard step cannot be completed."""
    return PolicyFactory()


@pytest.fixture
def personal_holder(transactional_db: None) -> tuple[Holder, str]:
    return issue_holder(HolderKind.PERSONAL, name="A. Janssen")


@pytest.fixture
def system_holder(transactional_db: None) -> tuple[Holder, str]:
    return issue_holder(HolderKind.SYSTEM, name="Praktijk Janssen")
