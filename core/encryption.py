"""Secrets at rest: one Fernet key per purpose, each derived from SECRET_KEY (imports no app).

A key per purpose (HKDF's info) keeps one kind of ciphertext from being accepted as another.
Rotating SECRET_KEY makes what was encrypted unreadable; callers treat that as "gone".
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def fernet(purpose: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))
