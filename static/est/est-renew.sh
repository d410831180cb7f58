#!/bin/sh
# est-renew.sh: renew a system certificate of the Certificaatportaal over EST (RFC 7030),
# unattended and safe to run from cron as often as you like.
#
#   sh est-renew.sh --portal https://portaal.example.nl --dir /etc/praktijk/certificaat
#
# DIR holds what the portal's Linux installer writes with --out: key.pem, certificate.pem,
# chain.pem (certificate and issuing CA) and root.pem (the portal's root CA). Inside the
# renewal window a new key is made, the portal is asked for a certificate with the current
# one (simplereenroll), the new certificate is checked against root.pem and tried on the
# portal, and only then do the new files replace the old ones (the old ones are kept as
# *.previous). Outside the window the script says so and exits 0.
#
# Options:
#   --portal URL          the portal's address (required)
#   --dir DIR             the certificate's folder (required)
#   --days N              renew when fewer than N days are left (default 30)
#   --server-ca FILE      trust FILE for the portal's TLS server certificate (default: the
#                         system's trust store)
#   --key-type ec|rsa     the new key: ECDSA P-256 (default) or RSA 3072
#   --reload-command CMD  run CMD (with sh -c) after a renewal, e.g. to restart the software
#   --force               renew now, even outside --days (the portal still decides)
#
# Exit status: 0 renewed or not due; 1 wrong use or a local problem; 2 the portal refused
# (its reason is printed); 3 the portal could not be reached; 4 the answer was not a working
# certificate (the old one stays in place); 75 another run is busy.
# Needs only POSIX sh, openssl (1.1.1 or 3) and curl.

set -u
PATH=/usr/local/bin:/usr/bin:/bin:$PATH
umask 077

PORTAL='' DIR='' DAYS=30 SERVER_CA='' KEY_TYPE=ec RELOAD='' FORCE=0
MAX_POLLS=30

say() { printf '%s est-renew: %s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$*"; }
fail() { code=$1; shift; say "ERROR: $*" >&2; exit "$code"; }

while [ $# -gt 0 ]; do
  case $1 in
    --portal) PORTAL=${2:-}; shift 2 || exit 1 ;;
    --dir) DIR=${2:-}; shift 2 || exit 1 ;;
    --days) DAYS=${2:-}; shift 2 || exit 1 ;;
    --server-ca) SERVER_CA=${2:-}; shift 2 || exit 1 ;;
    --key-type) KEY_TYPE=${2:-}; shift 2 || exit 1 ;;
    --reload-command) RELOAD=${2:-}; shift 2 || exit 1 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) fail 1 "unknown option: $1 (see --help)" ;;
  esac
done

[ -n "$PORTAL" ] || fail 1 "--portal is required (see --help)"
[ -n "$DIR" ] || fail 1 "--dir is required (see --help)"
case $PORTAL in https://*) ;; *) fail 1 "--portal must start with https://" ;; esac
PORTAL=${PORTAL%/}
case $DAYS in ''|*[!0-9]*) fail 1 "--days takes a whole number of days" ;; esac
case $KEY_TYPE in ec|rsa) ;; *) fail 1 "--key-type is ec or rsa" ;; esac
for program in openssl curl; do
  command -v "$program" >/dev/null 2>&1 || fail 1 "$program is not installed"
done
for file in key.pem certificate.pem root.pem; do
  [ -r "$DIR/$file" ] || fail 1 "$DIR/$file is missing or unreadable"
done
[ -w "$DIR" ] || fail 1 "$DIR is not writable"
[ -z "$SERVER_CA" ] || [ -r "$SERVER_CA" ] || fail 1 "$SERVER_CA is missing or unreadable"

# One run at a time: cron may start the next before a slow one ends.
LOCK="$DIR/.est-renew.lock"
mkdir "$LOCK" 2>/dev/null || fail 75 "another run is busy ($LOCK exists; remove it if no run is)"
WORK=$(mktemp -d) || fail 1 "cannot make a temporary folder"
trap 'rm -rf "$WORK"; rmdir "$LOCK" 2>/dev/null' EXIT
trap 'exit 1' HUP INT TERM

