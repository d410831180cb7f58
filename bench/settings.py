"""The portal's own settings, plus a bare view to compare the wizard's steps against and
a Server-Timing header on every answer (bench.timing)."""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.urls"
# Outermost, so that the time covers every middleware as well as the view.
MIDDLEWARE = ["bench.timing.ServerTimingMiddleware", *MIDDLEWARE]
