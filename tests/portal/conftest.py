"""The site tests' own fixtures: ``issue`` (a certificate for a given holder) and, for the
login and dashboard tests, tests/fixtures/login.py's ``behind_nginx``, ``clock`` and ``issued``."""

from tests.fixtures.login import behind_nginx, clock, issued  # noqa: F401
from tests.portal.certificates import issue  # noqa: F401
