#!/usr/bin/env bash
# Fetches the experiments' datasets into ./data (the repository's data/, ignored by git) or
# --dest DIR, and checks every file's size or SHA-256 (the content hashes of
# shared/data/SOURCES.md). The layout is that of shared/data, so CURNN_DATA_DIR=DIR serves the
# tests and the apps; the readers take each file plain or gzipped:
#   ptb/ptb.{train,valid,test}.txt          Mikolov's simple-examples PTB
#   mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#   text8/text8                              (download) the real text8, 100,000,000 bytes
#   text8-substitute/wiki8.gz                (mirror only) a text8-style substitute, NOT text8
#   word2vec-eval/questions-words.txt, wordsim353.tsv
#   README.md                                what was fetched, from where
#
# Usage: scripts/get-data.sh [--dest DIR] [--data-mirror DIR] [--symlink] [--only LIST]
#   --dest DIR         where to put the data (default: <repo>/data)
#   --data-mirror DIR  take the files from a local folder laid out like shared/data (ptb/*.txt.gz,
#                      mnist/*.gz, text8-substitute/wiki8.gz or text8/text8, word2vec-eval/*)
#                      instead of downloading; also from the environment: CURNN_DATA_MIRROR
#   --symlink          with a mirror: symlink the files instead of copying them
#   --only LIST        comma-separated subset of: ptb,mnist,text8,word2vec-eval (default: all)
# Files already present and verified are kept. Exit status: 0 when every asked dataset is in place
# and verified, 1 otherwise (with a message saying what failed and how to get the data).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dest="$repo/data"
mirror=${CURNN_DATA_MIRROR:-}
symlink=0
only="ptb,mnist,text8,word2vec-eval"

die() { echo "get-data: error: $*" >&2; exit 1; }
say() { echo "get-data: $*"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case $1 in
    --dest) dest=${2:?--dest needs a folder}; shift 2 ;;
    --dest=*) dest=${1#*=}; shift ;;
    --data-mirror) mirror=${2:?--data-mirror needs a folder}; shift 2 ;;
    --data-mirror=*) mirror=${1#*=}; shift ;;
    --symlink) symlink=1; shift ;;
    --only) only=${2:?--only needs a list}; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
for d in ${only//,/ }; do
  case $d in ptb | mnist | text8 | word2vec-eval) ;; *) die "--only: unknown dataset '$d'" ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }
if [[ -n $mirror ]]; then
  [[ -d $mirror ]] || die "data mirror '$mirror' is not a folder"
  mirror=$(cd "$mirror" && pwd)
