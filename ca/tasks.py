"""Celery tasks of the CA. Arguments are primary keys; every task is idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task, signals
from celery.app.task import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca.crl import crls_due, publish_crl
from ca.health import record_key_heartbeat
from ca.issuance import issue_order, prepare_signing, report_failures
from ca.models import CertificateAuthority, Order, OrderStatus
from ca.ocsp import refresh_responses
from core.heap import freeze_startup_objects

logger = logging.getLogger(__name__)


def _prepare_signing(**kwargs: object) -> None:
    """Each worker process loads pkilint and the key before its first order, not during it."""
    try:
        prepare_signing()
    except Exception:  # no CA yet, or the key is away: the first order will say so
        logger.warning("could not prepare signing at worker start", exc_info=True)
    freeze_startup_objects()


@signals.worker_init.connect
def _prepare_each_worker_process(**kwargs: object) -> None:
    # Connected only now, so that it runs after the handler Celery's Django fixup connects
    # at worker_init, which first drops the database connection a process inherited from
    # its parent: a forked process must not talk on its parent's socket.
    signals.worker_process_init.connect(_prepare_signing, weak=False)
    # The pool's processes are forked from this one and inherit what is frozen here.
    freeze_startup_objects()


@shared_task(
    name="ca.sign_order", bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None
)
def sign_order(self: Task, order_id: int) -> str:
    """Sign order ``order_id``; a redelivered or duplicate message is harmless."""
    delivery = self.request.delivery_info or {}
    outcome = issue_order(int(order_id), redelivered=bool(delivery.get("redelivered")))
    if outcome.retry_after_lease and not self.request.is_eager:
        # The key was unusable, or a worker that died may hold the claim: look again when
        # the lease has run out; the claim then succeeds unless the other worker finished.
        # (Not when run eagerly, under make run or in tests: Celery would retry at once and
        # for ever; the sweep finds the order there.)
        raise self.retry(countdown=settings.CA_ORDER_LEASE_SECONDS + 1)
    return outcome.status


@shared_task(name="ca.publish_revocations", acks_late=True, reject_on_worker_lost=True)
def publish_revocations(ca_id: int) -> int:
    """New OCSP answers for changed certificates and a new CRL, after a revocation."""
    ca = CertificateAuthority.objects.get(pk=ca_id)
    signed = refresh_responses(ca)
    publish_crl(ca.pk)
    return signed


@shared_task(name="ca.sweep_orders", acks_late=True)
def sweep_orders(requeue_after: int | None = None) -> dict[str, int]:
    """Re-queue orders that never reached a worker; give up on orders stuck in processing.

    A pending order older than CA_ORDER_REQUEUE_AFTER_SECONDS was committed while the broker
    was unreachable (or its message was lost); a processing order whose lease expired belonged
    to a worker that died. Both are queued again, oldest first, at most
    CA_SWEEP_REQUEUE_LIMIT a sweep: in a mass re-issuance every order is pending for minutes
    with its message still in the broker, and each re-queued task signs a batch of pending
    orders anyway. An order processing for longer than CA_ORDER_STUCK_SECONDS since its last
    claim, or after CA_ORDER_MAX_ATTEMPTS claims, fails with ``stuck``.
    """
    now = timezone.now()
    if requeue_after is None:
        requeue_after = settings.CA_ORDER_REQUEUE_AFTER_SECONDS
    stuck_before = now - timedelta(seconds=settings.CA_ORDER_STUCK_SECONDS)
    lease_ran_out = now - timedelta(seconds=settings.CA_ORDER_LEASE_SECONDS)
    stuck = Order.objects.filter(status=OrderStatus.PROCESSING, claimed_at__lte=stuck_before)
    exhausted = (
        Order.objects.get_queryset()
        .lease_expired(lease_ran_out)
        .filter(attempts__gte=settings.CA_ORDER_MAX_ATTEMPTS)
    )
    failed = 0
    for order_id in list(stuck.values_list("pk", flat=True)) + list(
        exhausted.values_list("pk", flat=True)
    ):
        failed += _fail_stuck(order_id)
    limit = settings.CA_SWEEP_REQUEUE_LIMIT
    requeue = list(
        Order.objects.get_queryset()
        .lease_expired(lease_ran_out)
        .with_attempts_left()
        .order_by("claimed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    requeue += (
        Order.objects.get_queryset()
        .pending_since(now - timedelta(seconds=requeue_after))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[: limit - len(requeue)]
    )
    for order_id in requeue:
        sign_order.apply_async(args=(order_id,))
    if requeue or failed:
        logger.info("sweep: re-queued %d orders, failed %d stuck ones", len(requeue), failed)
    return {"requeued": len(requeue), "failed": failed}


def _fail_stuck(order_id: int) -> int:
    with transaction.atomic():
        if not Order.objects.fail(order_id, "stuck"):
            return 0
        AuditEntry.objects.record(
            AuditEvent.ORDER_FAILED,
            Order(pk=order_id),
            actor="system:sweep",
            details={"error_code": "stuck"},
        )
    report_failures([order_id])
    return 1


@shared_task(name="ca.refresh_publications", acks_late=True)
def refresh_publications() -> dict[str, int]:
    """Keep revocation data fresh: CRLs well before nextUpdate, OCSP answers and responders."""
    crls = 0
    for ca_id in crls_due():
        publish_crl(ca_id)
        crls += 1
    answers = 0
    for ca in CertificateAuthority.objects.serving().issuing():
        answers += refresh_responses(ca)
    return {"crls": crls, "ocsp": answers}


@shared_task(name="ca.key_heartbeat")
def key_heartbeat() -> None:
    """Lets /readyz see that a worker can use the issuing key (beat, every minute)."""
    record_key_heartbeat()
