"""Real Celery worker processes against PostgreSQL and Redis: nothing lost, nothing doubled.

The broker and the workers are tests/fixtures/workers.py's: a ``redis-server`` of each
test's own, and ``celery -A config worker`` subprocesses on the test database.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ca.authority import init_hierarchy
from ca.csr_policy import check_csr
from ca.models import Certificate, Order, OrderStatus
from ca.tasks import sweep_orders
from config.celery import app as celery_app
from enrollment.models import Enrollment, EnrollmentStatus, InstallProgress
from tests.fixtures.ca import FAST, certificate_of, fixture_bytes, order_for
from tests.fixtures.workers import RedisServer, Workers, point_celery_at

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FINISHED = [OrderStatus.ISSUED, OrderStatus.FAILED]


@pytest.fixture
def orders(db: None, make_enrollment: Callable[..., Enrollment]) -> Callable[[int], list[int]]:
    init_hierarchy(FAST)
    csr = check_csr(fixture_bytes("p256.pem"))

    def make(count: int) -> list[int]:
        return [order_for(make_enrollment(), csr).pk for _ in range(count)]

    return make


def _wait_until(condition: Callable[[], bool], timeout: float, workers: Workers, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")


def _all_finished(order_ids: list[int]) -> Callable[[], bool]:
    return lambda: (
        Order.objects.filter(pk__in=order_ids, status__in=FINISHED).count() == len(order_ids)
    )


def _assert_exactly_one_certificate_each(order_ids: list[int]) -> None:
    statuses = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "status"))
    assert set(statuses.values()) == {OrderStatus.ISSUED}, list(
        Order.objects.filter(pk__in=order_ids).values_list("pk", "status", "error_code")
    )
    assert Certificate.objects.filter(order_id__in=order_ids).count() == len(order_ids)
    references = Order.objects.filter(pk__in=order_ids).values_list("reference", flat=True)
    assert Certificate.objects.filter(reference__in=references).count() == len(order_ids)
    # The RA has each certificate: from the worker's report or, where a killed worker lost
    # it, from the repair when the installation is read.
    enrollments = list(Enrollment.objects.filter(public_id__in=references))
    assert len(enrollments) == len(order_ids)
    for enrollment in enrollments:
        assert enrollment.installation().progress == InstallProgress.ISSUED
        assert certificate_of(enrollment).reference == enrollment.public_id
        assert enrollment.status == EnrollmentStatus.ISSUED


def _pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in children.read_text().split()] if children.exists() else []


def test_a_worker_killed_mid_task_loses_nothing_and_issues_once(
    workers: Workers, orders: Callable[[int], list[int]], tmp_path: Path
) -> None:
    pause = tmp_path / "pause"
    pause.touch()
    worker = workers.start_paused("victim", pause)
    (order_id,) = orders(1)
    _wait_until(
        lambda: Order.objects.filter(pk=order_id, status=OrderStatus.PROCESSING).exists(),
        60,
        workers,
        "the claim",
    )
    # SIGKILL the pool process that holds the task: its parent sees the worker lost and,
    # with reject_on_worker_lost, puts the message back on the queue.
    children = _pool_children(worker.pid)
    assert children, workers.logs()
    for child in children:
        os.kill(child, signal.SIGKILL)
    pause.unlink()
    _wait_until(
        _all_finished([order_id]), 90, workers, "the order after SIGKILL of the pool process"
    )
    _assert_exactly_one_certificate_each([order_id])
    workers.kill(worker)

    # Now kill the whole worker (parent included) mid-task: the message stays unacknowledged
    # in Redis; a new worker plus the sweep (beat) finish the order after the lease.
    pause.touch()
    worker = workers.start_paused("victim2", pause)
    (second,) = orders(1)
    _wait_until(
        lambda: Order.objects.filter(pk=second, status=OrderStatus.PROCESSING).exists(),
        60,
        workers,
        "the claim",
    )
    workers.kill(worker)
    pause.unlink()
    workers.start("rescuer")
    time.sleep(2.5)  # CA_ORDER_LEASE_SECONDS=2 in the workers' environment
    with pytest.MonkeyPatch.context() as patch:
        from django.conf import settings

        patch.setattr(settings, "CA_ORDER_LEASE_SECONDS", 2)
        assert sweep_orders(requeue_after=0)["requeued"] >= 1
    _wait_until(_all_finished([second]), 90, workers, "the order after SIGKILL of the whole worker")
    _assert_exactly_one_certificate_each([order_id, second])


def test_each_worker_process_loads_pkilint_and_the_key_before_its_first_order(
    workers: Workers, orders: Callable[[int], list[int]]
) -> None:
    workers.start("warm", concurrency=2)
    _wait_until(
        lambda: workers.logs().count("is ready to sign for") == 2,
        60,
        workers,
        "both pool processes to prepare signing",
    )
    assert "could not prepare signing" not in workers.logs()
    order_ids = orders(3)
    _wait_until(_all_finished(order_ids), 60, workers, "3 orders after the warm-up")
    _assert_exactly_one_certificate_each(order_ids)


def test_two_workers_on_one_queue_issue_each_order_exactly_once(
    workers: Workers, orders: Callable[[int], list[int]]
) -> None:
    workers.start("one", concurrency=2)
    workers.start("two", concurrency=2)
    order_ids = orders(20)
    # Every order is also queued a second time, as a broker redelivery would.
    for order_id in order_ids:
        celery_app.tasks["ca.sign_order"].apply_async(args=(order_id,))
    _wait_until(_all_finished(order_ids), 120, workers, "20 orders on two workers")
    _assert_exactly_one_certificate_each(order_ids)
    assert Certificate.objects.count() == 20


def test_orders_committed_while_redis_is_down_are_issued_once_it_is_back(
    workers: Workers, broker: RedisServer, orders: Callable[[int], list[int]]
) -> None:
    broker.stop()
    started = time.monotonic()
    order_ids = orders(3)  # the on-commit publish fails; the commit stands
    assert time.monotonic() - started < 5  # publishing fails fast, not after retries
    assert set(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True)) == {
        OrderStatus.PENDING
    }
    broker.start()
    point_celery_at(broker.url)
    workers.start("after-outage")
    result = sweep_orders(requeue_after=0)
    assert result["requeued"] == 3
    _wait_until(_all_finished(order_ids), 90, workers, "orders after the outage")
    _assert_exactly_one_certificate_each(order_ids)
    assert not Order.objects.filter(
        status__in=[OrderStatus.PENDING, OrderStatus.PROCESSING]
    ).exists()


def test_prefork_workers_sign_with_the_hsm_key_each_in_its_own_session(
    hsm: None, workers: Workers, orders: Callable[[int], list[int]], settings: Any
) -> None:
    issuing_backend = "pkcs11"
    order_ids = orders(6)  # the hierarchy in `orders` is created on the token
    from ca.models import CertificateAuthority

    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None and issuing.key_backend == issuing_backend
    workers.start(
        "hsm",
        concurrency=2,
        CA_KEY_BACKEND="pkcs11",
        CA_PKCS11_MODULE=settings.CA_PKCS11_MODULE,
        CA_PKCS11_TOKEN_LABEL=settings.CA_PKCS11_TOKEN_LABEL,
        CA_PKCS11_PIN=settings.CA_PKCS11_PIN,
        SOFTHSM2_CONF=os.environ["SOFTHSM2_CONF"],
    )
    _wait_until(_all_finished(order_ids), 90, workers, "orders signed with the HSM key")
    _assert_exactly_one_certificate_each(order_ids)
    for certificate in Certificate.objects.filter(order_id__in=order_ids):
        certificate.certificate.verify_directly_issued_by(issuing.certificate)


def test_a_running_worker_survives_a_redis_restart(
    workers: Workers, broker: RedisServer, orders: Callable[[int], list[int]]
) -> None:
    # Needs broker_connection_max_retries=None in config/celery.py (0 means "give up at once").
    workers.start("through-outage")
    (first,) = orders(1)
    _wait_until(_all_finished([first]), 60, workers, "the first order")
    broker.stop()
    time.sleep(2)
    broker.start()
    point_celery_at(broker.url)
    (second,) = orders(1)  # published to the restarted Redis
    # The consumer reconnects with Celery's back-off (2 s, 4 s, ...), well within the bound.
    _wait_until(_all_finished([second]), 60, workers, "the order after the Redis restart")
    _assert_exactly_one_certificate_each([first, second])