expires=$(openssl x509 -in "$DIR/certificate.pem" -noout -enddate 2>/dev/null | sed 's/^notAfter=//') \
  || fail 1 "$DIR/certificate.pem is not a certificate"
if [ "$FORCE" -eq 0 ] && openssl x509 -in "$DIR/certificate.pem" -noout -checkend $((DAYS * 86400)) >/dev/null; then
  say "not due: the certificate expires $expires, more than $DAYS days from now"
  exit 0
fi

# The new key, kept between runs until it works: asked again, the portal finds the same
# order for the same key, so an interrupted run costs nothing.
NEXT_KEY="$DIR/key.pem.next"
if [ ! -s "$NEXT_KEY" ]; then
  if [ "$KEY_TYPE" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$WORK/key.pem" 2>/dev/null
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/key.pem" 2>/dev/null
  fi || fail 1 "openssl could not make a key"
  mv "$WORK/key.pem" "$NEXT_KEY" || fail 1 "cannot write $NEXT_KEY"
  say "new key made: $NEXT_KEY"
else
  say "using the new key of an earlier run: $NEXT_KEY"
fi

# RFC 7030 section 4.2.2: the same subject as the current certificate, which -x509toreq copies.
openssl x509 -x509toreq -in "$DIR/certificate.pem" -signkey "$NEXT_KEY" -out "$WORK/request.pem" 2>/dev/null \
  || fail 1 "openssl could not make the certificate request"
openssl req -in "$WORK/request.pem" -outform DER 2>/dev/null | openssl base64 -e > "$WORK/request.b64" \
  || fail 1 "openssl could not encode the certificate request"

call() {  # call PATH [curl options...]: the status code on stdout, the body in $WORK/body
  path=$1; shift
  if [ -n "$SERVER_CA" ]; then set -- --cacert "$SERVER_CA" "$@"; fi
  curl --silent --show-error --max-time 60 --proto =https -H 'Accept-Language: en' "$@" \
    -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$PORTAL$path" 2>"$WORK/curl-error"
}

polls=0
while :; do
  status=$(call /.well-known/est/simplereenroll --cert "$DIR/certificate.pem" --key "$DIR/key.pem" \
    -H 'Content-Type: application/pkcs10' --data-binary "@$WORK/request.b64") \
    || fail 3 "cannot reach $PORTAL: $(cat "$WORK/curl-error") (the new key is kept for the next run)"
  case $status in
    200) break ;;
    202|429|503)
      polls=$((polls + 1))
      [ "$polls" -le "$MAX_POLLS" ] || fail 3 "the portal is still signing after $MAX_POLLS polls; the next run continues"
      wait=$(tr -d '\r' < "$WORK/headers" | sed -n 's/^[Rr]etry-[Aa]fter: *\([0-9][0-9]*\)$/\1/p' | head -n 1)
      case $wait in ''|*[!0-9]*) wait=2 ;; esac
      [ "$wait" -le 60 ] || wait=60
      if [ "$status" = 202 ]; then
        say "the portal is signing; asking again in $wait s"
      else
        say "the portal is busy (HTTP $status); asking again in $wait s"
      fi
      sleep "$wait" ;;
    *)
      reason=$(head -c 500 "$WORK/body" | tr -d '\r')
      case $reason in order_failed:*) rm -f "$NEXT_KEY" ;; esac
      fail 2 "the portal refused the renewal (HTTP $status): $reason" ;;
  esac
done

# The answer: a certs-only PKCS#7 in base64 holding the new certificate.
if ! { openssl base64 -d -in "$WORK/body" -out "$WORK/answer.p7" \
  && openssl pkcs7 -inform DER -in "$WORK/answer.p7" -print_certs -out "$WORK/answer.pem" \
  && openssl x509 -in "$WORK/answer.pem" -out "$WORK/certificate.pem"; } 2>/dev/null; then
  fail 4 "the portal's answer is not a certificate"
