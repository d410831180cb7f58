"""A paused or stopped Redis (cache, rate limits, broker) never gives a person a 500 page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.test import Client

from config.celery import app as celery_app
from enrollment.models import Enrollment
from tests.enrollment.factories import issue_holder, make_policy
from tests.enrollment.wizard_client import WizardWalker
from tests.fixtures.services import require_binary
from tests.fixtures.workers import RedisServer, point_celery_at
from tests.stack_ports import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    require_binary("redis-server")
    server = RedisServer(free_port())
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    previous_broker = celery_app.conf.broker_url
    point_celery_at(server.url)
    yield server
    point_celery_at(previous_broker)
    server.stop()
    caches["default"].close()


def test_a_paused_redis_during_the_user_data_step_gives_a_clear_page_not_a_500(
    own_redis: RedisServer, client: Client
) -> None:
    make_policy()
    holder, pin = issue_holder()
    walker = WizardWalker(client)
    walker.start()
    redis.Redis.from_url(own_redis.url).execute_command("CLIENT", "PAUSE", "3000", "ALL")
    started = time.monotonic()
    response = walker.user_data(holder.user_number, pin)
    assert response.status_code == 503
    assert "Probeer het over enkele minuten opnieuw" in response.content.decode()
    assert response["Retry-After"] == "30"
    assert time.monotonic() - started < 10
    time.sleep(3)
    # Nothing was lost: once Redis answers again the same step goes through.
    response = walker.user_data(holder.user_number, pin)
    assert (
        response.status_code == 200 and response.context["wizard"]["steps"].current == "e-mailadres"
    )


def test_an_enrollment_completes_while_redis_is_down(
    own_redis: RedisServer, client: Client
) -> None:
    make_policy()
    holder, pin = issue_holder()
    walker = WizardWalker(client)
    walker.start()
    walker.user_data(holder.user_number, pin)
    own_redis.stop()
    walker.email()
    walker.certificate_name()
    walker.password()
    # The confirmation mail cannot be queued while the broker is down; the enrollment is kept.
    response = walker.consent()
    assert response.status_code == 302
    assert Enrollment.objects.filter(holder=holder).count() == 1