fi
mkdir -p "$dest" || die "cannot create '$dest'"
dest=$(cd "$dest" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# SHA-256 of the uncompressed content (shared/data/SOURCES.md), by file name without ".gz".
declare -A sha=(
  [ptb.train.txt]=fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf
  [ptb.valid.txt]=c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2
  [ptb.test.txt]=dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
  [questions-words.txt]=8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36
  [wordsim353.tsv]=f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d
  [wiki8]=ded63e5881500a432379f81c1e3b2e63b7e9794b6008c9edc52bfaec402e084b
)
# Sizes where no content hash is pinned (text8: its published size; the zip's).
declare -A size=([text8]=100000000 [text8.zip]=31344016)

# Canonical sources; each can be overridden through the environment (e.g. file:// URLs in a test).
PTB_URL=${CURNN_PTB_URL:-http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz}
read -r -a MNIST_URLS <<<"${CURNN_MNIST_URLS:-https://ossci-datasets.s3.amazonaws.com/mnist https://storage.googleapis.com/cvdf-datasets/mnist}"
TEXT8_URL=${CURNN_TEXT8_URL:-http://mattmahoney.net/dc/text8.zip}
read -r -a QW_URLS <<<"${CURNN_QUESTIONS_WORDS_URLS:-https://download.tensorflow.org/data/questions-words.txt https://raw.githubusercontent.com/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438/questions-words.txt}"
WS_URL=${CURNN_WORDSIM353_URL:-https://raw.githubusercontent.com/piskvorky/gensim/37f90ec121eb7cd401448a947e80953e0c53ccdc/gensim/test/test_data/wordsim353.tsv}

# The bytes of a file, uncompressed if it is gzip (by content, as the C++ readers do).
content() {
  if [[ $(head -c2 "$1" | od -An -tx1 | tr -d ' \n') == 1f8b ]]; then gzip -dc "$1"; else cat "$1"; fi
}
# verify FILE [NAME]: checks FILE's content against the hash or size recorded for NAME.
verify() {
  local file=$1 name=${2:-$(basename "${1%.gz}")} got
  if [[ -n ${sha[$name]:-} ]]; then
    got=$(content "$file" | sha256sum | cut -d' ' -f1) || return 1
    [[ $got == "${sha[$name]}" ]] || { echo "get-data: $file: sha256 $got, expected ${sha[$name]}" >&2; return 1; }
  elif [[ -n ${size[$name]:-} ]]; then
    got=$(content "$file" | wc -c) || return 1
    [[ $got -eq ${size[$name]} ]] || { echo "get-data: $file: $got bytes, expected ${size[$name]}" >&2; return 1; }
  else
    die "internal: nothing to verify $name against"
  fi
}
# present DIR NAME: a verified NAME or NAME.gz in DIR (prints its path).
present() {
  local f
  for f in "$1/$2" "$1/$2.gz"; do
    [[ -f $f ]] || continue
    if verify "$f" "$2" 2>/dev/null; then echo "$f"; return 0; fi
    echo "get-data: $f: present but does not verify; fetching it again" >&2
  done
  return 1
}

no_network_help() {
  cat >&2 <<EOF
get-data: could not get a verified copy of $1
  ($2)
  Without internet access, get the files another way and either
   - put a folder laid out like shared/data (ptb/, mnist/, text8-substitute/ or text8/,
     word2vec-eval/) somewhere and run: scripts/get-data.sh --data-mirror DIR
     (or set CURNN_DATA_MIRROR=DIR), or
   - place the files by hand in $dest (layout at the top of scripts/get-data.sh).
  Sources: $PTB_URL, ${MNIST_URLS[0]}/, $TEXT8_URL,
  ${QW_URLS[0]}, $WS_URL
EOF
  exit 1
}
# download URL OUT: fetches to OUT.part, then renames; returns 1 (with the reason in $dl_error).
dl_error=""
download() {
  local url=$1 out=$2 log="$work/download.log"
  say "downloading $url"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$out.part" "$url" 2>"$log" || { dl_error=$(tr '\n' ' ' <"$log"); rm -f "$out.part"; return 1; }
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=2 --timeout=20 -O "$out.part" "$url" 2>"$log" || { dl_error="wget failed: $(tr '\n' ' ' <"$log")"; rm -f "$out.part"; return 1; }
  else
    dl_error="neither curl nor wget is installed"; return 1
  fi
  mv "$out.part" "$out"
}
# fetch OUT URL...: the first URL that downloads and verifies (file named as OUT's base name).
fetch() {
  local out=$1; shift
  local url
  for url in "$@"; do
    if download "$url" "$out"; then
      verify "$out" && return 0
      rm -f "$out"; dl_error="$url: the file did not verify"
    fi
  done
  no_network_help "$*" "$dl_error"
}

# from_mirror SUBDIR NAME [DEST_SUBDIR]: NAME or NAME.gz from the mirror, verified, into dest.
from_mirror() {
  local sub=$1 name=$2 dsub=${3:-$1} src f
  for f in "$mirror/$sub/$name" "$mirror/$sub/$name.gz"; do [[ -f $f ]] && { src=$f; break; }; done
  [[ -n ${src:-} ]] || die "the mirror has no $sub/$name nor $sub/$name.gz ($mirror)"
  verify "$src" "$name" || die "$src: does not verify (see above): a corrupt mirror?"
  mkdir -p "$dest/$dsub"
  local out
  out="$dest/$dsub/$(basename "$src")"
  rm -f "$dest/$dsub/$name" "$dest/$dsub/$name.gz"
  if ((symlink)); then ln -s "$src" "$out"; else cat "$src" >"$out.part" && mv "$out.part" "$out"; fi
  say "$dsub/$(basename "$src"): from the mirror, verified"
}

# get SUBDIR NAME FETCH_COMMAND...: keeps a verified file, else mirror or download.
get() {
  local sub=$1 name=$2; shift 2
  local have
  if have=$(present "$dest/$sub" "$name"); then
    say "${have#"$dest"/}: present, verified"
  elif [[ -n $mirror ]]; then
    from_mirror "$sub" "$name"
  else
    mkdir -p "$dest/$sub"
    "$@"
    say "$sub/$name: downloaded, verified"
  fi
}

get_ptb() {
  local missing=() n
  for n in ptb.train.txt ptb.valid.txt ptb.test.txt; do
    present "$dest/ptb" "$n" >/dev/null || missing+=("$n")
  done
  if ((${#missing[@]} == 0)); then
    say "ptb: present, verified"
  elif [[ -n $mirror ]]; then
    for n in "${missing[@]}"; do from_mirror ptb "$n"; done
  else
    # The archive has no pinned hash: its three members are verified after extraction.
    local tmp="$work/ptb"
    mkdir -p "$tmp"
    download "$PTB_URL" "$tmp/simple-examples.tgz" || no_network_help "$PTB_URL" "$dl_error"
    tar -xzf "$tmp/simple-examples.tgz" -C "$tmp" --wildcards '*simple-examples/data/ptb.*.txt' ||
      die "$PTB_URL: cannot extract simple-examples/data/ptb.*.txt"
    mkdir -p "$dest/ptb"
    for n in ptb.train.txt ptb.valid.txt ptb.test.txt; do
      verify "$tmp/simple-examples/data/$n" "$n" || die "$n in $PTB_URL does not verify"
      rm -f "$dest/ptb/$n.gz"
      mv "$tmp/simple-examples/data/$n" "$dest/ptb/$n"
    done
    say "ptb: downloaded, verified"
  fi
}

get_mnist() {
  local n
  for n in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    local urls=() u
    for u in "${MNIST_URLS[@]}"; do urls+=("$u/$n.gz"); done
    get mnist "$n" fetch "$dest/mnist/$n.gz" "${urls[@]}"
  done
}

get_text8() {
  local have
  if have=$(present "$dest/text8" text8); then
    say "${have#"$dest"/}: present, verified"
  elif [[ -n $mirror ]]; then
    if [[ -f $mirror/text8/text8 || -f $mirror/text8/text8.gz ]]; then
      from_mirror text8 text8
    elif [[ -f $mirror/text8-substitute/wiki8.gz || -f $mirror/text8-substitute/wiki8 ]]; then
      if have=$(present "$dest/text8-substitute" wiki8); then
        say "${have#"$dest"/}: present, verified"
      else
        from_mirror text8-substitute wiki8
      fi
      say "NOTE: the mirror has no text8; text8-substitute/wiki8 is a text8-style substitute (see README.md)"
    else
      die "the mirror has neither text8/text8 nor text8-substitute/wiki8.gz ($mirror)"
    fi
  else
    command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack text8.zip"
    mkdir -p "$dest/text8"
    fetch "$dest/text8/text8.zip" "$TEXT8_URL"
    unzip -p "$dest/text8/text8.zip" text8 >"$dest/text8/text8.part" || die "cannot unzip text8.zip"
    verify "$dest/text8/text8.part" text8 || die "text8 in $TEXT8_URL does not verify"
    mv "$dest/text8/text8.part" "$dest/text8/text8"
    rm -f "$dest/text8/text8.zip"
    say "text8/text8: downloaded, verified"
  fi
}

get_word2vec_eval() {
  get word2vec-eval questions-words.txt fetch "$dest/word2vec-eval/questions-words.txt" \
    "${QW_URLS[@]}"
  get word2vec-eval wordsim353.tsv fetch "$dest/word2vec-eval/wordsim353.tsv" "$WS_URL"
}

# README.md describing what the destination holds now.
write_readme() {
  local r="$dest/README.md.part"
  {
    echo "# Datasets for libcurnn"
    echo
    echo "Written by scripts/get-data.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)$([[ -n $mirror ]] && echo " from the local mirror $mirror")."
    echo "Every file below was checked against the SHA-256 of its (uncompressed) content, or its"
    echo "size where no hash is pinned (text8). Point the tests and apps here with CURNN_DATA_DIR=$dest."
    echo
    [[ -d $dest/ptb ]] && echo "- ptb/: Penn Treebank, Mikolov's simple-examples version (canonical source: $PTB_URL)."
    [[ -d $dest/mnist ]] && echo "- mnist/: MNIST IDX files (canonical source: ${MNIST_URLS[0]}/); Fashion-MNIST uses the same names."
    [[ -d $dest/text8 ]] && echo "- text8/text8: Matt Mahoney's text8, the first 10^8 bytes of cleaned enwik9 ($TEXT8_URL)."
    [[ -d $dest/word2vec-eval ]] && echo "- word2vec-eval/: questions-words.txt (word2vec analogies) and wordsim353.tsv (WordSim-353)."
    if [[ -d $dest/text8-substitute ]]; then
      echo
      echo "## text8-substitute/wiki8.gz is NOT text8"
      echo
      echo "wiki8 is a text8 *substitute*: 100,000,000 bytes built the way text8 was (lowercase a-z"
      echo "and single spaces, digits spelled out) but from a 2015 English Wikipedia dump instead of"
      echo "the 2006 one text8 comes from. Word counts and analogy accuracy are comparable to text8"
      echo "results but not identical. Report results on it as \"wiki8 (text8 substitute)\"."
      echo "Its provenance is in SOURCES.md (copied from the mirror). For the real text8, run"
      echo "scripts/get-data.sh --only text8 on a machine with internet access."
    fi
  } >"$r"
  mv "$r" "$dest/README.md"
  if [[ -n $mirror && -f $mirror/SOURCES.md ]]; then
    cat "$mirror/SOURCES.md" >"$dest/SOURCES.md.part" && mv "$dest/SOURCES.md.part" "$dest/SOURCES.md"
  fi
}

if wants ptb; then get_ptb; fi
if wants mnist; then get_mnist; fi
if wants text8; then get_text8; fi
if wants word2vec-eval; then get_word2vec_eval; fi
write_readme
say "done: $dest (use CURNN_DATA_DIR=$dest)"
