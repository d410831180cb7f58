"""The processes `make bench` measures, and the data it feeds them."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_concurrently(work: Callable[[int], None], count: int) -> float:
    """Run ``work(0)`` to ``work(count - 1)`` in threads at once; seconds until all ended."""
    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


class Reply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Client:
    """One keep-alive HTTP connection and its cookies, on http.client.

    Not requests: the load generator shares the two cores with the server it measures, and
    requests spends several times http.client's CPU on each request. Redirects are not
    followed; the callers look at them.
    """

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        form: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(headers or {})
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            reply = self._exchange(method, path, headers, body)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection: once more on a new one.
            self.connection.close()
            reply = self._exchange(method, path, headers, body)
        for header in reply.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return reply

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return Reply(response.status, response.headers, response.read())


def _cpu_ticks() -> tuple[int, int]:
    """The machine's steal and total CPU ticks so far (/proc/stat); zeros where it is missing."""
    try:
        first_line = Path("/proc/stat").read_text().split("\n", 1)[0]
    except OSError:
        return 0, 0
    # cpu user nice system idle iowait irq softirq steal ...
    ticks = [int(value) for value in first_line.split()[1:9]]
    return ticks[7], sum(ticks)


@contextmanager
def host_steal(phase: str, into: dict[str, float]) -> Iterator[None]:
    """Record in ``into[phase]`` the share of the machine's CPU time the hypervisor gave to
    other guests while the block ran: on a shared host a phase can lose a third of its CPU,
    which no change to the portal explains. NaN where /proc/stat is missing."""
    steal_before, total_before = _cpu_ticks()
    yield
    steal, total = _cpu_ticks()
    elapsed = total - total_before
    into[phase] = (steal - steal_before) / elapsed if elapsed > 0 else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """gunicorn and Celery workers against the bench database, like the compose topology."""

    def __init__(
        self,
        environment: dict[str, str],
        web_workers: int,
        celery_concurrency: int,
        web_threads: int = 8,
    ) -> None:
        self.environment = environment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
        bin_dir = Path(sys.executable).parent
        web_env = {**environment, "CA_ROLE": "web"}
        self.processes = [
            subprocess.Popen(
                [str(bin_dir / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", str(web_workers),
                 "--threads", str(web_threads), "--log-level", "warning"],
                cwd=ROOT, env=web_env, stdout=(self.logs / "web.log").open("wb"), stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            subprocess.Popen(
                [str(bin_dir / "celery"), "-A", "config", "worker", "--concurrency", str(celery_concurrency),
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
        probe = Client(self.port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if probe.request("GET", "/healthz").status == 200:
                    probe.connection.close()
                    time.sleep(3)  # the worker imports pkilint and loads the key meanwhile
                    return
            except (OSError, http.client.HTTPException):  # not listening yet
                probe.connection.close()
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


def make_enrollments(count: int, label: str) -> list[int]:
    """``count`` holders with an enrollment each, ready for a CSR; bulk-inserted, no mail."""
    from datetime import timedelta

    from django.utils import timezone

    from enrollment import user_numbers
    from enrollment.models import ActivationCode, Enrollment, Holder, Organisation

    organisation, _ = Organisation.objects.get_or_create(name=f"Bench {label}")
    numbers: set[str] = set(Holder.objects.values_list("user_number", flat=True))
    fresh: list[str] = []
    while len(fresh) < count:
        number = user_numbers.generate()
        if number not in numbers:
            numbers.add(number)
            fresh.append(number)
    holders = Holder.objects.bulk_create(
        [
            Holder(
                user_number=number,
                display_name=f"B. {label} {index}",
                organisation=organisation,
                contact_email="bench@example.org",
            )
            for index, number in enumerate(fresh)
        ],
        batch_size=5000,
    )
    now = timezone.now()
    expires = now + timedelta(days=30)
    # Each enrollment was opened with a PIN, now used (the database insists on one).
    pins = ActivationCode.objects.bulk_create(
        [
            ActivationCode(holder=holder, pin_hash="!", expires_at=expires, used_at=now)
            for holder in holders
        ],
        batch_size=5000,
    )
    enrollments = Enrollment.objects.bulk_create(
        [
            Enrollment(
                holder=holder,
                activation_code=pin,
                password_hash="!",  # noqa: S106 - an unusable hash: bench holders never log in
                kind="personal",
                email="bench@example.org",
                certificate_name=f"B{index % 1_000_000}"[:7],
                expires_at=expires,
            )
            for index, (holder, pin) in enumerate(zip(holders, pins, strict=True))
        ],
        batch_size=5000,
    )
    return [enrollment.pk for enrollment in enrollments]


def make_install_codes(count: int) -> list[str]:
    from enrollment.models import Enrollment, InstallCode

    return [
        InstallCode.objects.mint(enrollment)
        for enrollment in Enrollment.objects.filter(pk__in=make_enrollments(count, "api"))
    ]
