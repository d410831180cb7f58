#!/bin/sh
{% load artefacts %}# Installer of a personal or system certificate for macOS, generated for one enrollment.
# Double-click this file in Finder (or run it with sh). It makes the key on this Mac, requests
# the certificate, and puts both with the root certificate in your login keychain.
#
# Every value below was written by the portal through its sh escaping (core/escaping.py):
# plain text in single quotes, anything else as octal escapes that printf turns back.
set -eu

PORTAL_NAME={{ portal_name|sh }}
PORTAL_URL={{ portal_url|sh }}
INSTALL_CODE={{ install_code|sh }}
CERTIFICATE_NAME={{ certificate_name|sh }}
EXPIRES_AT={{ expires_at|sh }}
KIND={{ kind|sh }}
# What the holder reads, in the language of the enrollment (also asked of the portal's API);
# {} marks a value that fill puts in when the script runs.
LANGUAGE={{ language|sh }}
{% include "installers/_messages_macos.sh" %}KEYCHAIN="$HOME/Library/Keychains/login.keychain-db"
# How long the installer keeps trying, all steps and retries together.
BUDGET_SECONDS=600

{% include "installers/_say.sh" %}# Finder opens a Terminal window for this file: it stays until the holder has read it.
close_window() { printf '%s ' "$M_PRESS_ENTER"; read -r _ || true; }
fail() { printf '%s\n' "$(fill "$M_ERROR" "$*")" >&2; close_window; exit 1; }

for tool in openssl curl security; do
  command -v "$tool" >/dev/null 2>&1 || fail "$(fill "$M_TOOL_MISSING_MAC" "$tool")"
done

umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DEADLINE=$(($(date +%s) + BUDGET_SECONDS))

cat > "$WORK/root.pem" <<'ROOT_CERTIFICATE'
{{ root_pem|pem }}ROOT_CERTIFICATE
{% if server_ca_pem %}
cat > "$WORK/server-ca.pem" <<'SERVER_CA'
{{ server_ca_pem|pem }}SERVER_CA
set -- --cacert "$WORK/server-ca.pem"
{% else %}
set --
{% endif %}
{% include "installers/_http.sh" %}
say "$(fill "$M_TITLE" "$PORTAL_NAME" "$CERTIFICATE_NAME")"
say "$(fill "$M_VALID_UNTIL" "$EXPIRES_AT")"
say "$M_STEP_KEY_MAC"
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null || fail "$M_KEY_FAILED"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" || fail "$M_KEY_FAILED"

say "$M_STEP_SEND"
api POST /api/v1/csr "$@" --header 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.csr"

printf '%s ' "$M_STEP_WAIT"
while :; do
  # The portal answers as soon as the status changes, or after 10 seconds (long polling).
  api GET '/api/v1/status?wait=10' "$@"
  status=$(json_field status)
  case "$status" in
    issued|installed) break ;;
    failed) printf '\n'; fail "$(fill "$M_ORDER_FAILED" "$(json_field error_code)")" ;;
    expired) printf '\n'; fail "$M_EXPIRED" ;;
  esac
  [ "$(date +%s)" -lt "$DEADLINE" ] || { printf '\n'; fail "$(fill "$M_TOO_LONG" "$BUDGET_SECONDS")"; }
  printf '.'; sleep 1
done
printf 'OK\n'

api GET '/api/v1/certificate?format=pem' "$@"
cp "$WORK/response" "$WORK/chain.pem"
awk 'n < 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/certificate.pem"
awk 'n >= 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/intermediates.pem"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/intermediates.pem" "$WORK/certificate.pem" >/dev/null \
  || fail "$M_WRONG_CHAIN"

say "$M_STEP_INSTALL_MAC"
# macOS refuses PKCS#12 files without a password: a one-time one protects the transfer.
transfer=$(openssl rand -hex 16)
openssl pkcs12 -export -inkey "$WORK/key.pem" -in "$WORK/certificate.pem" -certfile "$WORK/intermediates.pem" \
  -name "$CERTIFICATE_NAME" -passout "pass:$transfer" -out "$WORK/bundle.p12" || fail "$(fill "$M_INSTALL_FAILED" "$KEYCHAIN")"
security import "$WORK/bundle.p12" -k "$KEYCHAIN" -f pkcs12 -P "$transfer" -x || fail "$(fill "$M_INSTALL_FAILED" "$KEYCHAIN")"
security add-trusted-cert -r trustRoot -k "$KEYCHAIN" "$WORK/root.pem" || fail "$(fill "$M_INSTALL_FAILED" "$KEYCHAIN")"

say "$M_STEP_CHECK"
if call GET /api/v1/tls-check "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
  && [ "$(json_field status)" = "installed" ]; then
  say "$(fill "$M_DONE" "$CERTIFICATE_NAME")"
else
  say "$(fill "$M_UNCONFIRMED" "$CERTIFICATE_NAME")"
fi
# The last line: what to do now.
if [ "$KIND" = "personal" ]; then
  say "$(fill "$M_NEXT_PERSONAL" "$PORTAL_URL" "$CERTIFICATE_NAME")"
else
  say "$(fill "$M_NEXT_SYSTEM" "$CERTIFICATE_NAME")"
fi
close_window
