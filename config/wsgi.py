import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# Register the tasks before the first request, not inside it (see core.queue).
from core.queue import app_with_tasks  # noqa: E402

app_with_tasks()

from core.heap import freeze_startup_objects  # noqa: E402

freeze_startup_objects()
