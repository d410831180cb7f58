"""EST (RFC 7030, with the RFC 8951 errata) for system certificates, under /.well-known/est/.

- ``cacerts``: the CA certificates, to anyone.
- ``csrattrs``: the key types and sizes the CA accepts.
- ``simpleenroll``: a system enrollment's first certificate; the install code authenticates
  (as HTTP Basic password or bearer token).
- ``simplereenroll``: renewal with the current, unexpired system certificate over mutual TLS,
  from the holder's allowed addresses and inside the renewal window; the old certificate
  keeps working for ``RENEWAL_OVERLAP_DAYS``, then it is revoked as superseded.

``wire`` holds the encodings (base64 DER, certs-only PKCS#7, CsrAttrs); ``views`` the
endpoints, ``answers`` what they say.
"""
