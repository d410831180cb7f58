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
# What the holder reads, in the language of the enrollment (also asked of the portal's API);
# {} marks a value that fill puts in when the script runs.
LANGUAGE={{ language|sh }}
{% include "installers/_messages_linux.sh" %}
# How long the installer keeps trying, all steps and retries together.
BUDGET_SECONDS=600

NSSDB="${HOME:-}/.pki/nssdb"
OUT=""
ASSUME_YES=0

{% include "installers/_say.sh" %}fail() { printf '%s\n' "$(fill "$M_ERROR" "$*")" >&2; exit 1; }

usage() {
  say "$(fill "$M_TITLE" "$PORTAL_NAME" "$CERTIFICATE_NAME")"
  say ""
  say "$(fill "$M_USAGE" "$FILE_NAME")"
  say "$M_USAGE_NSSDB"
  say "$M_USAGE_OUT"
  say "$M_USAGE_YES"
  say "$M_USAGE_NEEDS"
  say "$(fill "$M_USAGE_CODE" "$EXPIRES_AT")"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --nssdb|--out)
      [ $# -ge 2 ] || fail "$(fill "$M_OPTION_NEEDS_FOLDER" "$1" "$1")"
      if [ "$1" = --nssdb ]; then NSSDB="$2"; else OUT="$2"; fi
      shift 2 ;;
    --yes|-y) ASSUME_YES=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) fail "$(fill "$M_UNKNOWN_OPTION" "$1" "$FILE_NAME")" ;;
  esac
done

for tool in openssl curl certutil pk12util; do
  command -v "$tool" >/dev/null 2>&1 || fail "$(fill "$M_TOOL_MISSING_LINUX" "$tool")"
done

if [ "$ASSUME_YES" -ne 1 ]; then
  if [ -t 0 ]; then
    printf '%s' "$(fill "$M_CONFIRM" "$CERTIFICATE_NAME" "$NSSDB")"
    read -r answer
    case "$answer" in j|J|y|Y|ja|yes) ;; *) fail "$M_STOPPED" ;; esac
  else
    fail "$(fill "$M_NO_TERMINAL" "$FILE_NAME")"
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
say "$(fill "$M_TITLE" "$PORTAL_NAME" "$CERTIFICATE_NAME")"
say "$M_STEP_KEY"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null \
  || fail "$M_KEY_FAILED"
openssl req -new -key "$WORK/key.pem" -subj "/CN=$CERTIFICATE_NAME" -out "$WORK/request.csr" \
  || fail "$M_KEY_FAILED"

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
  printf '.'
  sleep 1
done
printf 'OK\n'

api GET '/api/v1/certificate?format=pem' "$@"
cp "$WORK/response" "$WORK/chain.pem"
# The first certificate is ours; the rest is the issuing CA up to (not including) the root.
awk 'n < 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/certificate.pem"
awk 'n >= 1 { print } /END CERTIFICATE/ { n++ }' "$WORK/chain.pem" > "$WORK/intermediates.pem"
openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/intermediates.pem" -purpose sslclient "$WORK/certificate.pem" >/dev/null \
  || fail "$M_WRONG_CHAIN"
key_modulus=$(openssl rsa -in "$WORK/key.pem" -noout -modulus)
cert_modulus=$(openssl x509 -in "$WORK/certificate.pem" -noout -modulus)
[ "$key_modulus" = "$cert_modulus" ] || fail "$M_WRONG_KEY"

say "$(fill "$M_STEP_INSTALL" "$NSSDB")"
if [ ! -f "$NSSDB/cert9.db" ]; then
  { mkdir -p "$NSSDB" && certutil -N -d "sql:$NSSDB" --empty-password; } \
    || fail "$(fill "$M_INSTALL_FAILED" "$NSSDB")"
fi
openssl pkcs12 -export -inkey "$WORK/key.pem" -in "$WORK/certificate.pem" -certfile "$WORK/intermediates.pem" \
  -name "$CERTIFICATE_NAME" -passout pass: -out "$WORK/bundle.p12" || fail "$(fill "$M_INSTALL_FAILED" "$NSSDB")"
install_into() {
  certutil -A -d "sql:$1" -n "$ROOT_NAME" -t "C,," -i "$WORK/root.pem" \
    && pk12util -i "$WORK/bundle.p12" -d "sql:$1" -W '' >/dev/null
}
install_into "$NSSDB" || fail "$(fill "$M_INSTALL_FAILED" "$NSSDB")"
for profile in "${HOME:-/nonexistent}"/.mozilla/firefox/*/; do
  if [ -f "${profile}cert9.db" ]; then
    install_into "${profile%/}" && say "$(fill "$M_ALSO_FIREFOX" "$profile")"
  fi
done

if [ -n "$OUT" ]; then
  mkdir -p "$OUT"
  cp "$WORK/key.pem" "$OUT/key.pem"
  cp "$WORK/certificate.pem" "$OUT/certificate.pem"
  cp "$WORK/chain.pem" "$OUT/chain.pem"
  cp "$WORK/root.pem" "$OUT/root.pem"
  chmod 600 "$OUT/key.pem" "$OUT/certificate.pem" "$OUT/chain.pem" "$OUT/root.pem"
  say "$(fill "$M_FILES_WRITTEN" "$OUT")"
fi

say "$M_STEP_CHECK"
confirmed=0
case "$PORTAL_URL" in
  https://*)
    if call GET /api/v1/tls-check "$@" --cert "$WORK/certificate.pem" --key "$WORK/key.pem" \
      && [ "$(json_field status)" = "installed" ]; then
      confirmed=1
    fi ;;
  *) say "$M_NO_TLS"; confirmed=1 ;;
esac
if [ "$confirmed" = 1 ]; then
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
[ "$confirmed" = 1 ] || exit 3
