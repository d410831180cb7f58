"""The certificate authority (CA): hierarchy, keys, profiles, signing, revocation, CRL, OCSP.

The registration authority and the site use ``ca.interface`` only; results come back as
signals (``ca.signals``). The CA imports neither of them.

- URLs (``ca/urls.py``): ``/ca/`` (download page), ``/ca/<slug>.crt|.pem``,
  ``/crl/<slug>.crl|.pem``, ``/ocsp`` (POST) and ``/ocsp/<base64>`` (GET).
- Commands: ``init_ca [--rollover]``, ``export_trust_files``.
"""
