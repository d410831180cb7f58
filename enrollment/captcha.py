"""Challenge for django-simple-captcha: six digits, as the seed's example "699828" shows."""

import secrets


def six_digit_challenge() -> tuple[str, str]:
    digits = "".join(secrets.choice("0123456789") for _ in range(6))
    return digits, digits
