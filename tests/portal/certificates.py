"""Holders with a certificate signed by the portal, for the site's tests."""

from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509

from ca.models import CertificateAuthority
from enrollment.models import Enrollment, Holder
from tests.fixtures.ca import certificate_of, fixture_bytes, order_for


@pytest.fixture
def issue(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., x509.Certificate]:
    def make(holder: Holder) -> x509.Certificate:
        enrollment = make_enrollment(kind=holder.kind, holder=holder)
        with django_capture_on_commit_callbacks(execute=True):
            order_for(enrollment, fixture_bytes("p256.pem"))
        return certificate_of(enrollment).certificate

    return make
