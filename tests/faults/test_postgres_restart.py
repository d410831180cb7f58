"""PostgreSQL restarts while a worker is signing: no 500s, nothing lost, one certificate each.

The machine's PostgreSQL is shared with the other tests, so this test runs a PostgreSQL of
its own (initdb in a temporary directory, as the ``postgres`` user when run as root), a
private redis-server, gunicorn, a Celery worker and beat, all as separate processes. The
installers' side is plain HTTP against gunicorn; the checks read the private database.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.ca import fixture_bytes
from tests.fixtures.services import require, require_binary
from tests.fixtures.workers import RedisServer, Webs, Workers
from tests.stack_ports import free_port

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2
SWEEP_SECONDS = 2
# Lease + sweep interval + a worker's start-up and signing time: the bound on recovery.
RECOVERY_SECONDS = 45


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """A throwaway cluster on a free port; stop/start/restart like an operator would."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.root.chmod(0o755)  # the postgres user must reach its data directory
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/portal"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.data, "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as db:
            db.execute("CREATE DATABASE portal")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", options, "-w", *extra, action)  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")  # disconnects every client, as a restart does

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "portal") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn()) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    bin_dir = _postgres_bin()
    require("PostgreSQL server binaries (initdb, pg_ctl)", lambda: bin_dir is not None)
    if os.geteuid() == 0:
        require_binary("runuser")
    assert bin_dir is not None
    server = PrivatePostgres(bin_dir)
    server.init()
    yield server
    server.destroy()


@pytest.fixture
def stack(postgres: PrivatePostgres, tmp_path: Path) -> Iterator[dict[str, object]]:
    require_binary("redis-server")
    redis = RedisServer(free_port())
    redis.start()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "CA_", "CELERY_", "DJANGO_"))
    }
    environment.update(
        PORTAL_MODE="test",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=postgres.url,
        REDIS_URL=redis.url,
        CA_KEY_DIR=str(tmp_path / "keys"),
        CA_KEY_PASSPHRASE="fault passphrase",
        CA_ORDER_LEASE_SECONDS=str(LEASE_SECONDS),
        CA_ORDER_REQUEUE_AFTER_SECONDS="1",
        CA_SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS),
        PYTHONUNBUFFERED="1",
    )

    def manage(*args: str, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**environment, **extra},
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--no-input", CA_ROLE="all")
    manage("init_ca", "--root-key-type", "p256", "--issuing-key-type", "p256", CA_ROLE="all")
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    workers = Workers({**environment, "CA_ROLE": "worker"}, log_dir)
    webs = Webs({**environment, "CA_ROLE": "web"}, log_dir)
    beat = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "beat", "--loglevel", "INFO",
         "--schedule", str(tmp_path / "beat-schedule")],
        cwd=ROOT, env={**environment, "CA_ROLE": "worker"},
        stdout=(log_dir / "beat.log").open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    yield {"manage": manage, "workers": workers, "webs": webs, "logs": log_dir}
    beat.terminate()
    beat.wait(timeout=15)
    webs.stop_all()
    workers.stop_all()
    redis.stop()


def _install_codes(manage: Callable[..., str], count: int) -> list[str]:
    script = f"""
import json
from datetime import timedelta
from django.utils import timezone
from enrollment.models import Enrollment, Holder, InstallCode, Organisation
organisation = Organisation.objects.create(name="Storing")
codes = []
for number in range({count}):
    holder, _pin = Holder.objects.issue(
        display_name=f"S. Toring {{number}}", organisation=organisation,
        contact_email="storing@example.org")
    enrollment = Enrollment.objects.create(
        holder=holder, kind="personal", activation_code=holder.activation_codes.first(),
        email="storing@example.org", certificate_name=f"S{{number}}", password_hash="!",
        expires_at=timezone.now() + timedelta(days=30))
    codes.append(InstallCode.objects.mint(enrollment))
print("CODES=" + json.dumps(codes))
"""
    output = manage("shell", "-c", script, CA_ROLE="web")
    line = next(line for line in output.splitlines() if line.startswith("CODES="))
    return list(json.loads(line.removeprefix("CODES=")))


def _call(url: str, code: str, body: bytes | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - the test's own loopback server
        url,
        data=body,
        headers={"Authorization": f"Bearer {code}", "Content-Type": "application/pkcs10"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as failure:
        return failure.code, json.loads(failure.read() or b"{}")


def _orders(postgres: PrivatePostgres) -> dict[int, str]:
    return dict(postgres.rows("SELECT id, status FROM ca_order"))  # type: ignore[arg-type]


def test_a_postgres_restart_mid_signing_loses_nothing_and_issues_each_order_once(
    postgres: PrivatePostgres, stack: dict[str, object], tmp_path: Path
) -> None:
    manage, workers, webs = stack["manage"], stack["workers"], stack["webs"]
    assert callable(manage) and isinstance(workers, Workers) and isinstance(webs, Webs)
    codes = _install_codes(manage, 3)
    pause = tmp_path / "pause"
    pause.touch()
    workers.start_paused("signer", pause)
    web = webs.start("web")
    csr = fixture_bytes("p256.pem")

    status, _ = _call(f"{web}/api/v1/csr", codes[0], csr)
    assert status == 202
    deadline = time.monotonic() + 60
    while set(_orders(postgres).values()) != {"processing"}:
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.1)

    # The worker holds the claim and is about to sign; the database goes away under it.
    postgres.stop()
    during = [
        _call(f"{web}/api/v1/status", codes[0]),
        _call(f"{web}/api/v1/csr", codes[1], csr),
    ]
    pause.unlink()  # the worker signs and fails to store: its connection is gone
    time.sleep(1)
    postgres.start()

    assert [status for status, _ in during] == [503, 503], during
    assert all(body.get("code") == "service_unavailable" for _, body in during), during
    # The installer retries what failed; the new orders go through the usual path.
    assert _call(f"{web}/api/v1/csr", codes[1], csr)[0] == 202
    assert _call(f"{web}/api/v1/csr", codes[2], csr)[0] == 202

    deadline = time.monotonic() + RECOVERY_SECONDS
    while set(_orders(postgres).values()) != {"issued"}:
        assert time.monotonic() < deadline, f"{_orders(postgres)}\n{workers.logs()}"
        time.sleep(0.2)
    assert len(_orders(postgres)) == 3
    (certificates, per_reference), *_ = postgres.rows(
        "SELECT count(*), count(DISTINCT reference) FROM ca_certificate"
    )
    assert certificates == per_reference == 3
    for code in codes:
        status, body = _call(f"{web}/api/v1/status", code)
        assert (status, body["status"]) == (200, "issued")
    # Each enrollment has its own certificate recorded (from the report, or repaired when
    # the status was read).
    ((recorded,),) = postgres.rows(
        "SELECT count(*) FROM enrollment_enrollment e JOIN ca_certificate c"
        " ON c.id = e.certificate_id AND c.reference = e.public_id"
    )
    assert recorded == 3
