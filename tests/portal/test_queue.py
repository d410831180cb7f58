"""Queueing tasks from the web tier."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh process, as a gunicorn worker: no task is registered until the first is queued.
CONCURRENT_FIRST_QUEUES = textwrap.dedent(
    """
    import threading

    import django

    django.setup()
    from config.celery import app
    from core.queue import app_with_tasks

    assert "ca.sign_order" not in app.tasks, "registered before the test could race"
    start = threading.Barrier(16)
    found = []

    def first_request():
        start.wait()
        found.append("ca.sign_order" in app_with_tasks().tasks)

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(found.count(True), found.count(False))
    """
)


def test_threads_that_queue_the_first_tasks_at_once_all_find_them_registered():
    result = subprocess.run(
        [sys.executable, "-c", CONCURRENT_FIRST_QUEUES],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["16", "0"]
