"""How passwords and PINs are hashed at rest."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended configuration: 19 MiB of memory, 2 passes, 1 lane.

    Memory-hard, so a leaked hash costs an attacker 19 MiB per guess on a GPU, at about
    25 ms per hash on the project's machine, where Django's default (PBKDF2, 1,000,000
    rounds) costs about 180 ms of CPU: the PIN and password steps stay fast under load.
    Same algorithm name as Django's hasher, so hashes made with other parameters are
    still verified and upgraded at the next successful check.
    """

    time_cost = 2
    memory_cost = 19 * 1024
    parallelism = 1
