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
KEYCHAIN="$HOME/Library/Keychains/login.keychain-db"
# How long the installer keeps trying, all steps and retries together.
BUDGET_SECONDS=600

say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" >&2; }
fail() { printf 'FOUT / ERROR: %s\n' "$*" >&2; printf 'Druk op Enter om te sluiten / press Enter to close. '; read -r _ || true; exit 1; }

for tool in openssl curl security; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing on this Mac"
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
say "$PORTAL_NAME: certificaat / certificate \"$CERTIFICATE_NAME\" (installer geldig tot / valid until $EXPIRES_AT)"
say "[1/5] Sleutel maken op deze Mac / generating the key on this Mac"
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null || fail "openssl could not generate a key"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" || fail "openssl could not create the request"

say "[2/5] Aanvraag versturen / sending the request"
api POST /api/v1/csr "$@" --header 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.csr"

printf '[3/5] Wachten op het certificaat / waiting for the certificate '
while :; do
  # The portal answers as soon as the status changes, or after 10 seconds (long polling).
  api GET '/api/v1/status?wait=10' "$@"
  status=$(json_field status)
  case "$status" in
    issued|installed) break ;;
    failed|expired) fail "the portal could not issue the certificate (status: $status)" ;;
  esac
  [ "$(date +%s)" -lt "$DEADLINE" ] || fail "no certificate after $BUDGET_SECONDS seconds; try again later"
  printf '.'; sleep 1
done
printf ' OK\n'

api GET '/api/v1/certificate?format=pem' "$@"
cp "$WORK/response" "$WORK/chain.pem"
awk 'n < 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/certificate.pem"
awk 'n >= 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/intermediates.pem"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/intermediates.pem" "$WORK/certificate.pem" >/dev/null \
  || fail "the certificate does not chain to the root certificate built into this installer"

say "[4/5] Installeren in uw sleutelhanger / installing into your login keychain"
# macOS refuses PKCS#12 files without a password: a one-time one protects the transfer.
transfer=$(openssl rand -hex 16)
openssl pkcs12 -export -inkey "$WORK/key.pem" -in "$WORK/certificate.pem" -certfile "$WORK/intermediates.pem" \
  -name "$CERTIFICATE_NAME" -passout "pass:$transfer" -out "$WORK/bundle.p12" || fail "could not package the certificate"
security import "$WORK/bundle.p12" -k "$KEYCHAIN" -f pkcs12 -P "$transfer" -x || fail "could not import into the keychain"
security add-trusted-cert -r trustRoot -k "$KEYCHAIN" "$WORK/root.pem" || fail "could not trust the root certificate"

say "[5/5] Controleren / checking the certificate with the portal"
if call GET /api/v1/tls-check "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
  && [ "$(json_field status)" = "installed" ]; then
  say "Klaar: het certificaat \"$CERTIFICATE_NAME\" is geïnstalleerd. / Done."
else
  say "Geïnstalleerd, maar de controle bij het portaal lukte niet. / Installed, but not confirmed by the portal."
fi
printf 'Druk op Enter om te sluiten / press Enter to close. '
read -r _ || true
