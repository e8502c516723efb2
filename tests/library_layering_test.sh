#!/usr/bin/env bash
# libcurnn is a library linked into other programs: it starts no process and depends on no file
# of the tree it was built from (issue 14, class 8). ctest: library_layering.
#   tests/library_layering_test.sh SOURCE_DIR LIBRARY_FILE
# Checks:
#  1. the library's objects call none of system, popen, fork, vfork, the exec family or
#     posix_spawn (nm: no such undefined symbol);
#  2. its sources use __FILE__ only for error locations (with __LINE__ on the same line), never
#     to find a file, and name no script (tsne_plot) or interpreter (python3).
set -euo pipefail
src=${1:?usage: library_layering_test.sh SOURCE_DIR LIBRARY_FILE}
lib=${2:?usage: library_layering_test.sh SOURCE_DIR LIBRARY_FILE}
status=0

case $lib in
  *.so*) undefined=$(nm -D --undefined-only "$lib") ;;
  *) undefined=$(nm --undefined-only "$lib" 2>/dev/null) ;;
esac
[[ -n $undefined ]] || { echo "FAIL: nm found no undefined symbol in $lib (not a library?)"; exit 1; }
spawning=$(grep -Ew '(system|popen|fork|vfork|execl|execlp|execle|execv|execve|execvp|execvpe|posix_spawn|posix_spawnp)(@.*)?$' <<<"$undefined" | sort -u || true)
if [[ -n $spawning ]]; then
  echo "FAIL: $lib calls functions that start processes:"
  echo "$spawning"
  status=1
fi

cd "$src"
file_paths=$(grep -rn "__FILE__" include host kernels | grep -v "__LINE__" || true)
if [[ -n $file_paths ]]; then
  echo "FAIL: __FILE__ used for something else than an error location:"
  echo "$file_paths"
  status=1
fi
scripts=$(grep -rnE "tsne_plot|python3" include host kernels || true)
if [[ -n $scripts ]]; then
  echo "FAIL: the library names a script or an interpreter:"
  echo "$scripts"
  status=1
fi
((status == 0)) && echo "library_layering: $lib starts no process; no __FILE__ paths, no scripts"
exit $status
