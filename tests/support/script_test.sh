# shellcheck shell=bash
# Helpers for the shell tests (tests/*_test.sh), sourced: fail and the file expectations.
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_in() {  # expect_in FILE TEXT: FILE contains TEXT
  grep -qF -- "$2" "$1" || { echo "---- $1:" >&2; cat "$1" >&2; fail "$1 does not contain '$2'"; }
}
expect_not_in() {  # expect_not_in FILE TEXT: FILE does not contain TEXT
  ! grep -qF -- "$2" "$1" || { echo "---- $1:" >&2; cat "$1" >&2; fail "$1 contains '$2'"; }
}
