"""The key interface: key types, a signing key (software or HSM) and a key backend.

A module of its own so that the backends (:mod:`ca.keys.files`, :mod:`ca.keys.pkcs11`)
can build on it while :mod:`ca.keys`, which chooses and caches them, imports them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.core.exceptions import ImproperlyConfigured

#: The key types the portal creates for itself (CA, OCSP responder) and how it signs with them.
KEY_TYPES = ("rsa2048", "rsa3072", "rsa4096", "p256", "p384")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeysUnavailable(ImproperlyConfigured):
    """This process may not or cannot use CA keys (web tier, missing passphrase, no token)."""


@dataclass(frozen=True)
class KeySpec:
    """A key type: ``rsa2048``/``rsa3072``/``rsa4096`` or ``p256``/``p384``."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in KEY_TYPES:
            raise ValueError(f"unknown key type {self.name!r}; use one of {', '.join(KEY_TYPES)}")

    @property
    def is_rsa(self) -> bool:
        return self.name.startswith("rsa")

    @property
    def rsa_bits(self) -> int:
        return int(self.name[3:])

    @property
    def curve(self) -> ec.EllipticCurve:
        return ec.SECP256R1() if self.name == "p256" else ec.SECP384R1()

    def hash_algorithm(self) -> hashes.SHA256 | hashes.SHA384:
        # SHA-384 pairs with P-384 (equal strength); RSA up to 4096 bits is fine with SHA-256,
        # which every relying party supports.
        return hashes.SHA384() if self.name == "p384" else hashes.SHA256()

    def generate_software_key(self) -> PrivateKey:
        if self.is_rsa:
            return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)
        return ec.generate_private_key(self.curve)

    @classmethod
    def of(cls, public_key: PublicKey) -> KeySpec:
        if isinstance(public_key, rsa.RSAPublicKey):
            return cls(f"rsa{public_key.key_size}")
        return cls("p256" if public_key.curve.name == "secp256r1" else "p384")


class SigningKey(ABC):
    """A private key that can sign but need not be readable (an HSM key is not)."""

    @abstractmethod
    def public_key(self) -> PublicKey: ...

    @abstractmethod
    def sign(self, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        """Sign ``data`` with PKCS#1 v1.5 (RSA) or ECDSA (DER-encoded signature)."""

    @property
    def spec(self) -> KeySpec:
        return KeySpec.of(self.public_key())


class SoftwareKey(SigningKey):
    def __init__(self, private_key: PrivateKey) -> None:
        self.private_key = private_key

    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return self.private_key.sign(data, padding.PKCS1v15(), algorithm)
        return self.private_key.sign(data, ec.ECDSA(algorithm))


class KeyBackend(ABC):
    name: str

    @abstractmethod
    def exists(self, ref: str) -> bool: ...

    @abstractmethod
    def generate(self, ref: str, spec: KeySpec) -> SigningKey:
        """Create and store a new key under ``ref``; never replaces an existing one."""

    @abstractmethod
    def load(self, ref: str, *, generated_here: bool) -> SigningKey:
        """Open the key ``ref``. ``generated_here`` allows skipping RSA re-validation."""
