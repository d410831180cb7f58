"""The site tests' own ``issue`` (a holder with a certificate signed by the portal)."""

from tests.portal.certificates import issue  # noqa: F401
