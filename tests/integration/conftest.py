from tests.browser.conftest import (  # noqa: F401
    browser,
    context,
    page,
)
from tests.ca.conftest import ca_keys, eager_tasks, hierarchy, make_enrollment  # noqa: F401
from tests.ca.test_workers import broker, workers  # noqa: F401
from tests.integration.certificates import issue  # noqa: F401
from tests.integration.stack import nginx, nginx_server, server_tls  # noqa: F401
