"""Typed readers for settings that come from the environment.

Each helper raises ``ImproperlyConfigured`` on a value it cannot parse, so a typo in a
deployment fails at start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_lines(name: str, default: list[str] | None = None, *, max_lines: int = 6) -> list[str]:
    """Lines separated by ``|`` (an address in one variable), e.g. ``Postbus 1|1000 AA Stad``.

    Control characters are refused: each line is printed as one line of a letter.
    """
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    lines = [line.strip() for line in raw.split("|") if line.strip()]
    if len(lines) > max_lines:
        raise ImproperlyConfigured(f"{name} has {len(lines)} lines; at most {max_lines}")
    for line in lines:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in line):
            raise ImproperlyConfigured(f"{name} contains a control character in {line!r}")
    return lines


def env_networks(
    name: str, default: list[str] | None = None
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} contains {item!r}, which is not an IP network"
            ) from None
    return networks


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read ``NAME`` or, for container secrets, the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from None
    return os.environ.get(name, default)
