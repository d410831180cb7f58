"""Shared fixtures. Integration services: fail under CI=true when missing, skip elsewhere."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Playwright, sync_playwright

os.environ.setdefault("PORTAL_MODE", "test")
os.environ.setdefault("CAPTCHA_TEST_MODE", "1")

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(name: str, available: Callable[[], bool]) -> None:
    """Skip a test whose real service is missing, except in CI, where that is a failure."""
    if available():
        return
    if IN_CI:
        pytest.fail(f"{name} is required for this integration test under CI=true", pytrace=False)
    pytest.skip(f"{name} is not available here")


def tcp_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    require("Redis (REDIS_URL)", lambda: bool(url) and tcp_open(url, 6379))
    return url


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    require("PostgreSQL (DATABASE_URL)", lambda: url.startswith("postgres") and tcp_open(url, 5432))
    return url


def require_binary(name: str) -> str:
    path = shutil.which(name)
    require(f"the program {name}", lambda: path is not None)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright for the session: its sync API allows only one running at a time."""
    with pytest.MonkeyPatch.context() as env, sync_playwright() as running:
        # Playwright's sync API keeps an asyncio loop running in this thread, which makes
        # Django refuse ORM calls from the test ("async context"). The tests are synchronous
        # code that only looks async, so allow it while Playwright runs.
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield running
