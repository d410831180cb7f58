"""The stack tests' own ``issue`` (a holder with a certificate and its key on disk)."""

from tests.integration.certificates import issue  # noqa: F401
