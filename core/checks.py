"""System checks of the portal's own settings, with ids and hints (see README)."""

from __future__ import annotations

import re
import unicodedata
from email import errors
from email.headerregistry import AddressHeader, HeaderRegistry
from email.utils import parseaddr
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email

from core.plain_text import describe, first_forbidden


@register(Tags.caches, deploy=True)
def shared_cache_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and not settings.REDIS_URL:
        return [
            Error(
                "REDIS_URL is not set: rate limits and lockouts would be per process.",
                hint="Set REDIS_URL to the shared Redis, e.g. redis://redis:6379/0.",
                id="portal.E002",
            )
        ]
    return []


@register(Tags.database, deploy=True)
def server_database_in_production(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and not settings.DATABASE_URL:
        return [
            Error(
                "DATABASE_URL is not set: production needs PostgreSQL, not the embedded SQLite.",
                hint="Set DATABASE_URL=postgres://user@host/db.",
                id="portal.E003",
            )
        ]
    return []


# --- Values baked into artefacts -------------------------------------------------------
# PORTAL_NAME reaches mail subjects and the sender's name, PDF letters, the installers (as
# data they decode), the NSS nickname of the root CA ("NAME Root CA"; NSS reads a colon as
# "token:nickname"), the authenticator label ("NAME:user number"; the colon separates) and
# the calendar file's PRODID ("-//NAME//NL"; iCalendar text escapes ; , \ and the slashes
# delimit). So: letters, digits, single spaces and a little punctuation.
PORTAL_NAME_MAX_LENGTH = 80
PORTAL_NAME_PUNCTUATION = frozenset("'\u2019-.&()")
# PORTAL_URL is written into installers: it must need no escaping in sh nor in a Windows
# .cmd (core.escaping._CMD_SAFE), so it is held to the letters both carry as they are.
_URL_CHARACTERS = re.compile(r"\A[A-Za-z0-9._:/-]+\Z")
_HOST_LABEL = re.compile(r"\A(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def portal_name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > PORTAL_NAME_MAX_LENGTH:
        return f"it has {len(name)} characters, more than {PORTAL_NAME_MAX_LENGTH}"
    if unicodedata.normalize("NFC", name) != name:
        return "it is not in Unicode NFC form"
    if name != name.strip(" ") or "  " in name:
        return "it has spaces at either end or two in a row"
    for char in name:
        if char == " " or char in PORTAL_NAME_PUNCTUATION:
            continue
        if unicodedata.category(char)[0] not in "LMN":
            return f"it contains the character {describe(char)}"
    return None


@register("portal")
def portal_name_valid(app_configs: Any, **kwargs: Any) -> list[Error]:
    problem = portal_name_problem(settings.PORTAL_NAME)
    if problem is None:
        return []
    return [
        Error(
            f"PORTAL_NAME={settings.PORTAL_NAME[:100]!r} cannot be written into mails, letters "
            f"and installers: {problem}.",
            hint=f"Use at most {PORTAL_NAME_MAX_LENGTH} letters, digits, single spaces and "
            f"the marks {' '.join(sorted(PORTAL_NAME_PUNCTUATION))}, "
            'e.g. PORTAL_NAME="Zorgportaal \'t Gooi".',
            id="portal.E004",
        )
    ]


def portal_url_problem(url: str) -> str | None:
    if not _URL_CHARACTERS.match(url):
        bad = next((c for c in url if not _URL_CHARACTERS.match(c)), None)
        return f"it contains {describe(bad)}" if bad else "it is empty"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not url.startswith(f"{parts.scheme}://"):
        return "it does not start with http:// or https://"
    host = parts.hostname or ""
    if not host or not all(_HOST_LABEL.match(label) for label in host.split(".")):
        return "it names no valid host"
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        return "its port is not a number from 0 to 65535"
    if parts.netloc.endswith(":"):
        return "it has a colon but no port"
    if url.endswith("/"):
        return "it ends with a slash"
    if any(segment in {"", ".", ".."} for segment in parts.path.split("/")[1:]):
        return "its path has an empty, '.' or '..' segment"
    return None


@register("portal")
def portal_url_valid(app_configs: Any, **kwargs: Any) -> list[Error]:
    problem = portal_url_problem(settings.PORTAL_URL)
    if problem is None:
        return []
    return [
        Error(
            f"PORTAL_URL={settings.PORTAL_URL[:200]!r} cannot be written into installers and "
            f"certificates: {problem}.",
            hint="Use http(s)://host[:port][/path] with letters, digits and . - _ : / only, "
            "no user, query, fragment or trailing slash, e.g. PORTAL_URL=https://portaal.example.org.",
            id="portal.E005",
        )
    ]


def from_email_problem(value: str) -> str | None:
    char = first_forbidden(value)
    if char is not None:
        return f"it contains {describe(char)}"
    try:
        header = HeaderRegistry()("From", value)
        addresses = cast(AddressHeader, header).addresses
    except (ValueError, IndexError):  # the parser's errors for what it cannot read at all
        return "it cannot be parsed as an address"
    defects = [d for d in header.defects if not isinstance(d, errors.ObsoleteHeaderDefect)]
    if len(addresses) != 1 or defects:
        return "it is not one address (a name with , ; : or @ must be in double quotes)"
    _name, address = parseaddr(value)
    try:
        validate_email(address)
        sanitize_address(value, "utf-8")
    except (ValidationError, ValueError):
        return f"{address!r} is not a valid e-mail address"
    return None


@register("portal")
def from_email_valid(app_configs: Any, **kwargs: Any) -> list[Error]:
    problem = from_email_problem(settings.DEFAULT_FROM_EMAIL)
    if problem is None:
        return []
    return [
        Error(
            f"DEFAULT_FROM_EMAIL={settings.DEFAULT_FROM_EMAIL[:200]!r} cannot be a mail's "
            f"sender: {problem}.",
            hint='Use an address, optionally with a name: DEFAULT_FROM_EMAIL="Zorgportaal '
            "'t Gooi <noreply@portaal.example.org>\" (quote the name if it has , ; : @ or .).",
            id="portal.E006",
        )
    ]


# --- Only nginx vouches for a client certificate ----------------------------------------
# What web believes from a TRUSTED_PROXIES address: the client's address and its verified
# certificate (core.client_address.from_trusted_proxy). In compose that network is shared
# with every web container and the host's gateway, so the address alone vouches for nothing;
# the secret nginx sends does. The alphabet is what deploy/nginx/proxy-secret.sh accepts
# (hex or base64url): anything else could end nginx's quoted string.
PROXY_SECRET_MIN_LENGTH = 32
PROXY_SECRET_MAX_LENGTH = 256
_PROXY_SECRET_CHARACTERS = re.compile(r"\A[A-Za-z0-9_-]*\Z")
# Wider than this, a network holds more than the one nginx and the web containers behind it.
PROXY_NETWORK_MIN_PREFIX = {4: 24, 6: 64}
_EDGE_HINT = (
    "Give nginx and web the same secret file, e.g. `openssl rand -hex 32 > "
    "secrets/proxy_secret` (docker-compose.yml passes it as PROXY_SECRET_FILE); "
    "see docs/operations-edge.md."
)


@register("portal")
def proxy_secret_required(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.PRODUCTION and settings.TRUSTED_PROXIES and not settings.PROXY_SECRET:
        return [
            Error(
                "TRUSTED_PROXIES is set but PROXY_SECRET is not: any process at those addresses "
                "(another container on nginx's network, the Docker host) could claim a "
                "holder's client certificate and any client address.",
                hint=_EDGE_HINT,
                id="portal.E010",
            )
        ]
    return []


def proxy_secret_problem(secret: str) -> str | None:
    if not _PROXY_SECRET_CHARACTERS.match(secret):
        bad = next(c for c in secret if not _PROXY_SECRET_CHARACTERS.match(c))
        return f"it contains {describe(bad)}"
    if len(secret) < PROXY_SECRET_MIN_LENGTH:
        return f"it has {len(secret)} characters, fewer than {PROXY_SECRET_MIN_LENGTH}"
    if len(secret) > PROXY_SECRET_MAX_LENGTH:
        return f"it has {len(secret)} characters, more than {PROXY_SECRET_MAX_LENGTH}"
    return None


@register("portal")
def proxy_secret_valid(app_configs: Any, **kwargs: Any) -> list[Error]:
    if not settings.PROXY_SECRET:
        return []
    problem = proxy_secret_problem(settings.PROXY_SECRET)
    if problem is None:
        return []
    # Never the value: check output ends up in logs.
    return [
        Error(
            f"PROXY_SECRET cannot be the secret nginx sends: {problem}.",
            hint=f"Use {PROXY_SECRET_MIN_LENGTH} to {PROXY_SECRET_MAX_LENGTH} characters of "
            f"A-Z a-z 0-9 _ - (hex or base64url). {_EDGE_HINT}",
            id="portal.E011",
        )
    ]


@register("portal")
def trusted_proxies_narrow(app_configs: Any, **kwargs: Any) -> list[Warning]:
    wide = [
        str(network)
        for network in settings.TRUSTED_PROXIES
        if network.prefixlen < PROXY_NETWORK_MIN_PREFIX[network.version]
    ]
    if not wide:
        return []
    return [
        Warning(
            f"TRUSTED_PROXIES contains {', '.join(wide)}: every address there may name "
            "clients and their certificates (with the proxy secret).",
            hint="List only nginx's network: at most /24 for IPv4 and /64 for IPv6, e.g. "
            "TRUSTED_PROXIES=172.28.1.0/24 (EDGE_SUBNET in docker-compose.yml).",
            id="portal.W010",
        )
    ]


@register("portal")
def proxy_secret_without_proxies(app_configs: Any, **kwargs: Any) -> list[Warning]:
    if settings.PROXY_SECRET and not settings.TRUSTED_PROXIES:
        return [
            Warning(
                "PROXY_SECRET is set but TRUSTED_PROXIES is empty: no request is believed to "
                "come from nginx, so certificate login and the system API refuse everyone.",
                hint="Set TRUSTED_PROXIES to nginx's network, e.g. 172.28.1.0/24.",
                id="portal.W011",
            )
        ]
    return []


@register("portal")
def https_redirect_without_proxies(app_configs: Any, **kwargs: Any) -> list[Warning]:
    # X-Forwarded-Proto is believed from TRUSTED_PROXIES only (core.client_address).
    if settings.SECURE_SSL_REDIRECT and not settings.TRUSTED_PROXIES:
        return [
            Warning(
                "SECURE_SSL_REDIRECT is on but TRUSTED_PROXIES is empty: behind nginx every "
                "request looks like plain HTTP and is redirected to HTTPS again and again.",
                hint="Set TRUSTED_PROXIES to nginx's network, e.g. 172.28.1.0/24.",
                id="portal.W012",
            )
        ]
    return []
