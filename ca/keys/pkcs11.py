"""CA keys in an HSM through PKCS#11 (python-pkcs11); tested with SoftHSM2.

Keys are generated on the token as sensitive, non-extractable objects and only ever used
through the token's sign operation, so the private key never leaves the HSM. The session is
opened lazily in the process that signs: the key cache in :mod:`ca.keys` is emptied after a
fork, so a Celery pool process opens its own session and never inherits its parent's.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pkcs11
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from ca.keys.base import KeyBackend, KeySpec, KeysUnavailable, PublicKey, SigningKey

_RSA_MECHANISMS = {"sha256": Mechanism.SHA256_RSA_PKCS, "sha384": Mechanism.SHA384_RSA_PKCS}
_PRIVATE_TEMPLATE = {
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
}


_library_pids: dict[str, int] = {}


def _library(module: str) -> Any:
    """The PKCS#11 library, initialised (C_Initialize) in *this* process.

    python-pkcs11 keeps one library object per process and initialises it on first use; a
    child forked from a process that used it must initialise it again (PKCS#11 §6.7.7:
    sessions and state do not survive fork()).
    """
    library = pkcs11.lib(module)
    pid = os.getpid()
    if _library_pids.setdefault(module, pid) != pid:
        library.reinitialize()
        _library_pids[module] = pid
    return library


class Pkcs11Key(SigningKey):
    def __init__(self, private_key: Any, public_key: PublicKey, lock: threading.Lock) -> None:
        self._private_key = private_key
        self._public_key = public_key
        self._lock = lock  # a PKCS#11 session serves one operation at a time

    def public_key(self) -> PublicKey:
        return self._public_key

    def sign(self, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
        if isinstance(self._public_key, rsa.RSAPublicKey):
            with self._lock:
                return bytes(
                    self._private_key.sign(data, mechanism=_RSA_MECHANISMS[algorithm.name])
                )
        # Hash here and let the token do plain ECDSA on the digest: every token has CKM_ECDSA,
        # not all have the combined hash-and-sign mechanisms.
        digest = hashes.Hash(algorithm)
        digest.update(data)
        with self._lock:
            raw = bytes(self._private_key.sign(digest.finalize(), mechanism=Mechanism.ECDSA))
        half = len(raw) // 2
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )


class Pkcs11KeyBackend(KeyBackend):
    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        self.module = module
        self.token_label = token_label
        self.pin = pin
        self._lock = threading.Lock()
        self._session: Any = None

    @classmethod
    def from_settings(cls) -> Pkcs11KeyBackend:
        module, label, pin = (
            settings.CA_PKCS11_MODULE,
            settings.CA_PKCS11_TOKEN_LABEL,
            settings.CA_PKCS11_PIN,
        )
        if not (module and label and pin):
            raise KeysUnavailable(
                "CA_PKCS11_MODULE, CA_PKCS11_TOKEN_LABEL and CA_PKCS11_PIN are needed"
            )
        return cls(module, label, pin)

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                try:
                    token = _library(self.module).get_token(token_label=self.token_label)
                    try:
                        self._session = token.open(rw=True, user_pin=self.pin)
                    except pkcs11.UserAlreadyLoggedIn:
                        # PKCS#11 logins belong to the application, not the session: another
                        # session of this process logged in already.
                        self._session = token.open(rw=True)
                except pkcs11.PKCS11Error as exc:
                    raise KeysUnavailable(f"cannot open the PKCS#11 token: {exc!r}") from None
            return self._session

    def close(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def exists(self, ref: str) -> bool:
        found = self.session().get_objects(
            {Attribute.LABEL: ref, Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        )
        return any(True for _ in found)

    def generate(self, ref: str, spec: KeySpec) -> SigningKey:
        if self.exists(ref):
            raise KeysUnavailable(f"the token already holds a key labelled {ref!r}")
        session = self.session()
        with self._lock:
            if spec.is_rsa:
                session.generate_keypair(
                    KeyType.RSA,
                    spec.rsa_bits,
                    label=ref,
                    store=True,
                    public_template={
                        Attribute.PUBLIC_EXPONENT: b"\x01\x00\x01",
                        Attribute.TOKEN: True,
                    },
                    private_template=_PRIVATE_TEMPLATE,
                )
            else:
                parameters = session.create_domain_parameters(
                    KeyType.EC,
                    {Attribute.EC_PARAMS: encode_named_curve_parameters(spec.curve.name)},
                    local=True,
                )
                parameters.generate_keypair(
                    label=ref,
                    store=True,
                    public_template={Attribute.TOKEN: True},
                    private_template=_PRIVATE_TEMPLATE,
                )
        return self.load(ref, generated_here=True)

    def load(self, ref: str, *, generated_here: bool) -> SigningKey:
        session = self.session()
        with self._lock:
            try:
                private_key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=ref)
                public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=ref)
            except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as exc:
                raise KeysUnavailable(f"PKCS#11 key {ref!r}: {exc!r}") from None
            if public.key_type == KeyType.RSA:
                public_key: PublicKey = rsa.RSAPublicNumbers(
                    int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                    int.from_bytes(public[Attribute.MODULUS], "big"),
                ).public_key()
            else:
                loaded = serialization.load_der_public_key(encode_ec_public_key(public))
                assert isinstance(loaded, ec.EllipticCurvePublicKey)
                public_key = loaded
        return Pkcs11Key(private_key, public_key, self._lock)
