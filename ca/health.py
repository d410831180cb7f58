"""The CA's part of /healthz: answerable by the web tier (database only, no key)."""

from __future__ import annotations

from django.utils import timezone

from ca.models import CertificateAuthority


def ca_status() -> str:
    """``ok``, ``missing`` (no issuing CA: run init_ca), ``expired`` or ``crl_stale``.

    ``crl_stale`` means a serving CA's newest CRL is past its nextUpdate: the worker or beat
    has not refreshed it, so relying parties will soon refuse our certificates.
    """
    now = timezone.now()
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None:
        return "missing"
    if issuing.not_after <= now:
        return "expired"
    for ca in CertificateAuthority.objects.serving():
        latest = ca.latest_crl()
        if latest is None or latest.next_update <= now:
            return "crl_stale"
    return "ok"
