from tests.ca.conftest import eager_tasks  # noqa: F401
