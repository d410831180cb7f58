"""The compose topology with real processes: two gunicorn web processes that hold no CA key
(CA_ROLE=web) and two Celery workers that do, sharing one PostgreSQL and one Redis and
nothing else. What one web accepts, a worker signs and the other web reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ca.authority import init_hierarchy
from ca.models import Certificate, Order, OrderStatus
from enrollment.models import Enrollment, InstallCode

# Fixtures and helpers of the CA's worker tests, reused as they are: a private redis-server
# (RedisServer, started by the broker fixture), Celery worker processes on the test database (Workers, workers),
# a key directory per test (ca_keys) and enrollments (make_enrollment).
from tests.ca.conftest import FAST, ca_keys, fixture_bytes, make_enrollment  # noqa: F401
from tests.ca.test_workers import Workers, broker, workers  # noqa: F401
from tests.stack_ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
SIGNING_TIMEOUT = 90.0


class Webs:
    """gunicorn processes serving portal.wsgi, each on its own loopback port."""

    def __init__(self, environment: dict[str, str], log_dir: Path) -> None:
        self.environment = environment
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> str:
        port = free_port()
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [GUNICORN, "portal.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=self.environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn {name} exited\n{self.logs()}")
            try:
                get_json(f"{url}/healthz")
                return url
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"gunicorn {name} did not answer within {START_TIMEOUT} s\n{self.logs()}")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in self.log_dir.glob("*.log"))


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def post_csr(url: str, code: str, csr: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - http to loopback only
        f"{url}/api/v1/csr",
        data=csr,
        method="POST",
        headers={"Authorization": f"Bearer {code}", "Content-Type": "application/pkcs10"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


@pytest.fixture
def webs(workers: Workers, tmp_path: Path) -> Iterator[Webs]:  # noqa: F811 - imported fixture
    """The web tier's environment: the workers' database and Redis, no CA key settings."""
    environment = {
        key: value for key, value in workers.environment.items() if not key.startswith("CA_")
    }
    environment.update(CA_ROLE="web", CA_KEY_DIR="", VAR_DIR=str(tmp_path / "web-var"))
    log_dir = tmp_path / "web-logs"
    log_dir.mkdir()
    running = Webs(environment, log_dir)
    yield running
    running.stop_all()


def wait_until(
    condition: Callable[[], bool],
    timeout: float,
    what: str,
    logs: Callable[[], str],
    interval: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs()}")


def test_an_order_taken_by_one_web_is_signed_by_a_worker_and_seen_by_the_other_web(
    webs: Webs,
    workers: Workers,  # noqa: F811 - imported fixture
    make_enrollment: Callable[..., Enrollment],  # noqa: F811 - imported fixture
) -> None:
    assert webs.environment["CA_ROLE"] == "web"
    assert webs.environment["CA_KEY_DIR"] == ""
    assert not {"CA_KEY_PASSPHRASE", "CA_KEY_PASSPHRASE_FILE", "CA_PKCS11_PIN"} & set(
        webs.environment
    )
    init_hierarchy(FAST)  # what `init` does, with the key directory the workers mount
    first = webs.start("web-1")
    second = webs.start("web-2")

    def all_logs() -> str:
        return webs.logs() + "\n" + workers.logs()

    for url in (first, second):
        health = get_json(f"{url}/healthz")
        assert health["status"] == "ok"
        assert health["database"] == "ok"
        assert health["broker"] == "ok"
        assert health["ca"] == "ok"

    enrollment = make_enrollment()
    code = InstallCode.objects.mint(enrollment)
    status, body = post_csr(first, code, fixture_bytes("p256.pem"))
    assert status == 202, (body, all_logs())
    auth = {"Authorization": f"Bearer {code}"}

    # No worker yet: the webs queue the order but cannot sign it.
    time.sleep(2)
    assert Order.objects.get(enrollment=enrollment).status == OrderStatus.PENDING
    assert get_json(f"{second}/api/v1/status", auth)["status"] == "csr_received"

    workers.start("worker-1")
    workers.start("worker-2")

    def issued_through_the_other_web() -> bool:
        return bool(get_json(f"{second}/api/v1/status", auth)["status"] == "issued")

    # One poll a second stays inside the per-code read limit (API_READ_RATE_PER_CODE).
    wait_until(
        issued_through_the_other_web, SIGNING_TIMEOUT, "the certificate", all_logs, interval=1.0
    )
    answer = get_json(f"{second}/api/v1/status", auth)
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert answer["serial"] == certificate.serial_hex
    assert Order.objects.get(enrollment=enrollment).status == OrderStatus.ISSUED
