"""The portal's own settings, plus a bare view to compare the wizard's steps against."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
