{# Output helpers of the sh installers (Linux and macOS). #}say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" >&2; }
# fill MESSAGE VALUE...: MESSAGE with each {} in turn replaced by the next VALUE.
fill() {
  rest=$1; shift; filled=''
  for value in "$@"; do
    case "$rest" in
      *'{}'*) filled="$filled${rest%%'{}'*}$value"; rest=${rest#*'{}'} ;;
    esac
  done
  printf '%s' "$filled$rest"
}
