"""`make bench`: the portal's numbers on this machine, each against a reference of the same run.

Runs against real PostgreSQL (DATABASE_URL), Redis (REDIS_URL), gunicorn and Celery worker
processes, in a database of its own that is dropped afterwards. Writes bench/results.json
and bench/results.md. Sizes come from the environment (BENCH_CSRS, BENCH_OFFERED_RATE, …).

Measured so far: (1) issuance, pipeline throughput against a single-process build + lint +
sign loop, and time from CSR accepted to certificate readable under an offered load;
(4) a 100,000-entry CRL and OCSP answers from the cache; (5) peak memory of the web and
worker processes.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench"


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """gunicorn and Celery workers against the bench database, like the compose topology."""

    def __init__(
        self, environment: dict[str, str], web_workers: int, celery_concurrency: int
    ) -> None:
        self.environment = environment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
        bin_dir = Path(sys.executable).parent
        web_env = {**environment, "CA_ROLE": "web"}
        self.processes = [
            subprocess.Popen(
                [str(bin_dir / "gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(web_workers),
                 "--threads", "4", "--log-level", "warning"],
                cwd=ROOT, env=web_env, stdout=(self.logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            subprocess.Popen(
                [str(bin_dir / "celery"), "-A", "portal", "worker", "--concurrency", str(celery_concurrency),
                 "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env={**environment, "CA_ROLE": "worker"}, stdout=(self.logs / "worker.log").open("wb"),
                stderr=subprocess.STDOUT, start_new_session=True,
            ),
        ]  # fmt: skip
        self.peak_rss: dict[str, int] = {"web": 0, "worker": 0}
        self._sampling = True
        threading.Thread(target=self._sample_memory, daemon=True).start()
        self._wait_for_web()

    def _wait_for_web(self) -> None:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    time.sleep(3)  # the worker imports pkilint and loads the key meanwhile
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start; see {self.logs}")

    def _tree_rss(self, pid: int) -> int:
        result = subprocess.run(
            ["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)], capture_output=True, text=True
        )
        return sum(int(line) for line in result.stdout.split() if line.strip().isdigit()) * 1024

    def _sample_memory(self) -> None:
        while self._sampling:
            for name, process in zip(["web", "worker"], self.processes, strict=True):
                self.peak_rss[name] = max(self.peak_rss[name], self._tree_rss(process.pid))
            time.sleep(0.5)

    def stop(self) -> None:
        self._sampling = False
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def make_csrs(count: int) -> list[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    csrs = []
    for _ in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([]))
            .sign(key, hashes.SHA256())
        )
        csrs.append(csr.public_bytes(serialization.Encoding.PEM))
    return csrs


def make_install_codes(count: int) -> list[str]:
    from datetime import timedelta

    from django.utils import timezone

    from enrollment.models import ActivationCode, Enrollment, Holder, InstallCode, Organisation

    organisation, _ = Organisation.objects.get_or_create(name="Bench")
    codes = []
    for number in range(count):
        holder, _pin = Holder.objects.issue(
            display_name=f"Bench {number}",
            organisation=organisation,
            contact_email="bench@example.org",
        )
        enrollment = Enrollment.objects.create(
            holder=holder, kind="personal", activation_code=ActivationCode.objects.filter(holder=holder).first(),
            email="bench@example.org", certificate_name=f"B{number % 1000000}"[:7], password_hash="x",  # noqa: S106 - not a password: bench rows never log in
            expires_at=timezone.now() + timedelta(days=30),
        )  # fmt: skip
        codes.append(InstallCode.objects.mint(enrollment))
    return codes


def reference(csrs: list[bytes]) -> dict[str, float]:
    """One process, no I/O: check the CSR, build, lint a throwaway-signed copy, sign."""
    from django.utils import timezone

    from ca import profiles
    from ca.csr_policy import check_csr
    from ca.models import CertificateAuthority
    from ca.signing import sign_certificate

    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    key, issuer = issuing.signing_key(), issuing.certificate
    holder = profiles.Holder(
        certificate_name="REF",
        display_name="Ref",
        user_number="12345678901237",
        organisation="Bench",
    )
    sign_certificate(
        profiles.end_entity(
            "personal", holder, check_csr(csrs[0]).public_key, issuing, timezone.now()
        ),
        key,
        issuer,
    )
    started = time.perf_counter()
    for csr in csrs:
        builder = profiles.end_entity(
            "personal", holder, check_csr(csr).public_key, issuing, timezone.now()
        )
        sign_certificate(builder, key, issuer)
    elapsed = time.perf_counter() - started
    return {"certificates": len(csrs), "seconds": elapsed, "per_second": len(csrs) / elapsed}


def pipeline(stack: Stack, csrs: list[bytes], codes: list[str], rate: float) -> dict[str, float]:
    """HTTP CSR → PostgreSQL → Redis → worker → lint → sign → stored → status readable."""
    import requests

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(csr: bytes, code: str) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {code}"}
        response = session.post(
            f"{stack.url}/api/v1/csr",
            data=csr,
            headers={**headers, "Content-Type": "application/pkcs10"},
            timeout=30,
        )
        if response.status_code != 202:
            with lock:
                errors.append(f"submit {response.status_code}")
            return
        accepted = time.perf_counter()
        deadline = accepted + 120
        while time.perf_counter() < deadline:
            status = session.get(f"{stack.url}/api/v1/status", headers=headers, timeout=30).json()[
                "status"
            ]
            if status == "issued":
                with lock:
                    latencies.append(time.perf_counter() - accepted)
                return
            if status == "failed":
                break
            time.sleep(0.01)
        with lock:
            errors.append("not issued")

    threads = []
    started = time.perf_counter()
    for index, (csr, code) in enumerate(zip(csrs, codes, strict=True)):
        # Offer the load at a steady rate, as installers arriving one by one would.
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=one, args=(csr, code))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout=180)
    elapsed = time.perf_counter() - started
    return {
        "offered_per_second": rate,
        "certificates": len(latencies),
        "errors": len(errors),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "latency_p50_ms": percentile(latencies, 0.50) * 1000,
        "latency_p99_ms": percentile(latencies, 0.99) * 1000,
    }


def crl_and_ocsp(stack: Stack) -> dict[str, float]:
    import requests
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
    count = env_int("BENCH_OCSP_REQUESTS", 3000)
    clients = 8

    def client() -> None:
        session = requests.Session()
        for _ in range(count // clients):
            sent = time.perf_counter()
            response = session.post(
                f"{stack.url}/ocsp",
                data=body,
                headers={"Content-Type": "application/ocsp-request"},
                timeout=10,
            )
            response.raise_for_status()
            with lock:
                latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "crl_100000_entries_seconds": crl_seconds,
        "ocsp_per_second": len(latencies) / elapsed,
        "ocsp_p99_ms": percentile(latencies, 0.99) * 1000,
    }


def markdown(results: dict[str, Any]) -> str:
    issuance = results["issuance"]
    lines = [
        "# Certificaatportaal benchmark",
        "",
        f"Machine: {results['machine']}",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| reference: build + lint + sign, one process | {issuance['reference']['per_second']:.0f}/s | |",
        f"| pipeline throughput (HTTP → PostgreSQL → Redis → worker → stored) | {issuance['burst']['per_second']:.0f}/s | |",
        f"| pipeline ÷ reference | {issuance['ratio']:.0%} | ≥ 40% |",
        f"| CSR accepted → certificate readable, p99 at {issuance['offered']['offered_per_second']:.0f}/s offered | {issuance['offered']['latency_p99_ms']:.0f} ms | ≤ 250 ms |",
        f"| CRL with 100,000 entries, build + sign | {results['crl_ocsp']['crl_100000_entries_seconds']:.2f} s | ≤ 1 s |",
        f"| OCSP from the cache | {results['crl_ocsp']['ocsp_per_second']:.0f}/s, p99 {results['crl_ocsp']['ocsp_p99_ms']:.1f} ms | ≥ 1,000/s, p99 ≤ 20 ms |",
        f"| peak memory web / worker | {results['memory']['web'] / 2**20:.0f} / {results['memory']['worker'] / 2**20:.0f} MiB | |",
        "",
        f"Errors: {issuance['burst']['errors'] + issuance['offered']['errors']}. Settings: {json.dumps(results['settings'])}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        print("make bench needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)", file=sys.stderr)
        return 2
    import psycopg

    parsed = urlparse(database_url)
    name = f"portal_bench_{secrets.token_hex(4)}"
    admin = f"host={parsed.hostname} port={parsed.port or 5432} user={parsed.username or 'postgres'} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    keys = tempfile.mkdtemp(prefix="bench-keys-")
    environment = {
        **os.environ,
        "PORTAL_MODE": "test",
        "DATABASE_URL": parsed._replace(path=f"/{name}").geturl(),
        "CA_KEY_DIR": keys,
        "CA_KEY_PASSPHRASE": "bench",
        "CA_ROLE": "all",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "API_SUBMIT_RATE_PER_CODE": "1000/m",
        "API_SUBMIT_RATE_PER_ADDRESS": "1000000/m",
        "API_READ_RATE_PER_CODE": "100000/m",
        "API_READ_RATE_PER_ADDRESS": "10000000/m",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(environment)
    stack: Stack | None = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("init_ca", verbosity=0)
        burst_count, offered_count = env_int("BENCH_CSRS", 2000), env_int("BENCH_OFFERED_CSRS", 500)
        rate = float(os.environ.get("BENCH_OFFERED_RATE", "50"))
        csrs = make_csrs(burst_count + offered_count)
        codes = make_install_codes(burst_count + offered_count)
        reference_result = reference(csrs[:burst_count])
        stack = Stack(environment, web_workers=2, celery_concurrency=2)
        offered = pipeline(stack, csrs[burst_count:], codes[burst_count:], rate)
        burst = pipeline(stack, csrs[:burst_count], codes[:burst_count], rate=10_000)
        results = {
            "machine": f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "settings": {
                "csrs": burst_count,
                "offered_csrs": offered_count,
                "offered_rate": rate,
                "web_workers": 2,
                "celery_concurrency": 2,
            },
            "issuance": {
                "reference": reference_result,
                "burst": burst,
                "offered": offered,
                "ratio": burst["per_second"] / reference_result["per_second"],
            },
            "crl_ocsp": crl_and_ocsp(stack),
        }
        stack.stop()
        results["memory"] = stack.peak_rss
        OUT.mkdir(exist_ok=True)
        (OUT / "results.json").write_text(json.dumps(results, indent=2))
        (OUT / "results.md").write_text(markdown(results))
        print(markdown(results))
        return 0
    finally:
        if stack is not None:
            stack.stop()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
