#!/bin/sh
{% load artefacts %}# Installer of a personal or system certificate, generated for one enrollment.
# Run with --help for how to use it. The key is generated on this computer and never leaves it.
#
# Every value below was written by the portal through its sh escaping (core/escaping.py):
# plain text in single quotes, anything else as octal escapes that printf turns back.
set -eu

PORTAL_NAME={{ portal_name|sh }}
PORTAL_URL={{ portal_url|sh }}
INSTALL_CODE={{ install_code|sh }}
CERTIFICATE_NAME={{ certificate_name|sh }}
ROOT_NAME={{ root_nickname|sh }}
KIND={{ kind|sh }}
EXPIRES_AT={{ expires_at|sh }}
FILE_NAME={{ filename|sh }}
# How long the installer keeps trying, all steps and retries together.
BUDGET_SECONDS=600

NSSDB="${HOME:-}/.pki/nssdb"
OUT=""
ASSUME_YES=0

say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" >&2; }
fail() { printf 'FOUT / ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  say "$PORTAL_NAME: installatie van certificaat \"$CERTIFICATE_NAME\" / installer for certificate \"$CERTIFICATE_NAME\""
  say ""
  say "Usage: sh $FILE_NAME [--nssdb DIR] [--out DIR] [--yes]"
  say "  --nssdb DIR  NSS database to install into (default: \$HOME/.pki/nssdb, used by Chrome/Chromium)"
  say "  --out DIR    also write key.pem, certificate.pem and chain.pem to DIR (for servers)"
  say "  --yes        do not ask for confirmation"
  say "Needs: openssl, curl, certutil and pk12util (Debian/Ubuntu: libnss3-tools)."
  say "The install code inside works until $EXPIRES_AT and is replaced when a new installer is downloaded."
}

while [ $# -gt 0 ]; do
  case "$1" in
    --nssdb) [ $# -ge 2 ] || fail "--nssdb needs a directory"; NSSDB="$2"; shift 2 ;;
    --out) [ $# -ge 2 ] || fail "--out needs a directory"; OUT="$2"; shift 2 ;;
    --yes|-y) ASSUME_YES=1; shift ;;
    -h|--help) usage; exit 0 ;;
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
say "$PORTAL_NAME: certificaat / certificate \"$CERTIFICATE_NAME\""
say "[1/5] Sleutel maken op deze computer / generating the key on this computer"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null \
  || fail "openssl could not generate a key"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" \
  || fail "openssl could not create the certificate request"

say "[2/5] Aanvraag versturen / sending the request"
api POST /api/v1/csr "$@" --header 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.csr"

printf '[3/5] Wachten op het certificaat / waiting for the certificate '
while :; do
  # The portal answers as soon as the status changes, or after 10 seconds (long polling).
  api GET '/api/v1/status?wait=10' "$@"
  status=$(json_field status)
  case "$status" in
    issued|installed) break ;;
    failed|expired) printf '\n'; fail "the portal could not issue the certificate (status: $status)" ;;
  esac
  [ "$(date +%s)" -lt "$DEADLINE" ] || { printf '\n'; fail "no certificate after $BUDGET_SECONDS seconds; run the installer again later"; }
  printf '.'
  sleep 1
done
printf ' OK\n'

api GET '/api/v1/certificate?format=pem' "$@"
cp "$WORK/response" "$WORK/chain.pem"
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
if call GET /api/v1/tls-check "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
  && [ "$(json_field status)" = "installed" ]; then
  say "Klaar: het certificaat \"$CERTIFICATE_NAME\" is geïnstalleerd. / Done: certificate installed."
else
  say "Het certificaat is geïnstalleerd, maar de controle bij het portaal lukte niet. / Installed, but the portal could not confirm it."
  exit 3
fi
if [ "$KIND" = "personal" ]; then
  say "Start uw browser opnieuw en log in op $PORTAL_URL / Restart your browser and log in."
fi
