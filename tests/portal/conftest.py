from tests.ca.conftest import ca_keys, eager_tasks, hierarchy, make_enrollment  # noqa: F401
from tests.ca.test_workers import broker, workers  # noqa: F401
from tests.portal.certificates import issue  # noqa: F401
