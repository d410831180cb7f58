#!/bin/sh
# Run by the nginx image's entrypoint (/docker-entrypoint.d) before nginx starts: writes the
# include that makes nginx send the shared secret to web on every proxied request
# (X-Proxy-Secret). web believes client-certificate headers only from a request that carries
# it (core.client_address.from_trusted_proxy), so another container on the network cannot
# claim a holder's certificate.
#
# The secret (PROXY_SECRET_FILE, a compose secret) must be 32 to 256 characters of
# A-Z a-z 0-9 _ - (hex or base64url): any other character could end nginx's quoted string
# and add configuration, so such a secret is refused and nginx does not start. Without the
# include nginx does not start either (portal.conf includes it), so nothing is proxied
# without the secret.
set -eu

proxy_secret_file="${PROXY_SECRET_FILE:-/run/secrets/proxy_secret}"
proxy_secret_include="${PROXY_SECRET_INCLUDE:-/etc/nginx/proxy-secret.conf}"

proxy_secret_refuse() {
    echo "proxy-secret: $1; nginx does not start" >&2
    exit 1
}

if [ ! -r "$proxy_secret_file" ]; then
    proxy_secret_refuse "cannot read PROXY_SECRET_FILE=$proxy_secret_file"
fi
# $(...) drops the file's trailing newlines, as the portal's *_FILE reader does.
proxy_secret="$(cat "$proxy_secret_file")"
# The letters spelt out: a range such as A-Z may match other characters in some locales.
case "$proxy_secret" in
    *[!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-]*)
        proxy_secret_refuse "$proxy_secret_file has a character other than A-Z a-z 0-9 _ -"
        ;;
esac
if [ "${#proxy_secret}" -lt 32 ] || [ "${#proxy_secret}" -gt 256 ]; then
    proxy_secret_refuse "$proxy_secret_file must hold 32 to 256 characters, not ${#proxy_secret}"
fi

# Readable by nginx's master (root) only; written beside and renamed, so a reload never
# reads half a file.
umask 077
proxy_secret_tmp="$proxy_secret_include.$$"
{
    echo "# Written by proxy-secret.sh from PROXY_SECRET_FILE at start; do not edit."
    printf 'proxy_set_header X-Proxy-Secret "%s";\n' "$proxy_secret"
} >"$proxy_secret_tmp"
mv -f "$proxy_secret_tmp" "$proxy_secret_include"
echo "proxy-secret: nginx sends the proxy secret (include $proxy_secret_include)"
# Some versions of the image source these scripts: leave nothing behind in its shell.
unset proxy_secret proxy_secret_tmp
