# shellcheck shell=bash
# What the case-driven tests/*_test.sh scripts share; each starts with
#   source "$(dirname "$0")/support/case_test.sh" "$@"
# which reads their arguments, CASE and BUILD_DIR, into $case_name and $build (absolute), sets
# $repo to the source tree and $tmp to a scratch folder removed on exit, and brings in the
# helpers of script_test.sh (fail, expect_in, expect_not_in).
set -euo pipefail
case_name=${1:?usage: $(basename "$0") CASE BUILD_DIR}
build=$(cd "${2:?usage: $(basename "$0") CASE BUILD_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=script_test.sh
source "$repo/tests/support/script_test.sh"
