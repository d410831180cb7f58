"""The certificate authority's records: CAs, orders, certificates, CRLs, OCSP responders.

One module per concern, each with its choices, its queryset and manager, and its model:
:mod:`~ca.models.authorities`, :mod:`~ca.models.orders`, :mod:`~ca.models.certificates`
and :mod:`~ca.models.publication`. Import the models from here.
"""

from ca.models.authorities import (
    CaKind,
    CertificateAuthority,
    CertificateAuthorityManager,
    CertificateAuthorityQuerySet,
)
from ca.models.certificates import Certificate, CertificateQuerySet, RevocationReason
from ca.models.orders import Order, OrderManager, OrderQuerySet, OrderStatus
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
