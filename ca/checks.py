"""System checks: the web tier holds no CA key material; production has its own policy OID."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ca.keys import KEY_TYPES

TEST_POLICY_ARC = "1.3.6.1.5.5.7.13."
KEY_SETTINGS = ("CA_KEY_PASSPHRASE", "CA_PKCS11_PIN", "CA_PKCS11_MODULE")


@register("ca")
def web_tier_has_no_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.CA_ROLE != "web":
        return []
    present = [name for name in KEY_SETTINGS if getattr(settings, name, None)]
    if settings.PRODUCTION and settings.CA_KEY_DIR:
        present.append("CA_KEY_DIR")
    if not present:
        return []
    return [
        Error(
            f"CA_ROLE=web but CA key material is configured: {', '.join(present)}.",
            hint="Set CA key settings (and mount the key volume or HSM) only in the worker's "
            "environment, with CA_ROLE=worker there.",
            id="ca.E001",
        )
    ]


@register("ca")
def ca_settings_valid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in ("CA_ROOT_KEY_TYPE", "CA_ISSUING_KEY_TYPE", "CA_OCSP_RESPONDER_KEY_TYPE"):
        if getattr(settings, name) not in KEY_TYPES:
            errors.append(
                Error(
                    f"{name}={getattr(settings, name)!r} is not a supported key type.",
                    hint=f"Use one of {', '.join(KEY_TYPES)}.",
                    id="ca.E002",
                )
            )
    if settings.CA_KEY_BACKEND not in {"file", "pkcs11"}:
        errors.append(
            Error(
                "CA_KEY_BACKEND must be file or pkcs11.",
                hint="Set CA_KEY_BACKEND=file.",
                id="ca.E003",
            )
        )
    if settings.CA_ROLE in {"worker", "all"} and settings.CA_KEY_BACKEND == "pkcs11":
        missing = [
            n
            for n in ("CA_PKCS11_MODULE", "CA_PKCS11_TOKEN_LABEL", "CA_PKCS11_PIN")
            if not getattr(settings, n)
        ]
        if missing:
            errors.append(
                Error(
                    f"CA_KEY_BACKEND=pkcs11 needs {', '.join(missing)}.",
                    hint="Set them (the PIN preferably as CA_PKCS11_PIN_FILE) in the worker.",
                    id="ca.E004",
                )
            )
    if (
        settings.CA_ROLE in {"worker", "all"}
        and settings.PRODUCTION
        and (not settings.CA_KEY_DIR or not settings.CA_KEY_PASSPHRASE)
    ):
        errors.append(
            Error(
                "The worker needs CA_KEY_DIR and CA_KEY_PASSPHRASE (or CA_KEY_PASSPHRASE_FILE).",
                hint="They hold the encrypted CA keys (file backend) and the OCSP responder key.",
                id="ca.E005",
            )
        )
    return errors


@register("ca", deploy=True)
def production_policy_oid(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if settings.PRODUCTION and settings.CA_POLICY_OID.startswith(TEST_POLICY_ARC):
        return [
            Warning(
                "CA_POLICY_OID is a test policy (RFC 7229).",
                hint="Set CA_POLICY_OID to a policy OID under your organisation's arc.",
                id="ca.W001",
            )
        ]
    return []


# The longest common name the CA makes from CA_NAME (ca.authority), and RFC 5280's upper
# bound for a common name (ub-common-name).
LONGEST_CA_SUFFIX = " Issuing CA 2026"
COMMON_NAME_MAX = 64


@register("ca")
def ca_name_fits_a_common_name(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    longest = len(settings.CA_NAME) + len(LONGEST_CA_SUFFIX)
    if settings.CA_NAME.strip() and longest <= COMMON_NAME_MAX:
        return []
    return [
        Error(
            f"CA_NAME must be 1 to {COMMON_NAME_MAX - len(LONGEST_CA_SUFFIX)} characters: "
            f"the CA's common names add {LONGEST_CA_SUFFIX!r} and may be at most "
            f"{COMMON_NAME_MAX} long.",
            hint="Set a shorter CA_NAME (it defaults to PORTAL_NAME).",
            id="ca.E006",
        )
    ]
