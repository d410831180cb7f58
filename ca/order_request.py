"""What the registration authority sends when it orders a certificate (through ca.interface)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ca.csr_policy import AcceptedCsr


@dataclass(frozen=True)
class Subject:
    """The subject data as the RA has it when ordering; the CA builds the certificate's
    subject from these and nothing the CSR says (ca.profiles.subject_for)."""

    certificate_name: str
    display_name: str
    user_number: str
    organisation: str


@dataclass(frozen=True)
class OrderRequest:
    """One certificate for one RA record.

    ``reference``: the RA's name for what the certificate is for (one live order and one
    certificate per reference); the CA's signals report under it. ``holder``: the RA's name
    for the holder, under which ``revoke_holder_certificates`` finds all their certificates.
    ``profile``: a profile *name* (ca.profiles.PROFILES); the CA decides what it contains.
    """

    reference: uuid.UUID
    holder: str
    profile: str
    csr: AcceptedCsr
    subject: Subject
