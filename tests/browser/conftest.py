"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright, against live_server.

One browser per test session; every test gets a fresh context (cookies, session, language),
so tests cannot see each other's wizard state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
)
from pytest_django.live_server_helper import LiveServer

from enrollment.models import Holder, HolderKind, PolicyDocument
from tests.conftest import require_binary
from tests.enrollment.factories import PolicyFactory, issue_holder

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAUNCH_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 15_000
# Assertions wait as long as actions: the machine running the suite may be busy.
expect.set_options(timeout=ACTION_TIMEOUT_MS)
# Wide enough for the README screenshot; the layout is the desktop one.
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory, playwright: Playwright) -> Iterator[Browser]:
    executable = require_binary("chromium")
    home = tmp_path_factory.mktemp("chromium-home")
    # launch() gives every run a new, empty profile (user-data-dir) of its own; HOME is
    # fresh too, so nothing from this machine's Chromium profile or NSS store leaks in.
    browser = playwright.chromium.launch(
        executable_path=executable,
        args=CHROMIUM_FLAGS,
        env={**os.environ, "HOME": str(home)},
        timeout=LAUNCH_TIMEOUT_MS,
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # A Dutch visitor: the portal's default language, and what the Accept-Language says.
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


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