fi
new_key=$(openssl pkey -in "$NEXT_KEY" -pubout 2>/dev/null)
cert_key=$(openssl x509 -in "$WORK/certificate.pem" -noout -pubkey 2>/dev/null)
if [ -z "$new_key" ] || [ "$new_key" != "$cert_key" ]; then
  fail 4 "the new certificate is not for the new key"
fi

# Its chain: the CA that issued it, from the portal's CA certificates, verified up to the
# root this folder already trusts (a new root is never taken from the network).
status=$(call /.well-known/est/cacerts) || fail 3 "cannot reach $PORTAL: $(cat "$WORK/curl-error")"
[ "$status" = 200 ] || fail 4 "the portal did not give its CA certificates (HTTP $status)"
if ! { openssl base64 -d -in "$WORK/body" -out "$WORK/cacerts.p7" \
  && openssl pkcs7 -inform DER -in "$WORK/cacerts.p7" -print_certs -out "$WORK/cacerts.pem"; } 2>/dev/null; then
  fail 4 "the portal's CA certificates are unreadable"
fi
issuer=$(openssl x509 -in "$WORK/certificate.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
awk -v dir="$WORK" '/BEGIN CERTIFICATE/ { n++; inside = 1 } inside { print > (dir "/ca-" n ".pem") } /END CERTIFICATE/ { inside = 0 }' "$WORK/cacerts.pem"
found=
for ca in "$WORK"/ca-*.pem; do
  [ -f "$ca" ] || continue
  subject=$(openssl x509 -in "$ca" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
  if [ "$subject" = "$issuer" ]; then found=$ca; break; fi
done
[ -n "$found" ] || fail 4 "the portal's CA certificates do not include the new certificate's issuer"
openssl verify -x509_strict -purpose sslclient -CAfile "$DIR/root.pem" -untrusted "$found" \
  "$WORK/certificate.pem" >/dev/null 2>&1 || fail 4 "the new certificate does not verify up to $DIR/root.pem"
cat "$WORK/certificate.pem" "$found" > "$WORK/chain.pem"

# Does it work? The portal's own API answers it, from this address, before anything is replaced.
status=$(call /api/v1/system/whoami --cert "$WORK/chain.pem" --key "$NEXT_KEY") || fail 3 "cannot reach $PORTAL to try the new certificate: $(cat "$WORK/curl-error")"
[ "$status" = 200 ] || fail 4 "the new certificate does not work yet (HTTP $status): $(head -c 300 "$WORK/body")"

# Swap: the old files stay as *.previous; each mv replaces a file in one step.
for file in key.pem certificate.pem chain.pem; do
  if [ -f "$DIR/$file" ]; then cp -p "$DIR/$file" "$DIR/$file.previous" || fail 1 "cannot keep $DIR/$file"; fi
done
cp "$WORK/certificate.pem" "$DIR/certificate.pem.next" || fail 1 "cannot write into $DIR"
cp "$WORK/chain.pem" "$DIR/chain.pem.next" || fail 1 "cannot write into $DIR"
for file in key.pem certificate.pem chain.pem; do
  mv "$DIR/$file.next" "$DIR/$file" || fail 1 "cannot replace $DIR/$file"
done

serial=$(openssl x509 -in "$DIR/certificate.pem" -noout -serial | sed 's/^serial=//')
until=$(openssl x509 -in "$DIR/certificate.pem" -noout -enddate | sed 's/^notAfter=//')
say "renewed: serial $serial, valid until $until; the old certificate is in $DIR/*.previous and keeps working for the portal's overlap"
if [ -n "$RELOAD" ]; then
  sh -c "$RELOAD" || fail 1 "the certificate was renewed, but the reload command failed: $RELOAD"
fi
exit 0
