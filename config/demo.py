"""`make run`: prepare the embedded portal, then serve it with a signing worker until Ctrl-C.

    python -m config.demo --port 8000 --https-port 8443

Each step says what it does before it starts (the first start creates the CA keys, which
takes a while), the system checks run once everything they look at exists (a fresh
database has no CP/CPS until the demo data publishes one), and the last lines say where
the portal is. Dutch first, English after the slash, as the installers print.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import django

if TYPE_CHECKING:
    from config.embedded_server import TlsFiles

T = TypeVar("T")


def say(text: str = "") -> None:
    print(text, flush=True)


def step(number: int, total: int, text: str, action: Callable[[], T]) -> T:
    print(f"[{number}/{total}] {text} ...", end=" ", flush=True)
    started = time.monotonic()
    result = action()
    say(f"klaar / done ({time.monotonic() - started:.1f} s)")
    return result


def _call(name: str, *args: str) -> str:
    from django.core.management import call_command

    out = io.StringIO()
    # The checks run once, after the demo data (check_after_start_up).
    call_command(name, *args, stdout=out, skip_checks=True)
    return out.getvalue()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)


def check_after_start_up() -> list[str]:
    """What the system checks find now that the database, the CA and the demo data exist."""
    from django.conf import settings
    from django.core import checks
    from django.core.checks.messages import WARNING

    found = checks.run_checks(databases=["default"])
    silenced = set(settings.SILENCED_SYSTEM_CHECKS)
    return [str(m) for m in found if m.level >= WARNING and m.id not in silenced]


def make_folders(var_dir: Path) -> None:
    # The folder queue that the web process and the worker share (settings: filesystem://).
    for folder in ("broker/processed", "broker/control"):
        (var_dir / folder).mkdir(parents=True, exist_ok=True)


def start_worker(var_dir: Path) -> subprocess.Popen[bytes]:
    """The Celery worker that signs (with beat for the periodic sweeps), beside the server."""
    # --quiet: no banner. Its warnings and errors still reach the console, and so do the
    # development mails' summary lines (core/dev_mail.py).
    command = [sys.executable, "-m", "celery", "--quiet", "-A", "config", "worker", "--beat"]
    command += ["--concurrency", "1", "--loglevel", "WARNING", "--without-mingle"]
    command += ["--without-gossip", "--schedule", str(var_dir / "celerybeat-schedule")]
    # Celery warns on every start as root (containers, CI); the demo's worker signs in a
    # folder of its own and takes no pickled messages, which is what the warning is about.
    env = {**os.environ, "PYTHONWARNINGS": "ignore:You're running the worker with superuser"}
    return subprocess.Popen(command, env=env, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """In the worker, before it starts: end when this process ends, however it ends."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="plain HTTP (CRL, OCSP, CA)")
    parser.add_argument("--https-port", type=int, default=8443, help="the portal, HTTPS")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("PORTAL_URL", f"https://{args.host}:{args.https_port}")
    django.setup()
    from django.conf import settings

    if settings.PRODUCTION:
        say("config.demo is the development portal (make run); production runs gunicorn.")
        return 2
    from config import embedded_server

    say(f"{settings.PORTAL_NAME}: ontwikkelversie / development portal in {settings.VAR_DIR}")
    make_folders(Path(settings.VAR_DIR))
    total = 4
    step(1, total, "Database bijwerken / migrating the database", migrate)
    created = step(2, total, "CA-hiërarchie (eerste keer: sleutels maken) / CA", _init_ca)
    for line in created:
        say(f"      {line}")
    files = embedded_server.tls_files()
    step(
        3,
        total,
        "TLS-servercertificaat voor 127.0.0.1 en localhost / TLS server certificate",
        lambda: embedded_server.prepare_tls_files(files),
    )
    seeded = step(4, total, "Demogegevens / demo data", lambda: _call("seed_demo"))
    for problem in check_after_start_up():
        say(problem)
    say()
    say(
        "Demo-gebruikers (pincodes zijn bij elke start nieuw) / demo holders (new PINs each start):"
    )
    say(seeded.rstrip())
    say(
        f"Mail: één regel hier, de hele mail in / one line here, the full mail in {settings.VAR_DIR}/mail/"
    )
    return serve(args, files)


def _init_ca() -> list[str]:
    output = _call("init_ca")
    return [line for line in output.splitlines() if line.startswith("Created")]


def serve(args: argparse.Namespace, files: TlsFiles) -> int:
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    from config import embedded_server

    application = get_wsgi_application()
    # Under DEBUG Django's own "django" handler (set up again by get_wsgi_application) prints
    # each of its warnings a second time, bare, beside the portal's formatted line.
    logging.getLogger("django").handlers.clear()
    server = embedded_server.EmbeddedServer(
        application, files, host=args.host, http_port=args.port, https_port=args.https_port
    )
    try:
        server.start()
    except OSError as exc:
        say(f"FOUT / ERROR: poort bezet? / port in use? {exc} (PORT=… HTTPS_PORT=… make run)")
        return 1
    worker = start_worker(Path(settings.VAR_DIR))
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    say()
    say(f"Portaal / portal:  https://{args.host}:{args.https_port}/")
    say(f"  (CRL, OCSP en CA-certificaten ook via / also at http://{args.host}:{args.port}/)")
    say(
        f"  EST voor systeemcertificaten / for system certificates: https://{args.host}:{args.https_port}/.well-known/est/ (docs/est.md)"
    )
    say("Ctrl-C stopt het portaal en de ondertekenaar / stops the portal and its worker")
    while not stopping.wait(1):
        if worker.poll() is not None:
            say(f"FOUT / ERROR: de ondertekenaar stopte / the worker stopped ({worker.returncode})")
            break
    server.stop()
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
