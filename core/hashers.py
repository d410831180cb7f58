"""How passwords and PINs are hashed at rest."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended memory and passes (19 MiB, 2), in 2 lanes.

    Memory-hard, so a leaked hash costs an attacker 19 MiB per guess on a GPU; about 15 ms
    of CPU per hash on the project's machine, where Django's default (PBKDF2, 1,000,000
    rounds) costs about 180 ms. Two lanes are filled by two threads (argon2-cffi releases
    the GIL), so a PIN or password check takes about 10 ms when a second core is free, and
    costs an attacker the same memory and work as one lane. Same algorithm name as Django's
    hasher, so hashes made with other parameters are still verified and upgraded at the
    next successful check.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 2
