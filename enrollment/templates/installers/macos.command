#!/bin/sh{% autoescape off %}
# {{ portal_name }}: installatie van certificaat "{{ certificate_name }}" voor {{ holder_name }}.
# Double-click this file in Finder (or run: sh {{ filename }}). It makes the key on this Mac,
# requests the certificate, and puts both with the root certificate in your login keychain.
# The install code inside works until {{ expires_at }}.
set -eu

PORTAL_URL='{{ portal_url }}'
INSTALL_CODE='{{ install_code }}'
CERTIFICATE_NAME='{{ certificate_name }}'
KEYCHAIN="$HOME/Library/Keychains/login.keychain-db"
WAIT_SECONDS=600

say() { printf '%s\n' "$*"; }
fail() { printf 'FOUT / ERROR: %s\n' "$*" >&2; printf 'Druk op Enter om te sluiten / press Enter to close. '; read -r _; exit 1; }

for tool in openssl curl security; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing on this Mac"
done

umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/root.pem" <<'ROOT_CERTIFICATE'
{{ root_pem }}ROOT_CERTIFICATE
{% if server_ca_pem %}
cat > "$WORK/server-ca.pem" <<'SERVER_CA'
{{ server_ca_pem }}SERVER_CA
set -- --cacert "$WORK/server-ca.pem"
{% else %}
set --
{% endif %}
api() {
  method="$1"; path="$2"; shift 2
  status=$(curl --silent --show-error --max-time 30 --retry 3 --output "$WORK/response" --write-out '%{http_code}' \
    --request "$method" --header "Authorization: Bearer $INSTALL_CODE" "$@" "$PORTAL_URL$path") || fail "cannot reach $PORTAL_URL"
  case "$status" in
    2??) cat "$WORK/response" ;;
    *) fail "$(sed -n 's/.*"message": *"\([^"]*\)".*/\1/p' "$WORK/response") (HTTP $status)" ;;
  esac
}
json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

say "[1/5] Sleutel maken op deze Mac / generating the key on this Mac"
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null || fail "openssl could not generate a key"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" || fail "openssl could not create the request"

say "[2/5] Aanvraag versturen / sending the request"
api POST /api/v1/csr "$@" --header 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.csr" >/dev/null

printf '[3/5] Wachten op het certificaat / waiting for the certificate '
started=$(date +%s)
while :; do
  # The portal answers as soon as the status changes, or after 10 seconds (long polling).
  status=$(api GET '/api/v1/status?wait=10' "$@" | json_field status)
  case "$status" in
    issued|installed) break ;;
    failed|expired) fail "the portal could not issue the certificate (status: $status)" ;;
  esac
  [ $(($(date +%s) - started)) -lt "$WAIT_SECONDS" ] || fail "no certificate after $WAIT_SECONDS seconds; try again later"
  printf '.'; sleep 1
done
printf ' OK\n'

api GET '/api/v1/certificate?format=pem' "$@" > "$WORK/chain.pem"
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
confirmed=$(curl --silent --max-time 30 "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
  "$PORTAL_URL/api/v1/tls-check" | json_field status) || true
if [ "$confirmed" = "installed" ]; then
  say "Klaar: het certificaat \"$CERTIFICATE_NAME\" is geinstalleerd. / Done."
else
  say "Geinstalleerd, maar de controle bij het portaal lukte niet. / Installed, but not confirmed by the portal."
fi
printf 'Druk op Enter om te sluiten / press Enter to close. '
read -r _
{% endautoescape %}
