"""Development e-mail (`make run`): each mail as a file in a local inbox, one line on the console.

Django's console backend prints whole mails, and in the Celery worker (which sends the
outbox) stdout is redirected into the log at WARNING, so a demo's console filled with mail
bodies that looked like warnings. Here the full mail goes to ``VAR_DIR/mail/`` as an .eml
file (readable as text, opens in any mail program) and the console gets a single line.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Sequence
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

_counter = itertools.count(1)
_lock = threading.Lock()


def inbox_folder() -> Path:
    return Path(settings.VAR_DIR) / "mail"


def _subject(message: EmailMessage) -> str:
    # The message's own header, decoded: what a mail program would show.
    raw = message.message()["Subject"] or ""
    return str(make_header(decode_header(str(raw))))


def summary_line(message: EmailMessage, path: Path) -> str:
    recipients = ", ".join(message.recipients())
    return f"[mail] aan / to {recipients}: {_subject(message)!r} -> {path}"


class InboxBackend(BaseEmailBackend):
    """Writes each message to the inbox folder and prints one line about it."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = inbox_folder()
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _lock:
                number = next(_counter)
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{stamp}-{os.getpid()}-{number}.eml"
            path.write_bytes(message.message().as_bytes(linesep="\n"))
            # The real stdout: under Celery sys.stdout is a logger that writes at WARNING.
            print(summary_line(message, path), file=sys.__stdout__, flush=True)
            sent += 1
        return sent
