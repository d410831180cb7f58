"""The certificate authority's records (built in the certificate-authority issue)."""
