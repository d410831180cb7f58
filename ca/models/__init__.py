"""The certificate authority's records: CAs, orders, certificates, CRLs, OCSP responders.

One module per concern: :mod:`~ca.models.authorities`, :mod:`~ca.models.orders`,
:mod:`~ca.models.certificates` and :mod:`~ca.models.publication`. Their fields' choices are
in :mod:`ca.choices`, their querysets and managers in :mod:`ca.managers` (which names the
models only for type checking). Import them all from here.
"""

from ca.choices import CaKind, OrderStatus, RevocationReason
from ca.managers.authorities import CertificateAuthorityManager, CertificateAuthorityQuerySet
from ca.managers.certificates import CertificateQuerySet
from ca.managers.orders import OrderManager, OrderQuerySet
from ca.models.authorities import CertificateAuthority
from ca.models.certificates import Certificate
from ca.models.orders import Order
from ca.models.publication import OcspResponder, RevocationList

__all__ = [
    "CaKind",
    "Certificate",
    "CertificateAuthority",
    "CertificateAuthorityManager",
    "CertificateAuthorityQuerySet",
    "CertificateQuerySet",
    "OcspResponder",
    "Order",
    "OrderManager",
    "OrderQuerySet",
    "OrderStatus",
    "RevocationList",
    "RevocationReason",
]
