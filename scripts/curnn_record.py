"""What scripts/write_records.py, check_record.py, estimate_full_run.py and make_report.py share:
the record format, the facts about this machine, and running an app while watching its
--log-json file. Standard library only.

A record (bench/records/<experiment>-<device>-<commit>.jsonl, gzipped as .jsonl.gz when over
100 KB) is JSON lines:
  {"type": "record", "format": "curnn-record/1", "experiment": ..., "mode": ..., "device": ...,
   "commit": ..., "date": ..., "machine": {...}, "environment": {...},
   "paths": {"data": DIR, "run": DIR, "build": DIR}, "reproduce": "the command that made it"}
then, per command the experiment ran, in order:
  {"type": "command", "name": ..., "argv": [...], "wall_s": ...}
  followed by that command's --log-json records, verbatim.
Paths in argv and in the records are the ones of the run; paths.data and paths.run say which
prefixes a rerun replaces by its own data and output folders.
"""
import ctypes
import ctypes.util
import glob
import gzip
import json
import os
import platform
import re
import signal
import subprocess
import time

FORMAT = "curnn-record/1"
GZIP_ABOVE_BYTES = 100 * 1024


class RecordError(Exception):
    """A record that cannot be read, or a rerun that cannot start."""


# ---- the book's figures (EXPERIMENTS.md) ---------------------------------------------------------

BOOK_PTB_PERPLEXITY = {"small": 116.8, "medium": 82.1, "large": 78.3}
# Train / valid / test perplexity after the last epoch: the book's log for small (13 epochs),
# TensorFlow's reproduction for medium (39) and large (55). The book gives no other epochs.
BOOK_PTB_FINAL = {"small": (13, 36.95, 122.30, 116.76), "medium": (39, 48.45, 86.16, 82.07),
                  "large": (55, 37.87, 82.62, 78.29)}
BOOK_MNIST_ACCURACY = 0.983
BOOK_TUTORIAL_LOSS = "about 4.6-4.7 near step 100,000"


def word2vec_c_reference(iterations):
    """word2vec.c's analogy accuracy at these settings on wiki8 (EXPERIMENTS.md)."""
    known = {1: "10.2%", 5: "37.3%"}
    if iterations not in known:
        return "-"
    return (f"word2vec.c {iterations} iter: {known[iterations]} (wiki8, 2-core CPU, "
            "EXPERIMENTS.md)")


# ---- which fields are figures -------------------------------------------------------------------


def is_wall_clock(key):
    """Fields that measure time or speed, which no rerun repeats: elapsed_s, wps, train_wps,
    words_per_s, samples_per_s, train_seconds, eval_s, ..."""
    return key == "wps" or key.endswith(("_s", "_seconds", "_wps"))


# Output files a run may or may not write depending on what is installed (the tutorial's t-SNE
# needs scikit-learn): not figures.
ENVIRONMENT_DEPENDENT_KEYS = ("tsne",)


def app_name(argv):
    return os.path.basename(argv[0]) if argv else ""


def option_value(argv, *names):
    """The value after the first of `names` in argv, or None."""
    for i, arg in enumerate(argv[:-1]):
        if arg in names:
            return argv[i + 1]
    return None


def is_fast_word2vec(argv):
    return app_name(argv) == "curnn-word2vec" and "--tutorial" not in argv


def hogwild(argv):
    """The fast trainer with several CPU threads, or on the GPU: workers update shared vectors
    without locks, so the vectors, their loss and anything computed from them differ run to run
    (the words read and trained do not)."""
    if not is_fast_word2vec(argv):
        return False
    device = option_value(argv, "--device")
    threads = option_value(argv, "-threads")
    return device == "cuda" or threads is None or threads != "1"


def time_triggered(argv, record):
    """Records written when a clock says so (the fast trainer's progress lines), not at a fixed
    step: a rerun writes others."""
    return is_fast_word2vec(argv) and record.get("type") == "progress"


# ---- reading and writing records ----------------------------------------------------------------


def open_text(path, mode="rt"):
    if path.endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_jsonl(path):
    """The JSON objects of a JSON-lines file (plain or .gz), or None when it does not exist."""
    if not os.path.exists(path):
        return None
    records = []
    try:
        with open_text(path) as f:
            for number, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise RecordError(f"{path}:{number}: not JSON ({e.msg})")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise RecordError(f"{path}: cannot be read ({e})")
    return records


