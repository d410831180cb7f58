"""Settings for pytest: the portal's own settings with the test-mode defaults switched on.

The environment is set before portal.settings is read, so the same typed helpers apply;
a variable set by CI (DATABASE_URL, REDIS_URL) still wins.
"""

import os

os.environ.setdefault("PORTAL_MODE", "test")
os.environ.setdefault("CAPTCHA_TEST_MODE", "1")

from portal.settings import *  # noqa: F403

# A memory-hard hash per PIN and password would dominate the unit tests; the processes that
# the integration tests and `make bench` start use the real hashers (portal.settings).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every test makes its own CA hierarchy: workers in this process look it up for each order.
CA_SIGNER_CACHE_SECONDS = 0.0
