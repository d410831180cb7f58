"""Public CA endpoints: certificate downloads, CRLs, OCSP. None of them needs a private key."""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from ca import ocsp
from ca.models import CertificateAuthority

DER_TYPES = {"crt": "application/pkix-cert", "crl": "application/pkix-crl"}


@require_GET
def certificates(request: HttpRequest) -> HttpResponse:
    authorities = CertificateAuthority.objects.serving().order_by("kind", "-created_at")
    return render(request, "ca/certificates.html", {"authorities": authorities})


@require_GET
@cache_control(public=True, max_age=3600)
def certificate(request: HttpRequest, slug: str, extension: str) -> HttpResponse:
    ca = get_object_or_404(CertificateAuthority, slug=slug)
    if extension == "pem":
        return _download(ca.pem.encode(), "application/x-pem-file", f"{slug}.pem")
    return _download(bytes(ca.certificate_der), DER_TYPES["crt"], f"{slug}.crt")


@require_GET
@cache_control(public=True, max_age=300)
def crl(request: HttpRequest, slug: str, extension: str) -> HttpResponse:
    ca = get_object_or_404(CertificateAuthority, slug=slug)
    latest = ca.latest_crl()
    if latest is None:
        raise Http404("no CRL published yet")
    if extension == "pem":
        pem = x509.load_der_x509_crl(bytes(latest.der)).public_bytes(serialization.Encoding.PEM)
        return _download(pem, "application/x-pem-file", f"{slug}.crl.pem")
    return _download(bytes(latest.der), DER_TYPES["crl"], f"{slug}.crl")


def _download(body: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _ocsp_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="application/ocsp-response")
    response["Cache-Control"] = "no-cache"
    return response


@csrf_exempt  # RFC 6960 clients POST binary requests; nothing here depends on a session
@require_http_methods(["POST"])
def ocsp_post(request: HttpRequest) -> HttpResponse:
    return _ocsp_response(ocsp.answer(request.body[: ocsp.MAX_REQUEST_BYTES + 1]))


@require_GET
def ocsp_get(request: HttpRequest, encoded: str) -> HttpResponse:
    # RFC 6960 appendix A.1: the DER request, base64, URL-encoded, as the last path segment.
    try:
        request_der = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        request_der = b""
    return _ocsp_response(ocsp.answer(request_der))
