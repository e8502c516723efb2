#!/usr/bin/env bash
# Checks a committed record on this machine: reruns the first records' worth of its commands
# with the apps built here and compares every figure they log with the record's, exactly.
#
#   scripts/check-record.sh bench/records/FILE.jsonl[.gz] [--records N | --until TYPE[:K] | --all]
#                           [--data-dir DIR] [--build-dir DIR] [--keep] [-v]
#
# --records N   compare the first N comparable records (default 3: a minute or two at most)
# --until T[:K] go on to the K-th record of type T: `--until epoch` checks PTB's first full epoch
# --all         rerun every command to the end
# --data-dir    the datasets, laid out as scripts/get-data.sh lays them out (the record's own
#               data folder replaced by this one; default: the record's if it exists, else data/)
# --build-dir   where the apps are (bin/ inside; default build/)
# Wall-clock fields (words/s, seconds) are not compared, nor what Hogwild training (the fast
# word2vec trainer with several threads) makes differ by design; the output says what was left
# out. Exit status: 0 identical; 1 a difference (the first one is printed) or a failed rerun;
# 2 bad arguments or an unreadable record; 3 this machine cannot rerun it (no GPU, a missing
# input file). scripts/check_record.py has the details.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 0
fi
exec python3 "$here/check_record.py" "$@"
