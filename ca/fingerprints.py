"""Fingerprints of DER objects as the portal stores and shows them."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def colon_hex(hex_digest: str) -> str:
    """``AB:CD:…``, the way browsers and ``openssl x509 -fingerprint`` show fingerprints."""
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()
