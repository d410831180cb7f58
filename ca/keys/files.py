"""CA keys as passphrase-encrypted PKCS#8 PEM files in ``CA_KEY_DIR``."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from ca.keys.base import KeyBackend, KeySpec, KeysUnavailable, SigningKey, SoftwareKey

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class FileKeyBackend(KeyBackend):
    name = "file"

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        self.directory = directory
        self.passphrase = passphrase

    @classmethod
    def from_settings(cls) -> FileKeyBackend:
        if not settings.CA_KEY_DIR:
            raise KeysUnavailable("CA_KEY_DIR is not set in this (worker) process")
        directory = Path(settings.CA_KEY_DIR)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        passphrase = settings.CA_KEY_PASSPHRASE
        if not passphrase:
            if settings.PRODUCTION:
                raise KeysUnavailable("CA_KEY_PASSPHRASE (or CA_KEY_PASSPHRASE_FILE) is not set")
            passphrase = _development_passphrase(directory)
        return cls(directory, passphrase.encode())

    def path(self, ref: str) -> Path:
        if not _REF.match(ref):
            raise ValueError(f"bad key reference {ref!r}")
        return self.directory / f"{ref}.key.pem"

    def exists(self, ref: str) -> bool:
        return self.path(ref).exists()

    def generate(self, ref: str, spec: KeySpec) -> SigningKey:
        private_key = spec.generate_software_key()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.passphrase),
        )
        _write_new_secret_file(self.path(ref), pem)
        return SoftwareKey(private_key)

    def load(self, ref: str, *, generated_here: bool) -> SoftwareKey:
        try:
            data = self.path(ref).read_bytes()
        except OSError as exc:
            raise KeysUnavailable(f"CA key {ref!r} cannot be read: {exc}") from None
        # The RSA consistency check costs ~115 ms per load; a key this portal generated and
        # wrote itself was sound when written, so the check is only kept for imported keys.
        private_key = serialization.load_pem_private_key(
            data, self.passphrase, unsafe_skip_rsa_key_validation=generated_here
        )
        if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise KeysUnavailable(f"CA key {ref!r} is neither RSA nor ECDSA")
        return SoftwareKey(private_key)


def _write_new_secret_file(path: Path, data: bytes) -> None:
    # O_EXCL: a key file is never overwritten, not even by a second init_ca racing this one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _development_passphrase(directory: Path) -> str:
    path = directory / "passphrase"
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            _write_new_secret_file(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()
