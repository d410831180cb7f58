"""Server-Timing for bench processes only: how long the server spent on a request.

The wizard bench reads it to report server time per step, as issue 7 asks, next to the
time its own client saw (which also holds the load generator's waits for its GIL). Not in
production: a precise server time would help whoever times PIN checks from outside.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response


def server_milliseconds(header: str | None) -> float | None:
    """The ``dur`` of a ``Server-Timing: app;dur=…`` header."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "dur":
            return float(value)
    return None
