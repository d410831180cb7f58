"""Issuance: the single-process reference, the full pipeline, and a mass re-issuance."""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import asdict
from typing import Any

from bench.stack import Client, Stack, percentile, run_concurrently


def reference(csrs: list[bytes]) -> dict[str, float]:
    """One process, no I/O: check the CSR, build, lint a throwaway-signed copy, sign."""
    from django.utils import timezone

    from ca import profiles
    from ca.csr_policy import check_csr
    from ca.models import CertificateAuthority
    from ca.order_request import Subject
    from ca.signing import sign_certificate

    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    key, issuer = issuing.signing_key(), issuing.certificate
    holder = Subject(
        certificate_name="REF",
        display_name="Ref",
        user_number="12345678901237",
        organisation="Bench",
    )

    def one(csr: bytes) -> None:
        builder = profiles.end_entity(
            "personal", holder, check_csr(csr).public_key, issuing, timezone.now()
        )
        sign_certificate(builder, key, issuer)

    one(csrs[0])  # the lint validator and the key are loaded once, as in a worker
    started = time.perf_counter()
    for csr in csrs:
        one(csr)
    elapsed = time.perf_counter() - started
    return {"certificates": len(csrs), "seconds": elapsed, "per_second": len(csrs) / elapsed}


def mean_reference(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The reference measured before and after the pipeline, as one rate (total work / time)."""
    certificates = before["certificates"] + after["certificates"]
    seconds = before["seconds"] + after["seconds"]
    return {
        "certificates": certificates,
        "seconds": seconds,
        "per_second": certificates / seconds,
        "before_per_second": before["per_second"],
        "after_per_second": after["per_second"],
    }


class _Installer:
    """What an installer says over HTTP, on one keep-alive connection (as lean as the curl
    the real installers use)."""

    def __init__(self, port: int) -> None:
        self.client = Client(port)

    def issue(self, csr: bytes, code: str) -> float | str:
        """Submit, then long-poll the status; seconds from accepted to issued, or an error."""
        headers = {"Authorization": f"Bearer {code}"}
        submitted = self.client.request(
            "POST", "/api/v1/csr", {**headers, "Content-Type": "application/pkcs10"}, csr
        )
        if submitted.status != 202:
            return f"submit {submitted.status}"
        accepted = time.perf_counter()
        while time.perf_counter() - accepted < 120:
            asked = time.perf_counter()
            reply = self.client.request("GET", "/api/v1/status?wait=10", headers)
            if reply.status != 200:
                return f"status {reply.status}"
            progress = json.loads(reply.body)["status"]
            if progress == "issued":
                return time.perf_counter() - accepted
            if progress == "failed":
                return "failed"
            if time.perf_counter() - asked < 0.005:
                # Answered at once without a change: no waiting slot was free on that web
                # process. Back off as the installers do, instead of asking again and again.
                time.sleep(0.2)
        return "not issued"


class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def add(self, outcome: float | str) -> None:
        with self.lock:
            if isinstance(outcome, str):
                self.errors.append(outcome)
            else:
                self.latencies.append(outcome)

    def result(self, seconds: float, **extra: float) -> dict[str, float]:
        return {
            **extra,
            "certificates": len(self.latencies),
            "errors": len(self.errors),
            "seconds": seconds,
            "per_second": len(self.latencies) / seconds,
            "latency_p50_ms": percentile(self.latencies, 0.50) * 1000,
            "latency_p99_ms": percentile(self.latencies, 0.99) * 1000,
        }


def offered_load(
    stack: Stack, csrs: list[bytes], codes: list[str], rate: float
) -> dict[str, float]:
    """Installers arriving one by one at ``rate`` per second, each on its own connection."""
    tally = _Tally()
    threads = []
    started = time.perf_counter()
    for index, (csr, code) in enumerate(zip(csrs, codes, strict=True)):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(
            target=lambda c=csr, k=code: tally.add(_Installer(stack.port).issue(c, k))
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=180)
    return tally.result(time.perf_counter() - started, offered_per_second=rate)


def throughput(stack: Stack, csrs: list[bytes], codes: list[str], clients: int) -> dict[str, float]:
    """As many certificates as ``clients`` concurrent installers get through the pipeline."""
    tally = _Tally()
    work: queue.SimpleQueue[tuple[bytes, str]] = queue.SimpleQueue()
    for pair in zip(csrs, codes, strict=True):
        work.put(pair)

    def client(_index: int) -> None:
        installer = _Installer(stack.port)
        while True:
            try:
                csr, code = work.get_nowait()
            except queue.Empty:
                return
            tally.add(installer.issue(csr, code))

    return tally.result(run_concurrently(client, clients), clients=clients)


def mass_reissue(count: int, csrs: list[bytes], timeout: float) -> dict[str, Any]:
    """``count`` orders queued at once (as after a CA compromise); drained by the workers."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from django.db.models import Count

    from bench.stack import make_enrollments
    from ca.models import Certificate, Order, OrderStatus
    from ca.tasks import sign_order
    from enrollment.models import Enrollment

    ders = [x509.load_pem_x509_csr(csr).public_bytes(serialization.Encoding.DER) for csr in csrs]
    enrollment_ids = make_enrollments(count, "reissue")
    enrollments = [
        enrollment
        for start in range(0, len(enrollment_ids), 5000)
        for enrollment in Enrollment.objects.filter(
            pk__in=enrollment_ids[start : start + 5000]
        ).select_related("holder__organisation")
    ]
    # Straight into the CA's table, as the RA's order_certificate would have placed them.
    orders = Order.objects.bulk_create(
        [
            Order(
                reference=enrollment.public_id,
                holder_reference=enrollment.holder.ca_reference,
                profile=enrollment.kind,
                subject=asdict(enrollment.ca_subject()),
                csr_der=ders[i % len(ders)],
            )
            for i, enrollment in enumerate(enrollments)
        ],
        batch_size=5000,
    )
    order_ids = [order.pk for order in orders]
    mine = Order.objects.filter(pk__gte=min(order_ids), pk__lte=max(order_ids))
    started = time.perf_counter()
    with sign_order.app.producer_or_acquire() as producer:
        for order_id in order_ids:
            sign_order.apply_async(args=(order_id,), producer=producer)
    queued_seconds = time.perf_counter() - started
    while time.perf_counter() - started < timeout:
        if not mine.filter(status__in=[OrderStatus.PENDING, OrderStatus.PROCESSING]).exists():
            break
        time.sleep(1)
    drained_seconds = time.perf_counter() - started
    issued = Certificate.objects.filter(order__in=mine)
    return {
        "orders": count,
        "queue_seconds": queued_seconds,
        "drain_seconds": drained_seconds,
        "per_second": count / drained_seconds,
        "issued": issued.count(),
        "failed": mine.filter(status=OrderStatus.FAILED).count(),
        "unfinished": mine.filter(status__in=[OrderStatus.PENDING, OrderStatus.PROCESSING]).count(),
        "duplicates": issued.values("reference").annotate(n=Count("pk")).filter(n__gt=1).count(),
    }