def read_record(path):
    """(header, sections): sections are dicts with name, argv, wall_s and records (the command's
    log records, each with its line number in the record as "_line")."""
    lines = read_jsonl(path)
    if lines is None:
        raise RecordError(f"{path}: no such file")
    if not lines or lines[0].get("type") != "record" or lines[0].get("format") != FORMAT:
        raise RecordError(f"{path}: not a libcurnn record (its first line must be a "
                          f"{{\"type\": \"record\", \"format\": \"{FORMAT}\"}} header)")
    header, sections = lines[0], []
    for number, line in enumerate(lines[1:], start=2):
        if line.get("type") == "command":
            if not isinstance(line.get("argv"), list) or not line["argv"]:
                raise RecordError(f"{path}:{number}: a command line without argv")
            sections.append({"name": line.get("name", "?"), "argv": line["argv"],
                             "wall_s": line.get("wall_s"), "records": []})
        elif not sections:
            raise RecordError(f"{path}:{number}: a log record before any command line")
        else:
            sections[-1]["records"].append(dict(line, _line=number))
    if not sections:
        raise RecordError(f"{path}: no command in the record")
    for key in ("data", "run"):
        if not isinstance(header.get("paths", {}).get(key), str):
            raise RecordError(f"{path}: the header has no paths.{key}")
    return header, sections


def write_record(path_without_suffix, lines):
    """Writes the JSON lines to PATH.jsonl, or PATH.jsonl.gz when that would be over 100 KB
    (atomically: a .part file renamed). Returns the path written."""
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    data = text.encode("utf-8")
    path = path_without_suffix + ".jsonl"
    if len(data) > GZIP_ABOVE_BYTES:
        path += ".gz"
        data = gzip.compress(data, mtime=0)
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.replace(path + ".part", path)
    return path


# ---- this machine -------------------------------------------------------------------------------


def command_output(args, cwd=None):
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")),
                        platform.processor())
    except OSError:
        return platform.processor()


def memory_gib():
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
            return round(kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        return None


def gpu_description():
    return command_output(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                           "--format=csv,noheader"]) or "none"


def openblas_core():
    """OpenBLAS's version and the kernel set it picked for this CPU (its results depend on
    them), or "" when it is not installed."""
    name = ctypes.util.find_library("openblas") or "libopenblas.so.0"
    try:
        lib = ctypes.CDLL(name)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        name, version = lib.openblas_get_config().decode().split()[:2]
        return f"{name} {version} (core {lib.openblas_get_corename().decode()})"
    except (OSError, AttributeError, ValueError):
        return ""


def build_has_blas(build_dir):
    """Whether the apps in build_dir were built with OpenBLAS (its generated config.hpp)."""
    try:
        with open(os.path.join(build_dir, "generated", "curnn", "config.hpp")) as f:
            return re.search(r"#define CURNN_HAVE_BLAS 1", f.read()) is not None
    except OSError:
        return None


def cpu_gemm(build_dir):
    """What the CPU backend's GEMMs run on: OpenBLAS with its kernel set, or the reference."""
    has_blas = build_has_blas(build_dir)
    if has_blas is False:
        return "reference loops (built without BLAS)"
    return openblas_core() or "OpenBLAS (version unknown)"


def machine_facts(build_dir):
    load = ""
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        pass
    return {"cpu": cpu_model(), "logical_cores": os.cpu_count(), "memory_gib": memory_gib(),
            "os": platform.platform(), "gpu": gpu_description(), "cpu_gemm": cpu_gemm(build_dir),
            "load_average": load}


def source_commit(repo):
    """(commit, dirty): HEAD and whether tracked files have uncommitted changes."""
    commit = command_output(["git", "rev-parse", "HEAD"], cwd=repo)
    dirty = bool(command_output(["git", "status", "--porcelain", "--untracked-files=no"],
                                cwd=repo))
    return commit, dirty


# ---- running an app while reading its JSON log --------------------------------------------------


class Watched:
    """An app started with its --log-json file watched: new_records() returns the complete
    records written since the last call. stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, argv, log_path, output_path, env=None):
        self.log_path = log_path
        self._offset, self._partial = 0, ""
        self._output = open(output_path, "w")
        try:
            self.process = subprocess.Popen(argv, stdout=self._output, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)
        except OSError as e:
            self._output.close()
            raise RecordError(f"cannot start {argv[0]}: {e}")
        self.started = time.monotonic()

    def _readable_log(self):
        """The log, or while the app runs its temporary file: the apps write every output to
        "<target>.tmp.<pid>.<n>" and rename it over the target when they finish
        (include/curnn/data/io.hpp), so the records of a run in progress are only there."""
        if os.path.exists(self.log_path):
            return self.log_path
        pending = sorted(glob.glob(glob.escape(self.log_path) + f".tmp.{self.process.pid}.*"))
        return pending[-1] if pending else self.log_path

    def new_records(self):
        try:
            with open(self._readable_log(), encoding="utf-8") as f:
                f.seek(self._offset)
                text = f.read()
                self._offset = f.tell()
        except FileNotFoundError:
            return []
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()  # an unfinished line waits for the next call
        return [json.loads(l) for l in lines if l.strip()]

    def running(self):
        return self.process.poll() is None

    def wait_for_records(self, timeout_s=0.2):
        """Sleeps up to timeout_s (shorter when the app exits), then returns new records."""
        deadline = time.monotonic() + timeout_s
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.new_records()

    def stop(self):
        if self.running():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self._output.close()
        return self.process.returncode

    def finish(self):
        """Waits for the app to exit; returns its exit status."""
        status = self.process.wait()
        self._output.close()
        return status


def tail(path, lines=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""
