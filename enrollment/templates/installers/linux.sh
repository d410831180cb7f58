#!/bin/sh{% autoescape off %}
# {{ portal_name }}: installatie van certificaat "{{ certificate_name }}" voor {{ holder_name }}.
# Installer for certificate "{{ certificate_name }}". Generated for one enrollment; the install
# code inside works until {{ expires_at }} and is replaced when a new installer is downloaded.
#
# Usage: sh {{ filename }} [--nssdb DIR] [--out DIR] [--yes]
#   --nssdb DIR  NSS database to install into (default: $HOME/.pki/nssdb, used by Chrome/Chromium)
#   --out DIR    also write key.pem, certificate.pem and chain.pem to DIR (for servers)
#   --yes        do not ask for confirmation
# Needs: openssl, curl, certutil and pk12util (Debian/Ubuntu: libnss3-tools).
# The private key is generated on this computer and never leaves it.
set -eu

PORTAL_URL='{{ portal_url }}'
INSTALL_CODE='{{ install_code }}'
CERTIFICATE_NAME='{{ certificate_name }}'
ROOT_NAME='{{ root_nickname }}'
KIND='{{ kind }}'
WAIT_SECONDS=600

NSSDB="${HOME:-}/.pki/nssdb"
OUT=""
ASSUME_YES=0

say() { printf '%s\n' "$*"; }
fail() { printf 'FOUT / ERROR: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --nssdb) [ $# -ge 2 ] || fail "--nssdb needs a directory"; NSSDB="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || fail "--out needs a directory"; OUT="$2"; shift 2 ;;
    --yes|-y) ASSUME_YES=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) fail "unknown option: $1 (see --help)" ;;
  esac
done

for tool in openssl curl certutil pk12util; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing. Install it first (Debian/Ubuntu: sudo apt install openssl curl libnss3-tools)."
done

if [ "$ASSUME_YES" -ne 1 ]; then
  if [ -t 0 ]; then
    printf 'Certificaat "%s" installeren in %s? [j/N] ' "$CERTIFICATE_NAME" "$NSSDB"
    read -r answer
    case "$answer" in j|J|y|Y|ja|yes) ;; *) fail "stopped at your request" ;; esac
  else
    fail "not running in a terminal: add --yes to install without asking"
  fi
fi

umask 077
WORK=$(mktemp -d)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

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
  # api METHOD PATH [curl options...]: prints the body, fails on HTTP errors with the message.
  method="$1"; path="$2"; shift 2
  status=$(curl --silent --show-error --proto '=https,http' --max-time 30 --retry 3 --retry-connrefused \
    --output "$WORK/response" --write-out '%{http_code}' --request "$method" \
    --header "Authorization: Bearer $INSTALL_CODE" "$@" "$PORTAL_URL$path") || fail "cannot reach $PORTAL_URL"
  case "$status" in
    2??) cat "$WORK/response" ;;
    *) fail "$(sed -n 's/.*"message": *"\([^"]*\)".*/\1/p' "$WORK/response") (HTTP $status)" ;;
  esac
}
json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

say "[1/5] Sleutel maken op deze computer / generating the key on this computer"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null \
  || fail "openssl could not generate a key"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" \
  || fail "openssl could not create the certificate request"

say "[2/5] Aanvraag versturen / sending the request"
api POST /api/v1/csr "$@" --header 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.csr" >/dev/null

printf '[3/5] Wachten op het certificaat / waiting for the certificate '
started=$(date +%s)
while :; do
  # The portal answers as soon as the status changes, or after 10 seconds (long polling).
  status=$(api GET '/api/v1/status?wait=10' "$@" | json_field status)
  case "$status" in
    issued|installed) break ;;
    failed|expired) printf '\n'; fail "the portal could not issue the certificate (status: $status)" ;;
  esac
  [ $(($(date +%s) - started)) -lt "$WAIT_SECONDS" ] || { printf '\n'; fail "no certificate after $WAIT_SECONDS seconds; run the installer again later"; }
  printf '.'
  sleep 1
done
printf ' OK\n'

api GET '/api/v1/certificate?format=pem' "$@" > "$WORK/chain.pem"
# The first certificate is ours; the rest is the issuing CA up to (not including) the root.
awk 'n < 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/certificate.pem"
awk 'n >= 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/intermediates.pem"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/intermediates.pem" -purpose sslclient "$WORK/certificate.pem" >/dev/null \
  || fail "the certificate does not chain to the root certificate built into this installer: not installed"
key_modulus=$(openssl rsa -in "$WORK/key.pem" -noout -modulus)
cert_modulus=$(openssl x509 -in "$WORK/certificate.pem" -noout -modulus)
[ "$key_modulus" = "$cert_modulus" ] || fail "the certificate does not belong to the key made on this computer"

say "[4/5] Installeren / installing into $NSSDB"
if [ ! -f "$NSSDB/cert9.db" ]; then
  mkdir -p "$NSSDB"
  certutil -N -d "sql:$NSSDB" --empty-password || fail "cannot create the NSS database in $NSSDB"
fi
openssl pkcs12 -export -inkey "$WORK/key.pem" -in "$WORK/certificate.pem" -certfile "$WORK/intermediates.pem" \
  -name "$CERTIFICATE_NAME" -passout pass: -out "$WORK/bundle.p12" || fail "openssl could not package the certificate"
install_into() {
  certutil -A -d "sql:$1" -n "$ROOT_NAME" -t "C,," -i "$WORK/root.pem" \
    && pk12util -i "$WORK/bundle.p12" -d "sql:$1" -W '' >/dev/null
}
install_into "$NSSDB" || fail "could not install into $NSSDB"
for profile in "${HOME:-/nonexistent}"/.mozilla/firefox/*/; do
  if [ -f "${profile}cert9.db" ]; then
    install_into "${profile%/}" && say "      ook in Firefox / also in Firefox: $profile"
  fi
done

if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  cp "$WORK/key.pem" "$OUT/key.pem"
  cp "$WORK/certificate.pem" "$OUT/certificate.pem"
  cp "$WORK/chain.pem" "$OUT/chain.pem"
  cp "$WORK/root.pem" "$OUT/root.pem"
  chmod 600 "$OUT/key.pem" "$OUT/certificate.pem" "$OUT/chain.pem" "$OUT/root.pem"
  say "      bestanden / files: $OUT (key.pem, certificate.pem, chain.pem, root.pem)"
fi

say "[5/5] Controleren / checking the certificate with the portal"
case "$PORTAL_URL" in
  https://*) ;;
  *)
    say "De ontwikkelversie van het portaal draait zonder TLS: controle overgeslagen. / Development portal without TLS: check skipped."
    exit 0 ;;
esac
confirmed=$(curl --silent --show-error --max-time 30 "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
  "$PORTAL_URL/api/v1/tls-check" | json_field status) || true
if [ "$confirmed" = "installed" ]; then
  say "Klaar: het certificaat \"$CERTIFICATE_NAME\" is geinstalleerd. / Done: certificate installed."
else
  say "Het certificaat is geinstalleerd, maar de controle bij het portaal lukte niet. / Installed, but the portal could not confirm it."
  exit 3
fi
if [ "$KIND" = "personal" ]; then
  say "Start uw browser opnieuw en log in op $PORTAL_URL / Restart your browser and log in."
fi
{% endautoescape %}
