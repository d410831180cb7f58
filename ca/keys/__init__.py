"""Access to CA private keys behind a small interface, so an HSM can replace the key files.

Only worker processes sign (``CA_ROLE`` worker or all); :func:`get_backend` refuses to hand a
key backend to a web process, so a mistake in a view cannot load a CA key there.

Keys are loaded once per process and kept: loading an RSA-3072 key with full validation takes
about 115 ms against about 1 ms for a signature (docs: notes/cryptography-performance.md). The
cache is emptied in a child after ``fork()``: Celery's prefork pool forks the worker processes,
and a PKCS#11 session must never be shared across a fork.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

from ca.keys.base import (
    KEY_TYPES,
    KeyBackend,
    KeySpec,
    KeysUnavailable,
    PrivateKey,
    PublicKey,
    SigningKey,
    SoftwareKey,
)
from ca.keys.files import FileKeyBackend

__all__ = [
    "KEY_TYPES",
    "KeyBackend",
    "KeySpec",
    "KeysUnavailable",
    "PrivateKey",
    "PublicKey",
    "SigningKey",
    "SoftwareKey",
    "get_backend",
    "load_key",
    "reset_for_tests",
    "signing_allowed",
]

_cache_lock = threading.Lock()
_backends: dict[str, KeyBackend] = {}
_keys: dict[tuple[str, str], SigningKey] = {}


def _forget_after_fork() -> None:
    _backends.clear()
    _keys.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def signing_allowed() -> bool:
    return settings.CA_ROLE in {"worker", "all"}


def get_backend(name: str | None = None) -> KeyBackend:
    if not signing_allowed():
        raise KeysUnavailable("CA_ROLE=web: this process never uses CA private keys")
    name = name or settings.CA_KEY_BACKEND
    with _cache_lock:
        backend = _backends.get(name)
        if backend is None:
            backend = _make_backend(name)
            _backends[name] = backend
        return backend


def _make_backend(name: str) -> KeyBackend:
    if name == "file":
        return FileKeyBackend.from_settings()
    if name == "pkcs11":
        # Imported only where CA_KEY_BACKEND is pkcs11: python-pkcs11 and asn1crypto take
        # ~40 ms to import, and the web tier and file-key workers never need them.
        from ca.keys.pkcs11 import Pkcs11KeyBackend

        return Pkcs11KeyBackend.from_settings()
    raise KeysUnavailable(f"unknown CA_KEY_BACKEND {name!r}; use file or pkcs11")


def load_key(backend_name: str, ref: str, *, generated_here: bool) -> SigningKey:
    """The key ``ref`` of a backend, loaded at most once per process."""
    cache_key = (backend_name, ref)
    key = _keys.get(cache_key)
    if key is None:
        key = get_backend(backend_name).load(ref, generated_here=generated_here)
        with _cache_lock:
            _keys[cache_key] = key
    return key


def reset_for_tests() -> None:
    """Forget backends and keys (tests switch key directories and tokens)."""
    with _cache_lock:
        _forget_after_fork()
