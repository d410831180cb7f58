"""The CA fixtures (key directory, hierarchy, eager tasks) for the step-7 tests."""

from tests.ca.conftest import ca_keys, eager_tasks, hierarchy, make_enrollment  # noqa: F401
