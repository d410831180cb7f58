"""The certificate authority (CA): hierarchy, keys, profiles, signing, revocation, audit.

Interface for the registration authority and the site:

- ``ca.csr_policy.check_csr(data) -> AcceptedCsr`` / ``CsrRejected(code)``: the CSR policy.
- ``ca.services.order_certificate(enrollment, csr_bytes, actor=, client_address=) -> Order``:
  check the CSR and record an order; the Celery task ``ca.sign_order(order_id)`` is queued
  when the transaction commits.
- ``ca.services.revoke_holder_certificates(holder, reason, actor=)`` and
  ``release_holder_certificates``; or send ``enrollment.signals.holder_blocked`` / ``holder_unblocked``.
- ``Certificate.revoke(reason, actor=, client_address=)``; ``AuditEntry.objects.record(...)``.
- URLs (``ca/urls.py``): ``/ca/`` (download page), ``/ca/<slug>.crt|.pem``,
  ``/crl/<slug>.crl|.pem``, ``/ocsp`` (POST) and ``/ocsp/<base64>`` (GET).
- Commands: ``init_ca [--rollover]``, ``verify_audit_log``.
"""
