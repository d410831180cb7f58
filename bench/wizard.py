"""The wizard under load: concurrent users walking steps 1-7 as a browser would.

Each user is a thread with its own connection and cookies (bench.stack.Client) that loads
every page, the captcha image and the installer, and posts every form with its CSRF token,
pausing between requests as a person reading and typing would (BENCH_WIZARD_THINK seconds
on average; 0 hammers).

The target is on server time, as the issue asks: what the Server-Timing header of
bench.timing says, from the first middleware to the response. The time the client saw
over loopback is reported next to it; it also holds the load generator's own waits (twenty
threads share one Python process with its GIL). The reference is /bench/bare (bench.urls),
asked once per step by the same users: Django's middleware and routing with no work behind
them, on the same server under the same load.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import defaultdict
from typing import Any

from bench.stack import Client, Reply, Stack, percentile, run_concurrently
from bench.timing import server_milliseconds

PASSWORD = "Bench-Portaal7!"  # noqa: S105 - a bench holder's, on a throwaway database
# Each step is a POST that redirects (Post/Redirect/Get) and the GET of the page it sends
# to: the POST (named by its step) checks and stores, the page is timed on its own row.
STEPS = [
    "1 kies certificaat",
    "2 gebruikersgegevens (pagina)",
    "2 captcha-afbeelding",
    "2 gebruikersgegevens",
    "3 e-mailadres (pagina)",
    "3 e-mailadres",
    "4 certificaatnaam (pagina)",
    "4 certificaatnaam",
    "5 wachtwoord (pagina)",
    "5 wachtwoord",
    "6 voorwaarden (pagina)",
    "6 voorwaarden",
    "7 installatiepagina",
    "7 installer",
]
PAGE_AFTER = {STEPS[i]: STEPS[i + 1] for i in (3, 5, 7, 9)}
BARE = "bare Django view"


class WalkFailed(Exception):
    pass


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)" name="{re.escape(name)}"', html
    )
    if match is None:
        raise WalkFailed(f"no {name} on the page")
    return match.group(1)


class Walker:
    def __init__(
        self,
        port: int,
        times: dict[str, list[tuple[float, float]]],
        lock: threading.Lock,
        think_seconds: float = 0.0,
    ) -> None:
        self.think_seconds = think_seconds
        self.browser = Client(port)
        self.times = times
        self.lock = lock

    def timed(self, step: str, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        if self.think_seconds:
            # A person reads and types between pages: half to one and a half times the think time.
            time.sleep(self.think_seconds * random.uniform(0.5, 1.5))  # noqa: S311 - pacing, not security
        reply = self._record(step, method, path, form)
        if reply.status >= 400:
            raise WalkFailed(f"{step}: HTTP {reply.status}")
        # The reference, under the same load at the same moment.
        self._record(BARE, "GET", "/bench/bare")
        return reply

    def _record(
        self, step: str, method: str, path: str, form: dict[str, str] | None = None
    ) -> Reply:
        started = time.perf_counter()
        reply = self.browser.request(method, path, form=form)
        client_seconds = time.perf_counter() - started
        server = server_milliseconds(reply.headers.get("Server-Timing"))
        if server is None:
            raise WalkFailed(f"{step}: no Server-Timing header (is bench.settings in use?)")
        with self.lock:
            self.times[step].append((server / 1000, client_seconds))
        return reply

    def post_step(self, step: str, html: str, wizard_step: str, fields: dict[str, str]) -> str:
        form = {
            "csrfmiddlewaretoken": _hidden(html, "csrfmiddlewaretoken"),
            "enroll_personal-current_step": wizard_step,
            **{f"{wizard_step}-{name}": value for name, value in fields.items()},
        }
        reply = self.timed(step, "POST", f"/enroll/personal/{wizard_step}/", form)
        if reply.status != 302:
            raise WalkFailed(f"{step}: HTTP {reply.status}, not a redirect")
        location = str(reply.headers["Location"])
        if step in PAGE_AFTER and location.startswith("/enroll/personal/"):
            return self.timed(PAGE_AFTER[step], "GET", location).text
        return location

    def walk(self, user_number: str, pin: str, name: str) -> None:
        self.timed(STEPS[0], "GET", "/enroll/")
        started = self.browser.request("GET", "/enroll/personal/?opnieuw=1")
        page = self.timed(STEPS[1], "GET", str(started.headers["Location"])).text
        captcha_key = _hidden(page, "gebruikersgegevens-captcha_0")
        self.timed(STEPS[2], "GET", f"/captcha/image/{captcha_key}/")
        # The portal runs with CAPTCHA_TEST_MODE, where "PASSED" is the answer to any image.
        page = self.post_step(
            STEPS[3],
            page,
            "gebruikersgegevens",
            {
                "user_number": user_number,
                "pin": pin,
                "captcha_0": captcha_key,
                "captcha_1": "PASSED",
            },
        )
        self._expect(page, "e-mailadres-email", STEPS[3])
        email = "bench@example.org"
        page = self.post_step(
            STEPS[5], page, "e-mailadres", {"email": email, "email_repeat": email}
        )
        self._expect(page, "certificaatnaam-certificate_name", STEPS[5])
        page = self.post_step(STEPS[7], page, "certificaatnaam", {"certificate_name": name})
        self._expect(page, "wachtwoord-password", STEPS[7])
        page = self.post_step(
            STEPS[9], page, "wachtwoord", {"password": PASSWORD, "password_repeat": PASSWORD}
        )
        self._expect(page, "voorwaarden-consent_certificate_use", STEPS[9])
        location = self.post_step(
            STEPS[11],
            page,
            "voorwaarden",
            {"consent_certificate_use": "on", "consent_software": "on"},
        )
        if not location.startswith("/enroll/"):
            raise WalkFailed(f"{STEPS[11]}: no redirect to the installation page")
        page = self.timed(STEPS[12], "GET", location).text
        installer = self.timed(
            STEPS[13],
            "POST",
            location + "installer/",
            {"platform": "linux", "csrfmiddlewaretoken": _hidden(page, "csrfmiddlewaretoken")},
        )
        if b"INSTALL_CODE=" not in installer.body:
            raise WalkFailed(f"{STEPS[13]}: not an installer")

    @staticmethod
    def _expect(page: str, field: str, step: str) -> None:
        if f'name="{field}"' not in page:
            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', page)
            raise WalkFailed(f"{step}: the next step did not come ({'; '.join(errors)[:200]})")


def argon2_milliseconds(samples: int = 20) -> float:
    """One PIN check's hash alone, no load: the floor under the two steps that hash."""
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        check_password(PASSWORD, encoded)
        times.append(time.perf_counter() - started)
    return percentile(times, 0.50) * 1000


