"""Revocation: a 100,000-entry CRL built and signed, and OCSP answers from the cache."""

from __future__ import annotations

import threading
import time

from bench.stack import Client, Stack, percentile, run_concurrently


def crl_and_ocsp(stack: Stack, ocsp_requests: int) -> dict[str, float]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    from django.utils import timezone

    from ca.crl import build_crl, revoked_entry
    from ca.models import Certificate, CertificateAuthority

    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    now = timezone.now().replace(microsecond=0)
    entries = [
        revoked_entry(format(n, "x"), now, "keyCompromise") for n in range(10**12, 10**12 + 100_000)
    ]
    started = time.perf_counter()
    build_crl(issuing, entries, 1, now)
    crl_seconds = time.perf_counter() - started

    certificate = Certificate.objects.filter(issuer=issuing).exclude(ocsp_response_der=None).first()
    assert certificate is not None, "no pre-signed OCSP answer: did the worker issue anything?"
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate.certificate, issuing.certificate, hashes.SHA1())  # noqa: S303 - RFC 5019 CertID
        .build()
    )
    body = request.public_bytes(serialization.Encoding.DER)
    latencies: list[float] = []
    lock = threading.Lock()
    count = ocsp_requests
    clients = 4

    def client(_index: int) -> None:
        # A relying party's OCSP client is lean (see bench.stack.Client).
        relying_party = Client(stack.port)
        headers = {"Content-Type": "application/ocsp-request"}
        for _ in range(count // clients):
            sent = time.perf_counter()
            reply = relying_party.request("POST", "/ocsp", headers, body)
            if reply.status != 200:
                raise RuntimeError(f"OCSP answered HTTP {reply.status}")
            with lock:
                latencies.append(time.perf_counter() - sent)
        relying_party.connection.close()

    elapsed = run_concurrently(client, clients)
    return {
        "crl_100000_entries_seconds": crl_seconds,
        "ocsp_per_second": len(latencies) / elapsed,
        "ocsp_p99_ms": percentile(latencies, 0.99) * 1000,
    }
