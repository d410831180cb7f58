"""The suite's root: registers the shared fixtures plugin, tests/fixtures/, once for all tests.

Test packages have no conftest of another package to import: what they share is there,
one module per concern (tests/fixtures/__init__.py lists them).
"""

import os

os.environ.setdefault("PORTAL_MODE", "test")
os.environ.setdefault("CAPTCHA_TEST_MODE", "1")

pytest_plugins = [
    "tests.fixtures.suites",
    "tests.fixtures.services",
    "tests.fixtures.ca",
    "tests.fixtures.workers",
    "tests.fixtures.stack",
    "tests.fixtures.browser",
]
