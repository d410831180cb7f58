from tests.ca.conftest import ca_keys, eager_tasks, hierarchy, make_enrollment  # noqa: F401
