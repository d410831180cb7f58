"""The 14-digit user number: 13 random digits and a Luhn check digit.

The check digit catches every single mistyped digit and almost every swap of two adjacent
digits, so the wizard can reject a typo before it costs the holder a PIN attempt.
"""

from __future__ import annotations

import secrets

LENGTH = 14


def luhn_check_digit(payload: str) -> str:
    total = 0
    # Doubling starts with the right-most payload digit, the one next to the check digit.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid(number: str) -> bool:
    return (
        len(number) == LENGTH
        and number.isascii()
        and number.isdigit()
        and luhn_check_digit(number[:-1]) == number[-1]
    )


def generate() -> str:
    payload = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(LENGTH - 2)
    )
    return payload + luhn_check_digit(payload)


def normalise(raw: str) -> str:
    """Accept the number as people copy it from an e-mail: with spaces, dots or dashes."""
    return "".join(ch for ch in raw if ch not in " .-\u00a0\t")
