"""The installer API's contract: error codes and the OpenAPI 3.1 document at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ca.interface import CSR_ERRORS
from core.api_errors import HTTP_ERRORS

API_ERRORS: dict[str, Promise] = {
    "install_code_unknown": _("This install code is not known. Download the installer again."),
    "install_code_replaced": _("A newer installer was downloaded; use that one."),
    "install_code_expired": _("This installer has expired. Ask your contact person for a new PIN."),
    "holder_blocked": _(
        "This user number is blocked. Your contact person or the portal's registration desk "
        "can tell you why and unblock it."
    ),
    "rate_limited": _("Too many requests. Wait a minute and try again."),
    "order_in_progress": _(
        "A certificate is already being made for another key of this enrollment."
    ),
    "already_issued": _("The certificate of this enrollment was issued for another key."),
    "not_issued": _("The certificate has not been issued yet."),
    "unknown_format": _("Unknown format; see the API description for the formats."),
    "invalid_wait": _("wait must be a whole number of seconds within the documented maximum."),
    "invalid_since": _("since must be one of the statuses of the API description."),
    "no_client_certificate": _("No client certificate was presented."),
    "client_certificate_invalid": _("The client certificate was not accepted."),
    "certificate_unknown": _("This certificate was not issued by this portal."),
    "certificate_revoked": _("This certificate has been revoked."),
}


class _Messages(dict[str, str]):
    """Error messages in the language of the request (evaluated on lookup)."""

    def __getitem__(self, code: str) -> str:
        return str({**CSR_ERRORS, **API_ERRORS, **HTTP_ERRORS}[code])


ERROR_MESSAGES = _Messages()
# HTTP_ERRORS: what any path under the API's prefixes may answer (core.api_errors).
ALL_ERROR_CODES = sorted({*CSR_ERRORS, *API_ERRORS, *HTTP_ERRORS})
STATUSES = [
    "waiting_for_csr",
    "csr_received",
    "signing",
    "issued",
    "installed",
    "failed",
    "expired",
]


def _error_response(description: str, codes: list[str]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [{"$ref": "#/components/schemas/Error"}],
                    "properties": {"code": {"enum": codes}},
                }
            }
        },
    }


AUTH_ERRORS = {
    "401": _error_response(
        "The install code is unknown or was replaced",
        ["install_code_unknown", "install_code_replaced"],
    ),
    "400": _error_response("Unknown format", ["unknown_format"]),
    "403": _error_response("The holder is blocked", ["holder_blocked"]),
    "410": _error_response("The enrollment expired", ["install_code_expired"]),
    "429": _error_response("Too many requests for this code or address", ["rate_limited"]),
}

STATUS_RESPONSE = {
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Status"}},
        "text/plain": {"schema": {"type": "string", "description": "key=value lines"}},
    }
}
# Every operation may answer these (core.api_errors, core.outages); where an operation
# has a response of that status already, its codes are added to that response's.
GENERIC_ERRORS: dict[str, tuple[str, list[str]]] = {
    "400": ("The request could not be processed", ["bad_request"]),
    "404": ("No such path", ["not_found"]),
    "405": ("The path does not take this method; Allow lists those it takes", ["method_not_allowed"]),
    "413": ("The request is too large", ["request_too_large"]),
    "414": ("The address (path and query) is too long", ["uri_too_long"]),
    "503": ("Redis or the database is down; send the request again after Retry-After", ["service_unavailable"]),
}  # fmt: skip
REQUIRED_HEADERS: dict[str, dict[str, Any]] = {
    "405": {"Allow": {"required": True, "schema": {"type": "string"}}},
    "429": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
    "503": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
}


def _with_generic_errors(responses: dict[str, Any]) -> dict[str, Any]:
    merged = dict(responses)
    for status, (description, codes) in GENERIC_ERRORS.items():
        if status in merged:
            own = merged[status]
            schema = own["content"]["application/json"]["schema"]
            description = own["description"]
            codes = [*schema["properties"]["code"]["enum"], *codes]
        merged[status] = _error_response(description, codes)
    for status, headers in REQUIRED_HEADERS.items():
        if status in merged:
            merged[status] = {**merged[status], "headers": headers}
    return merged


FORMAT_PARAMETER = {
    "name": "format",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "enum": ["json", "text"]},
}


def openapi_document(server_url: str) -> dict[str, Any]:
    csr_codes = sorted(CSR_ERRORS)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Certificaatportaal installer API",
            "version": "1.0.0",
            "description": "Used by the installers downloaded at step 7. Authenticate with the "
            "install code as a bearer token. Errors are JSON with a stable code (the Error "
            "schema), as are the errors of /ocsp, /captcha/ and /.well-known/est/. 429 and 503 "
            "carry Retry-After: wait that many seconds, then send the request again.",
        },
        "servers": [{"url": server_url}],
        "security": [{"installCode": []}],
        "paths": {
            "/api/v1/csr": {
                "post": {
                    "operationId": "submitCsr",
                    "summary": "Submit the certificate request (PKCS#10, PEM or DER, at most 16 KiB)",
                    "parameters": [FORMAT_PARAMETER],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/pkcs10": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                            "application/x-pem-file": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Replay of an issued request for the same key",
                            **STATUS_RESPONSE,
                        },
                        "202": {"description": "Accepted; poll the status", **STATUS_RESPONSE},
                        "409": _error_response(
                            "Another key was already submitted",
                            ["order_in_progress", "already_issued"],
                        ),
                        "413": _error_response("The request is too large", ["csr_too_large"]),
                        "422": _error_response(
                            "The request is refused by the CSR policy",
                            [c for c in csr_codes if c != "csr_too_large"],
                        ),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/status": {
                "get": {
                    "operationId": "getStatus",
                    "summary": "The enrollment's progress",
                    "description": "With wait, the answer comes as soon as the status differs "
                    "from since (without since: as soon as no order is in progress), or after "
                    "wait seconds with the unchanged status.",
                    "parameters": [
                        FORMAT_PARAMETER,
                        {
                            "name": "wait",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 0,
                                "maximum": settings.API_STATUS_MAX_WAIT,
                                "default": 0,
                            },
                        },
                        {
                            "name": "since",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": STATUSES},
                        },
                    ],
                    "responses": {
                        "200": {"description": "The progress", **STATUS_RESPONSE},
                        **AUTH_ERRORS,
                        "400": _error_response(
                            "Unknown format, or a wrong wait or since",
                            ["unknown_format", "invalid_wait", "invalid_since"],
                        ),
                    },
                }
            },
            "/api/v1/certificate": {
                "get": {
                    "operationId": "getCertificate",
                    "summary": "The issued certificate with its chain",
                    "parameters": [
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["pem", "p7b"], "default": "pem"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "PEM: certificate and issuing CA; PKCS#7: also the root",
                            "content": {
                                "application/pem-certificate-chain": {"schema": {"type": "string"}},
                                "application/pkcs7-mime": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                            },
                        },
                        "404": _error_response("Not issued yet", ["not_issued"]),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/api/v1/tls-check": {
                "get": {
                    "operationId": "checkInstalledCertificate",
                    "summary": "Called over mutual TLS with the new certificate; confirms the installation",
                    "security": [{"clientCertificate": []}],
                    "parameters": [FORMAT_PARAMETER],
                    "responses": {
                        "200": {"description": "Installation confirmed", **STATUS_RESPONSE},
                        "401": _error_response(
                            "No valid client certificate",
                            ["no_client_certificate", "client_certificate_invalid"],
                        ),
                        "400": _error_response("Unknown format", ["unknown_format"]),
                        "403": _error_response(
                            "Not a certificate of this portal, or revoked",
                            ["certificate_unknown", "certificate_revoked"],
                        ),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "installCode": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The install code",
                },
                "clientCertificate": {"type": "mutualTLS"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": ALL_ERROR_CODES},
                        "message": {"type": "string"},
                    },
                },
                "Status": {
                    "type": "object",
                    "required": ["status", "certificate_name"],
                    "properties": {
                        "status": {"type": "string", "enum": STATUSES},
                        "certificate_name": {"type": "string", "maxLength": 7},
                        "error_code": {"type": ["string", "null"]},
                        "sha1": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                        "serial": {"type": "string"},
                    },
                },
            },
        },
    }
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"] = _with_generic_errors(operation["responses"])
    return document
