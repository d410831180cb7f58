"""Prometheus metrics at /metrics, for operators only (a bearer token or allowed networks).

Everything is computed from the database and the shared cache when scraped, so the numbers
are the same whichever web process answers and survive restarts; nothing is kept per process.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from ca import interface as ca
from core.client_address import client_address
from core.counters import FUNNEL_EVENTS, FUNNEL_STEPS, KINDS, funnel_key
from enrollment.models import ActivationCode, Holder

# What "expiring soon" means for the gauge (and for an alert on it).
EXPIRING_DAYS = 30
ISSUANCE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]


class PortalCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily | HistogramMetricFamily]:
        yield from self._funnel()
        yield from self._pins()
        yield from self._orders()
        yield self._issuance_time()
        yield self._crl_age()
        yield self._expiring()
        yield self._queue_depth()

    def _funnel(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "portal_wizard_step",
            "Visitors entering and completing each wizard step",
            labels=["kind", "step", "event"],
        )
        keys = [funnel_key(k, s, e) for k in KINDS for s in FUNNEL_STEPS for e in FUNNEL_EVENTS]
        values = cache.get_many(keys)
        for kind in KINDS:
            for step in FUNNEL_STEPS:
                for event in FUNNEL_EVENTS:
                    family.add_metric(
                        [kind, step, event], float(values.get(funnel_key(kind, step, event), 0))
                    )
        yield family

    def _pins(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        failures = ActivationCode.objects.aggregate(total=Sum("failed_attempts"))["total"] or 0
        yield CounterMetricFamily(
            "portal_pin_failures", "Wrong PINs entered", value=float(failures)
        )
        blocked = GaugeMetricFamily(
            "portal_holders_blocked", "Blocked holders by reason", labels=["reason"]
        )
        for row in (
            Holder.objects.filter(status="blocked").values("block_reason").annotate(n=Count("pk"))
        ):
            blocked.add_metric([row["block_reason"] or "unknown"], float(row["n"]))
        yield blocked

    def _orders(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "portal_orders", "Certificate orders by status", labels=["status"]
        )
        for status, count in ca.order_counts().items():
            family.add_metric([status], float(count))
        yield family

    def _issuance_time(self) -> HistogramMetricFamily:
        since = timezone.now() - timedelta(hours=24)
        durations = ca.issuance_durations(since)
        buckets = [
            (str(bound), float(sum(1 for d in durations if d <= bound)))
            for bound in ISSUANCE_BUCKETS
        ]
        buckets.append(("+Inf", float(len(durations))))
        return HistogramMetricFamily(
            "portal_csr_to_certificate_seconds",
            "Time from CSR accepted to certificate stored, last 24 hours",
            buckets=buckets,
            sum_value=sum(durations),
        )

    def _crl_age(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "portal_crl_age_seconds", "Age of each serving CA's newest CRL", labels=["ca"]
        )
        for slug, age in ca.crl_ages().items():
            family.add_metric([slug], age)
        return family

    def _expiring(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "portal_certificates_expiring_30d",
            "Unrevoked certificates that expire within 30 days, by kind",
            labels=["kind"],
        )
        for kind, count in ca.expiring_certificates(timedelta(days=EXPIRING_DAYS)).items():
            family.add_metric([kind], float(count))
        return family

    def _queue_depth(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "portal_queue_depth", "Tasks waiting in the broker", value=float(queue_depth())
        )


def queue_depth() -> int:
    if settings.REDIS_URL:
        try:
            client = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
            )
            return int(client.llen("celery"))
        except redis.RedisError:
            return -1
    folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
    return len(list(folder.glob("*.msg"))) if folder.is_dir() else 0


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(offered, token):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(PortalCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
