"""Settings for pytest: the portal's own settings with the test-mode defaults switched on.

The environment is set before config.settings is read, so the same typed helpers apply;
a variable set by CI (DATABASE_URL, REDIS_URL) still wins.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("PORTAL_MODE", "test")
os.environ.setdefault("CAPTCHA_TEST_MODE", "1")


def _redis_database_of_its_own(url: str, worker: str) -> str:
    """REDIS_URL's database plus the xdist worker's number (gw0 +0, gw1 +1, ...).

    Metrics counters, rate limits, the cache and progress channels are keys of one Redis
    database; tests in parallel processes would count and clear each other's.
    """
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if database > 15:  # Redis has 16 databases unless configured otherwise
        raise RuntimeError(f"REDIS_URL's database + xdist worker {worker} is beyond 15: {url}")
    return urlunsplit(parts._replace(path=f"/{database}"))


if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    os.environ["REDIS_URL"] = _redis_database_of_its_own(
        os.environ["REDIS_URL"], os.environ["PYTEST_XDIST_WORKER"]
    )

from config.settings import *  # noqa: E402, F403

# A memory-hard hash per PIN and password would dominate the unit tests; the processes that
# the integration tests and `make bench` start use the real hashers (config.settings).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Every test makes its own CA hierarchy: workers in this process look it up for each order.
CA_SIGNER_CACHE_SECONDS = 0.0
