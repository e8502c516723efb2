# What the tests/*_test.sh scripts share; each starts with
#   source "$(dirname "$0")/support/script_test.sh" "$@"
# which reads their arguments, CASE and BUILD_DIR, into $case_name and $build (absolute), sets
# $repo to the source tree and $tmp to a scratch folder removed on exit, and defines
#   fail MESSAGE          prints "FAIL: MESSAGE" and exits 1;
#   expect_in FILE TEXT   fails, showing FILE, unless FILE contains TEXT.
set -euo pipefail
case_name=${1:?usage: $(basename "$0") CASE BUILD_DIR}
build=$(cd "${2:?usage: $(basename "$0") CASE BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() {
  grep -qF -- "$2" "$1" || { echo "---- $1:" >&2; cat "$1" >&2; fail "$1 does not contain '$2'"; }
}
