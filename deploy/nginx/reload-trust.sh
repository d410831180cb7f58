#!/bin/sh
# Run by the nginx image's entrypoint (/docker-entrypoint.d): nginx reads the client-CA and
# CRL bundle only at start and reload, so reload it periodically in the background to pick
# up the CRLs that beat re-exports into the trust volume.
set -eu
(
    while sleep "${TRUST_RELOAD_INTERVAL:-3600}"; do
        nginx -s reload || echo "reload-trust: nginx reload failed" >&2
    done
) &