def wizard_load(
    stack: Stack, users: int, walks_per_user: int, think_seconds: float
) -> dict[str, Any]:
    from django.utils import timezone

    from enrollment.models import Holder, Organisation, PolicyDocument

    PolicyDocument.objects.get_or_create(
        version="bench",
        defaults={"title": "CP/CPS", "body": "Bench policy.", "published_at": timezone.now()},
    )
    organisation, _ = Organisation.objects.get_or_create(name="Bench wizard")
    credentials = [
        Holder.objects.issue(
            display_name=f"W. Bench {n}", organisation=organisation, contact_email="w@example.org"
        )
        for n in range(users * walks_per_user)
    ]
    times: dict[str, list[tuple[float, float]]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def user(index: int) -> None:
        for walk in range(walks_per_user):
            holder, pin = credentials[index * walks_per_user + walk]
            try:
                Walker(stack.port, times, lock, think_seconds).walk(
                    holder.user_number, pin, f"W{walk}"
                )
            except Exception as failure:  # every failure counts; the walk goes on
                with lock:
                    errors.append(str(failure))

    seconds = run_concurrently(user, users)
    return {
        "users": users,
        "walks": users * walks_per_user,
        "seconds": seconds,
        "errors": len(errors),
        "argon2_ms": argon2_milliseconds(),
        "first_errors": errors[:5],
        "steps": {
            step: {
                "count": len(times[step]),
                "p50_ms": percentile([server for server, _ in times[step]], 0.50) * 1000,
                "p95_ms": percentile([server for server, _ in times[step]], 0.95) * 1000,
                "client_p95_ms": percentile([client for _, client in times[step]], 0.95) * 1000,
            }
            for step in [*STEPS, BARE]
        },
    }
