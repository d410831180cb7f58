"""Pre-issuance linting with pkilint's RFC 5280 validators, built once per process."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pkilint import loader, pkix
from pkilint.pkix import certificate, crl, extension, name
from pkilint.validation import ValidationFindingSeverity

# Findings at this severity or worse stop issuance (FATAL < ERROR < WARNING in pkilint).
BLOCKING = ValidationFindingSeverity.WARNING

_lock = threading.Lock()
_validators: dict[str, Any] = {}


@dataclass(frozen=True)
class Finding:
    severity: str
    code: str
    where: str

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {self.where}"


def _certificate_validator() -> Any:
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(
            name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS
        ),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


def _crl_validator() -> Any:
    return crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([]),
            crl.create_extensions_validator_container([]),
        ],
    )


def _validator(kind: str) -> Any:
    with _lock:
        if kind not in _validators:
            _validators[kind] = (
                _certificate_validator() if kind == "certificate" else _crl_validator()
            )
        return _validators[kind]


def _findings(results: Any) -> list[Finding]:
    found = []
    for result in results:
        for description in result.finding_descriptions:
            if description.finding.severity <= BLOCKING:
                found.append(
                    Finding(
                        description.finding.severity.name,
                        description.finding.code,
                        result.node.path,
                    )
                )
    return found


def lint_certificate(der: bytes) -> list[Finding]:
    """Findings of WARNING or worse for a DER certificate; empty means it may be issued."""
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    return _findings(_validator("certificate").validate(document.root))


def lint_crl(der: bytes) -> list[Finding]:
    document = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    return _findings(_validator("crl").validate(document.root))


__all__ = ["BLOCKING", "Finding", "lint_certificate", "lint_crl"]
