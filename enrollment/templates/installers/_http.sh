{# The HTTP part of the sh installers (Linux and macOS), included where they call the portal. #}retry_after() {
  # The server's Retry-After in seconds (1 to 60), or 5 when it sent none.
  seconds=$(sed -n 's/^[Rr][Ee][Tt][Rr][Yy]-[Aa][Ff][Tt][Ee][Rr]: *\([0-9][0-9]*\).*/\1/p' "$WORK/headers" 2>/dev/null | tail -n 1)
  [ -n "$seconds" ] || seconds=5
  [ "$seconds" -ge 1 ] || seconds=1
  [ "$seconds" -le 60 ] || seconds=60
  printf '%s' "$seconds"
}

call() {
  # call METHOD PATH [curl options...]: the body in $WORK/response and the HTTP status in
  # $status; returns 1 on an HTTP error. Busy (429), unavailable (503) or unreachable: waits
  # as the portal asks (Retry-After) and tries again, until the installer's time is up.
  method="$1"; path="$2"; shift 2
  while :; do
    : > "$WORK/headers"
    status=$(curl --silent --show-error --proto '=https,http' --max-time 30 \
      --output "$WORK/response" --dump-header "$WORK/headers" --write-out '%{http_code}' \
      --header "Accept-Language: $LANGUAGE" \
      --request "$method" "$@" "$PORTAL_URL$path" 2>"$WORK/curl-error") || status=000
    case "$status" in
      2??) return 0 ;;
      429|503|000)
        wait_for=$(retry_after)
        [ $(($(date +%s) + wait_for)) -lt "$DEADLINE" ] \
          || fail "$(fill "$M_GAVE_UP" "$status")"
        if [ "$status" = 000 ]; then
          note "$(fill "$M_UNREACHABLE" "$wait_for")"
          note "      $(head -n 1 "$WORK/curl-error")"
        else
          note "$(fill "$M_BUSY" "$status" "$wait_for")"
        fi
        sleep "$wait_for" ;;
      *) return 1 ;;
    esac
  done
}
api() {
  # api METHOD PATH [curl options...]: call with the install code; an HTTP error stops the
  # installer with the portal's message (in $LANGUAGE) and what to do next.
  method="$1"; path="$2"; shift 2
  call "$method" "$path" --header "Authorization: Bearer $INSTALL_CODE" "$@" && return 0
  portal_says=$(json_field message)
  [ -z "$portal_says" ] || note "$portal_says"
  case "$status:$(json_field code)" in
    409:*) fail "$M_CONFLICT" ;;
    401:install_code_replaced) fail "$M_REPLACED" ;;
    410:*) fail "$M_EXPIRED" ;;
    *) fail "$(fill "$M_REFUSED" "$status")" ;;
  esac
}
json_field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$WORK/response"; }
