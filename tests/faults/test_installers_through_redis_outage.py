"""Redis killed while 50 Linux installers run: every one of them still installs.

The real stack: nginx verifying client certificates in front of the live server, a Celery
worker process and beat, PostgreSQL, and a Redis of the test's own (cache, rate limits,
broker, progress announcements) that is killed with SIGKILL mid-run and started again.
While it is down, status reads go on from PostgreSQL (rate-limited per process), the
submissions answer 503 with Retry-After, and the installers wait as told and send again;
an order committed just before the kill reaches a worker through beat's sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from ca.models import Certificate, CertificateAuthority
from enrollment import installers
from enrollment.models import Enrollment, InstallCode
from tests.fixtures.services import require_binary
from tests.fixtures.workers import RedisServer, Workers

pytestmark = pytest.mark.django_db(transaction=True)

INSTALLERS = 50
OUTAGE_SECONDS = 6


@pytest.fixture
def killable_redis(broker: RedisServer, settings: Any) -> Iterator[RedisServer]:
    """The web's cache, rate limits and announcements on the broker's Redis, to kill it."""
    settings.REDIS_URL = broker.url
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": broker.url,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    settings.OUTAGE_RETRY_AFTER_SECONDS = 2
    # Fifty installers from one address: the per-address limits are not what is tested.
    settings.API_READ_RATE_PER_ADDRESS = "100000/m"
    settings.API_SUBMIT_RATE_PER_ADDRESS = "100000/m"
    yield broker
    caches["default"].close()


def kill(server: RedisServer) -> None:
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    server.process = None


def test_fifty_linux_installers_complete_although_redis_is_killed_while_they_run(
    nginx: str,
    workers: Workers,
    killable_redis: RedisServer,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    tmp_path: Path,
) -> None:
    require_binary("certutil")
    require_binary("openssl")
    require_binary("curl")
    sweep = {"CA_SWEEP_INTERVAL_SECONDS": "2", "CA_ORDER_REQUEUE_AFTER_SECONDS": "3"}
    # Supervised as compose's restart policy does: Celery may exit on kombu's error after the
    # broker is killed (an "Unrecoverable error" in restore_unacked), and Docker starts it again.
    workers.start_supervised("outage-worker", concurrency=2, **sweep)
    workers.start_beat(tmp_path / "beat-schedule", **sweep)
    root = CertificateAuthority.objects.current_root()
    assert root is not None

    prepared: list[tuple[Enrollment, Path]] = []
    for number in range(INSTALLERS):
        enrollment = make_enrollment()
        code = InstallCode.objects.mint(enrollment)
        folder = tmp_path / f"holder-{number}"
        (folder / "home").mkdir(parents=True)
        script = folder / "installeer.sh"
        script.write_bytes(installers.render_installer(enrollment, "linux", code, root.pem))
        prepared.append((enrollment, folder))

    running: list[tuple[Enrollment, subprocess.Popen[str], Path]] = []
    started = time.monotonic()
    killed_at = started
    for index, (enrollment, folder) in enumerate(prepared):
        process = subprocess.Popen(
            ["sh", str(folder / "installeer.sh"), "--yes"],
            env={"PATH": os.environ["PATH"], "HOME": str(folder / "home"), "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL,
            stdout=(folder / "stdout").open("w"),
            stderr=(folder / "stderr").open("w"),
            text=True,
        )
        running.append((enrollment, process, folder))
        if index == INSTALLERS // 2:
            # Half of them are under way (keys made, some submitted, some polling).
            kill(killable_redis)
            killed_at = time.monotonic()
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - killed_at)))
    killable_redis.start()

    failures = []
    # One deadline for all of them: a stuck pipeline fails the test in minutes, not in
    # fifty times the timeout.
    deadline = time.monotonic() + 300
    for enrollment, process, folder in running:
        try:
            returncode = process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = -1
        if returncode != 0:
            failures.append(
                f"{enrollment.certificate_name}: exit {returncode}\n"
                f"{(folder / 'stdout').read_text()[-600:]}\n{(folder / 'stderr').read_text()[-600:]}"
            )
    assert not failures, "\n".join(failures[:5]) + f"\n{len(failures)} failed\n{workers.logs()}"
    elapsed = time.monotonic() - started

    retried = sum(
        "opnieuw over" in (folder / "stderr").read_text().lower() for _e, _p, folder in running
    )
    assert retried > 0, "no installer met the outage: it did not test anything"
    for enrollment, _process, _folder in running:
        enrollment.refresh_from_db()
        assert enrollment.status == "installed", enrollment.certificate_name
    assert Certificate.objects.filter(enrollment__in=[e for e, _p, _f in running]).count() == (
        INSTALLERS
    )
    print(f"{INSTALLERS} installers, {retried} retried through the outage, {elapsed:.0f} s")
