#!/usr/bin/env python3
"""The summary of scripts/device-check.sh, from what its stages left in its work folder.

  device_check_report.py summary WORK --out SUMMARY.md [--dry-run] [--final]
      writes SUMMARY.md (after every stage) and prints the verdict. Exit status: 0 passed, 1 a
      test, sanitizer check, benchmark or app run failed (a dry run: a check of the script
      failed), 2 no GPU or no build, 3 incomplete (CUDA tests not run for lack of time).
  device_check_report.py sanitizer-probe LOG
      prints "ok", or "unavailable" and the reason on a second line, for the probe run
      (LOG, with its exit status in LOG.rc).
  device_check_report.py check-out DIR
      checks the device tool's rules for what comes back from $OUT: at most 8 files, 16 MiB
      each, no deeper than DIR/a/b/file, names of letters, digits, '.', '_' and '-' only.

Standard library only: it runs with whatever python3 the GPU machine has.
"""

import argparse
import json
import os
import re
import sys
import traceback

REQUIRE_GPU_TEXT = "CURNN_REQUIRE_GPU"
NO_DEVICE_TEXT = "no CUDA device"
TIMEOUT_RCS = (124, 137)

# Issue 13 §5, on one H100/H200 in FP32: libcurnn's end-to-end training throughput next to
# PyTorch + cuDNN's (bench/pytorch_baseline.py, "fp32" and "default" settings) from the same run.
# Per PyTorch row: the counter, the goal (best libcurnn case / PyTorch FP32) and libcurnn's cases
# as (label, benchmark program, benchmark name prefix).
SIDE_BY_SIDE = [
    ("ptb-small", "words/s", 2.0, [
        ("per step", "ptb_train_bench", "BM_PtbTrain/cuda_small/"),
        ("per step, graph", "ptb_train_bench", "BM_PtbTrainGraph/cuda_small_graph/"),
        ("persistent", "ptb_train_bench", "BM_PtbTrain/cuda_small_persistent/"),
        ("persistent, graph", "ptb_train_bench",
         "BM_PtbTrainGraph/cuda_small_persistent_graph/"),
    ]),
    ("ptb-medium", "words/s", 1.5, [
        ("per step", "ptb_train_bench", "BM_PtbTrain/cuda_medium/"),
        ("per step, graph", "ptb_train_bench", "BM_PtbTrainGraph/cuda_medium_graph/"),
    ]),
    ("ptb-large", "words/s", None, [
        ("per step", "ptb_train_bench", "BM_PtbTrain/cuda_large/"),
    ]),
    ("bilstm", "samples/s", 2.0, [
        ("per step", "bilstm_cuda_bench", "BM_BiLstmClassifier/train_step/B:128/H:256/"),
        ("per step, graph", "bilstm_cuda_bench",
         "BM_BiLstmClassifier/train_step_graph/B:128/H:256/"),
        ("persistent", "bilstm_cuda_bench",
         "BM_BiLstmClassifier/train_step_persistent/B:128/H:256/"),
        ("persistent, graph", "bilstm_cuda_bench",
         "BM_BiLstmClassifier/train_step_persistent_graph/B:128/H:256/"),
    ]),
]
PTB_TRAIN_WORDS = 929589  # one epoch of ptb.train.txt (words and <eos>)
LARGE_EPOCHS, LARGE_MINUTES = 55, 10
MAX_FILES, MAX_BYTES = 8, 16 << 20

RUN_RE = re.compile(r"^\[ RUN      \] (\S+)")
END_RE = re.compile(r"^\[ +(OK|FAILED|SKIPPED) +\] (\S+?)(?:, where .*)? \(\d+ ms\)")
SANITIZER_RECORD_RE = re.compile(
    r"^========= +(Invalid|Program hit|Error|Warning|Race|Uninitiali[sz]ed|Misaligned|"
    r"Out-of-range|Barrier|Leaked|Malloc|Free|Cuda|Unknown|Device|Target application)"
)
MEMCHECK_SUMMARY_RE = re.compile(r"ERROR SUMMARY: (\d+) errors?")
RACECHECK_SUMMARY_RE = re.compile(r"RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?")


def read(path, default=""):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return default


def read_int(path, default=None):
    text = read(path).split()
    try:
        return int(text[0]) if text else default
    except ValueError:
        return default


def lines_of(path):
    return [line for line in read(path).splitlines() if line.strip()]


def short(text, n=300):
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."


def message_of(body):
    """The first lines of a failed or skipped test's output, file paths cut to their names."""
    kept = []
    for line in body:
        if not line.strip() or line.startswith("========="):
            continue
        line = re.sub(r"^\S*/([^/\s]+:\d+): ", r"\1: ", line.strip())
        if line in ("Skipped", "Failed") or line.endswith(": Skipped"):
            continue
        kept.append(line)
        if len(kept) == 4:
            break
    return short(" | ".join(kept))


class Gtest:
    """The outcome of one GoogleTest run, from its console output (possibly cut off)."""

    def __init__(self, text):
        self.passed, self.failed, self.skipped = [], {}, {}
        self.unfinished = None
        current, body = None, []
        for line in text.splitlines():
            m = RUN_RE.match(line)
            if m:
                current, body = m.group(1), []
                continue
            m = END_RE.match(line)
            if m and current is not None and m.group(2) == current:
                kind = m.group(1)
                if kind == "OK":
                    self.passed.append(current)
                elif kind == "FAILED":
                    self.failed[current] = message_of(body)
                else:
                    self.skipped[current] = message_of(body)
                current = None
                continue
            if current is not None:
                body.append(line)
        self.unfinished = current

    @property
    def ran(self):
        return len(self.passed) + len(self.failed) + len(self.skipped)


def rc_text(rc, seconds=None):
    if rc is None:
        return "no exit status (cut off)"
    if rc in TIMEOUT_RCS:
        return "timeout" + (f" after {seconds} s" if seconds is not None else "")
    if rc > 128:
        return f"killed by signal {rc - 128}"
    return f"rc={rc}"


class Summary:
    def __init__(self, work, dry, final):
        self.work, self.dry, self.final = work, dry, final
        self.logs = os.path.join(work, "logs")
        self.state = os.path.join(work, "state")
        self.failures = []  # the code failed (a GPU run's verdict)
        self.incomplete = []  # something the budget did not reach
        self.expected = []  # a dry run: the no-GPU outcome seen where it must be
        self.problems = lines_of(os.path.join(self.state, "problems.txt"))  # dry-run checks
        self.stage_results = {}
        self.out = []

    def log(self, *parts):
        return os.path.join(self.logs, *parts)

    def emit(self, *lines):
        self.out.extend(lines)

    def problem(self, text):
        self.problems.append(text)

    # ---- stages ---------------------------------------------------------------------------------
    def env(self):
        text = read(self.log("env.txt")).strip()
        self.emit("## env", "", "```text", text or "(not collected)", "```", "")
        missing = read(self.log("missing-libs.txt")).strip()
        if missing:
            self.emit("**Missing shared libraries:**", "```text", missing, "```", "")
            self.failures.append("missing shared libraries")
        for name in lines_of(os.path.join(self.state, "cannot_start.txt")):
            self.failures.append(f"{name} does not start")
            listing = read(self.log("tests", name + ".listing")).strip().splitlines()
            self.emit(f"**{name} does not start:** {short(' '.join(listing[-3:]))}", "")
        self.stage_results["env"] = "no GPU" if self.no_gpu() else "ok"

    def no_gpu(self):
        for f in ("no_gpu", "no_build"):
            text = read(os.path.join(self.state, f)).strip()
            if text:
                return text
        return ""

    def tests(self):
        d = self.log("tests")
        if not os.path.isdir(d) or not os.path.exists(os.path.join(self.state, "tests.started")):
            return
        order = lines_of(os.path.join(d, "order.txt"))
        self.emit("## CUDA tests (`--gtest_filter=*Cuda*`, `CURNN_REQUIRE_GPU=1`)", "")
        if not order:
            self.emit(
                "No test binary with CUDA tests in this build (a CPU-only build): the stage's "
                "commands were not run.",
                "",
            )
            self.stage_results["tests"] = "no CUDA test binaries"
            return
        rows, fails, skips = [], [], []
        totals = dict(listed=0, passed=0, failed=0, skipped=0, notrun=0)
        for name in order:
            base = os.path.join(d, name)
            listed = lines_of(base + ".list")
            totals["listed"] += len(listed)
            if os.path.exists(base + ".notrun"):
                rows.append(
                    f"| {name} | | | | {len(listed)} | | not started: the budget was spent |"
                )
                totals["notrun"] += len(listed)
                self.incomplete.append(f"{name} not started")
                continue
            if not os.path.exists(base + ".log"):
                continue  # this stage has not run it (yet)
            g = Gtest(read(base + ".log"))
            rc = read_int(base + ".rc")
            secs = read_int(base + ".time")
            notrun = max(0, len(listed) - g.ran)
            note = []
            if rc is None or rc in TIMEOUT_RCS or (rc not in (0, 1)):
                note.append(rc_text(rc, secs))
            if g.unfinished:
                note.append(f"stopped in {g.unfinished}")
            for t, msg in g.failed.items():
                fails.append(f"- `{t}` ({name}): {msg}")
            if g.unfinished:
                fails.append(f"- `{g.unfinished}` ({name}): did not finish ({rc_text(rc, secs)})")
            for t, msg in g.skipped.items():
                skips.append(f"- `{t}` ({name}): {msg}")
            totals["passed"] += len(g.passed)
            totals["failed"] += len(g.failed)
            totals["skipped"] += len(g.skipped)
            totals["notrun"] += notrun
            rows.append(
                f"| {name} | {len(g.passed)} | {len(g.failed)} | {len(g.skipped)} | "
                f"{notrun} | {secs if secs is not None else ''} | {'; '.join(note)} |"
            )
            if self.dry:
                self.dry_check_tests(name, listed, g, rc)
                continue
            if g.failed:
                self.failures.append(f"{len(g.failed)} CUDA test(s) failed in {name}")
            if g.unfinished and rc not in TIMEOUT_RCS:
                self.failures.append(f"{name} crashed in {g.unfinished} ({rc_text(rc)})")
            elif rc in TIMEOUT_RCS or rc is None:
                self.incomplete.append(
                    f"{name}: {rc_text(rc, secs)}" + (f" in {g.unfinished}" if g.unfinished else "")
                )
            elif rc != 0 and not g.failed:
                self.failures.append(f"{name} exited with {rc_text(rc)}")
            for t, msg in g.skipped.items():
                if NO_DEVICE_TEXT in msg:
                    self.failures.append(f"{t} skipped for lack of a device")
        seen = [
            line
            for name in order
            for line in read(os.path.join(d, name + ".log")).splitlines()
            if line.startswith("[    device] ")
        ]
        if seen:  # tests/core_cuda_test.cpp prints the device as the CUDA runtime describes it
            self.emit("Device: " + seen[0][len("[    device] ") :], "")
        self.emit(
            "| binary | passed | failed | skipped | not run | s | note |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
        )
        self.emit(
            f"Total: {totals['listed']} CUDA tests listed, {totals['passed']} passed, "
            f"{totals['failed']} failed, {totals['skipped']} skipped, {totals['notrun']} not run.",
            "",
        )
        no_device = [f for f in fails if REQUIRE_GPU_TEXT in f]
        if no_device and not self.dry:
            self.failures.insert(
                0, f"{len(no_device)} CUDA tests found no device: " + no_device[0].split(": ", 1)[1]
            )
        if fails:
            limit = 3 if self.dry else 40
            self.emit(
                "Failed tests:"
                + (" (a dry run: each must fail for the missing device)" if self.dry else ""),
                *fails[:limit],
            )
            if len(fails) > limit:
                self.emit(f"- ... and {len(fails) - limit} more (logs/tests/ in the tarball)")
            self.emit("")
        if skips:
            self.emit("Skipped tests:", *skips, "")
        self.stage_results["tests"] = (
            f"{totals['passed']} passed, {totals['failed']} failed, "
            f"{totals['skipped']} skipped, {totals['notrun']} not run "
            f"of {totals['listed']}"
        )

    def dry_check_tests(self, name, listed, g, rc):
        if rc in TIMEOUT_RCS or rc is None:
            self.problem(f"{name}: {rc_text(rc)} in a dry run")
        if g.ran != len(listed):
            self.problem(
                f"{name}: ran {g.ran} tests but --gtest_list_tests listed {len(listed)} "
                "(the run's filter or arguments differ from the listing's)"
            )
        for t, msg in g.skipped.items():
            if NO_DEVICE_TEXT in msg:
                self.problem(f"{t} skipped without a device although CURNN_REQUIRE_GPU=1 was set")
        for t, msg in g.failed.items():
            if REQUIRE_GPU_TEXT in msg:
                self.expected.append(t)
            else:
                self.problem(f"{t} failed for another reason than the missing device: {msg}")

    def reproduce_section(self, stage, title, log, report_md):
        cmd = read(log + ".cmd").strip()
        if not cmd and not os.path.exists(log + ".skipped"):
            return None  # the stage has not run
        self.emit(f"## {title}", "")
        if os.path.exists(log + ".skipped") and not self.dry:
            why = read(log + ".skipped").strip()
            self.emit(f"Skipped: {why}", "")
            self.stage_results[stage] = "skipped"
            return None
        self.emit(f"`{cmd}`", "")
        if self.dry:
            self.emit(
                "Dry run: the apps exist and scripts/reproduce.sh accepts these arguments.", ""
            )
            self.stage_results[stage] = "arguments checked"
            return None
        rc = read_int(log + ".rc")
        table = [line for line in read(report_md).splitlines() if line.startswith("|")]
        if table:
            self.emit(*table[:30], "")
        if rc != 0:
            tail = read(log).strip().splitlines()[-12:]
            self.emit(f"{rc_text(rc)}; the log's end:", "```text", *tail, "```", "")
        self.stage_results[stage] = "passed" if rc == 0 else rc_text(rc)
        return rc

    def smoke(self):
        rc = self.reproduce_section(
            "smoke",
            "Apps on the GPU, tiny data (`scripts/reproduce.sh --smoke`)",
            self.log("smoke.log"),
            self.log("smoke-report.md"),
        )
        if rc is not None and rc != 0:
            self.failures.append(f"the app smoke run failed ({rc_text(rc)})")

    def apps(self):
        rc = self.reproduce_section(
            "apps",
            "The experiments' full runs (`--apps`)",
            self.log("apps.log"),
            self.log("apps-report.md"),
        )
        if rc in TIMEOUT_RCS:
            self.incomplete.append("the full runs were cut off by their budget")
        elif rc is not None and rc != 0:
            self.failures.append(f"the full runs failed ({rc_text(rc)})")

    def section(self, folder, title):
        """The stage's log folder, its heading emitted; None where the stage has not run."""
        d = self.log(folder)
        if not os.path.isdir(d):
            return None
        self.emit(f"## {title}", "")
        return d

    def sanitizers(self):
        d = self.section("sanitizers", "compute-sanitizer")
        if d is None:
            return
        why = read(os.path.join(d, "unavailable")).strip()
        probe = os.path.join(d, "probe.log")
        if os.path.exists(probe):
            self.emit(
                f"Probe (memcheck, `{read(probe + '.filter').strip()}`): "
                + ("ok" if not why else f"failed: {why}"),
                "",
            )
        if why:
            self.emit(
                f"**sanitizer unavailable**: {why}. No sanitizer results; this is not a "
                "failure of the code.",
                "",
            )
            self.stage_results["sanitizers"] = "sanitizer unavailable"
            if (
                self.dry
                and os.path.exists(probe)
                and "Device not supported (fake)" not in read(probe)
            ):
                self.problem(f"the fake sanitizer's probe failed: {why}")
            return
        rows, details, counts = [], [], dict(clean=0, errors=0, timeout=0, other=0, notrun=0)
        for job in lines_of(os.path.join(d, "jobs.txt")):
            tool, name = job.split()
            log = os.path.join(d, f"{tool}.{name}.log")
            if os.path.exists(log + ".notrun"):
                rows.append(f"| {tool} | {name} | not run: the budget was spent | |")
                counts["notrun"] += 1
                continue
            if not os.path.exists(log + ".rc") and not os.path.exists(log):
                continue
            kind, result, extra = classify_sanitizer(log, self.log("tests", name + ".list"))
            counts[kind] += 1
            secs = read_int(log + ".time")
            rows.append(f"| {tool} | {name} | {result} | {secs if secs is not None else ''} |")
            details.extend(f"  {x}" for x in extra)
            if kind == "errors":
                self.failures.append(f"{tool} found errors in {name}")
                details.insert(len(details) - len(extra), f"- {tool} {name}:")
            elif kind == "other":
                self.failures.append(f"{tool} {name}: {result}")
            if self.dry and kind == "other":
                self.problem(f"sanitizer job {tool} {name}: {result}")
        missing = lines_of(os.path.join(d, "racecheck-missing"))
        self.emit("| tool | binary | result | s |", "|---|---|---|---|", *rows, "")
        if details:
            self.emit("Findings:", "```text", *details[:60], "```", "")
        if missing:
            self.emit(
                "Kernels with shared memory without a test binary of the same name (no "
                f"racecheck): {', '.join(missing)}",
                "",
            )
        self.stage_results["sanitizers"] = ", ".join(f"{v} {k}" for k, v in counts.items() if v)

    def bench(self):
        d = self.section("bench", "Benchmarks (CUDA kernels; `ptb_train_bench` cuda_*)")
        if d is None:
            return
        none = read(os.path.join(d, "none")).strip()
        if none:
            self.emit(none + ": nothing run.", "")
            self.stage_results["bench"] = "no CUDA benchmarks"
            return
        self.w2v_quality(d)
        results, blocks, errors, ran = [], [], 0, 0
        for name in lines_of(os.path.join(d, "jobs.txt")):
            base = os.path.join(d, name)
            listed = lines_of(base + ".list")
            if os.path.exists(base + ".notrun"):
                results.append(f"- {name}: not run (the budget was spent)")
                continue
            rc = read_int(base + ".rc")
            data = {}
            try:
                data = json.loads(read(base + ".json") or "{}")
            except ValueError:
                pass
            runs = [
                b
                for b in data.get("benchmarks", [])
                if b.get("run_type", "iteration") == "iteration"
            ]
            errs = [b for b in runs if b.get("error_occurred")]
            ran += 1
            if self.dry:
                bad = [b for b in errs if NO_DEVICE_TEXT not in b.get("error_message", "")]
                if len(runs) != len(listed) or len(errs) != len(runs) or bad:
                    self.problem(
                        f"{name}: {len(runs)} benchmarks ran of {len(listed)} listed, "
                        f"{len(errs)} reported '{NO_DEVICE_TEXT}' (all must, without a GPU)"
                    )
                else:
                    self.expected.append(name)
                if rc != 0:
                    self.problem(f"{name}: {rc_text(rc)} ({short(read(base + '.txt')[-200:])})")
                continue
            errors += len(errs)
            for b in errs:
                self.failures.append(f"benchmark {b.get('name')}: {b.get('error_message')}")
            if rc in TIMEOUT_RCS:
                results.append(f"- {name}: timeout after {len(runs)} of {len(listed)} benchmarks")
            elif rc != 0:
                self.failures.append(f"{name} {rc_text(rc)}")
                results.append(f"- {name}: {rc_text(rc)}")
            keep = [
                line
                for line in read(base + ".txt").splitlines()
                if line.strip()
                and not re.match(
                    r"^(-+$|\*\*\*|Running|Run on|CPU Caches|  L\d|"
                    r"Load Average|Benchmark +Time|\d{4}-\d\d-\d\d)",
                    line,
                )
            ]
            blocks.extend(keep[:40])
        if results:
            self.emit(*results, "")
        if blocks:
            self.emit("```text", *blocks, "```", "")
        if self.dry:
            benched = sum(e.endswith("_bench") for e in self.expected)
            self.emit(
                f"Dry run: {benched} of {ran} benchmark programs ran and reported "
                f"'{NO_DEVICE_TEXT}' for every case.",
                "",
            )
        self.stage_results["bench"] = f"{ran} programs" + (f", {errors} errors" if errors else "")

    def w2v_quality(self, d):
        """The word2vec table of bench/w2v_gpu_quality: words/s with analogy accuracy."""
        base = os.path.join(d, "w2v_gpu_quality")
        title = "### word2vec: words/s with analogy accuracy (`w2v_gpu_quality`)"
        notrun = read(base + ".notrun").strip()
        if notrun:
            self.emit(title, "", f"Not run: {notrun}.", "")
            return
        text = read(base + ".txt")
        if self.dry:
            if text:
                self.emit(title, "", "Dry run: `w2v_gpu_quality --help` works.", "")
            return
        rc = read_int(base + ".rc")
        rows = [
            line
            for line in text.splitlines()
            if line.startswith("|") or line.startswith("w2v_gpu_quality:")
        ]
        self.emit(title, "", *rows, "")
        if rc is None or rc in TIMEOUT_RCS:
            self.emit("Cut off by its time limit: the rows above are the runs that finished.", "")
        elif rc != 0:
            self.failures.append(f"w2v_gpu_quality {rc_text(rc)}: {short(text[-300:])}")
            self.emit(f"`w2v_gpu_quality` failed ({rc_text(rc)}): {short(text[-300:])}", "")

    def baseline(self):
        txt = self.log("baseline.txt")
        if not os.path.exists(txt):
            return
        self.emit("## PyTorch/cuDNN baseline (`bench/pytorch_baseline.py`)", "")
        if self.dry:
            self.emit(
                f"Dry run: `{read(self.log('baseline.cmd')).strip()}` accepts its arguments.", ""
            )
            self.stage_results["baseline"] = "arguments checked"
            return
        rc = read_int(self.log("baseline.rc"))
        text = read(txt).strip().splitlines()
        self.emit("```text", *text[-25:], "```", "")
        if rc == 0:
            self.stage_results["baseline"] = "done"
        else:
            missing = any("No module named" in line for line in text)
            self.stage_results["baseline"] = "unavailable (no torch)" if missing else rc_text(rc)
            self.emit(
                f"The baseline did not finish ({self.stage_results['baseline']}); not a "
                "failure of libcurnn.",
                "",
            )

    def side_by_side(self):
        """libcurnn's training throughput over PyTorch + cuDNN's, as ratios (SIDE_BY_SIDE)."""
        if self.dry:
            return
        try:
            torch_data = json.loads(read(self.log("pytorch_baseline.json")) or "{}")
        except ValueError:
            torch_data = {}
        torch_rows = {(r.get("run"), r.get("settings")): r for r in torch_data.get("runs", [])}
        benches = {}
        for program in {case[1] for row in SIDE_BY_SIDE for case in row[3]}:
            try:
                data = json.loads(read(self.log("bench", program + ".json")) or "{}")
            except ValueError:
                data = {}
            benches[program] = [
                b for b in data.get("benchmarks", [])
                if b.get("run_type", "iteration") == "iteration" and not b.get("error_occurred")
            ]
        if not torch_rows and not any(benches.values()):
            return

        def number(x):
            return "-" if x is None else f"{x:,.0f}"

        def ratio(a, b):
            return "-" if a is None or not b else f"{a / b:.2f}x"

        table = ["| workload | libcurnn | per s | PyTorch FP32 | ratio | PyTorch out of the box "
                 "| ratio |", "|---|---|---|---|---|---|---|"]
        verdicts = []
        for run, unit, goal, cases in SIDE_BY_SIDE:
            key = "words_per_s" if unit == "words/s" else "samples_per_s"
            fp32 = torch_rows.get((run, "fp32"), {}).get(key)
            default = torch_rows.get((run, "default"), {}).get(key)
            best = None
            for label, program, prefix in cases:
                found = [
                    b for b in benches.get(program, []) if b.get("name", "").startswith(prefix)
                ]
                value = found[0].get(unit) if found else None
                if value is not None and (best is None or value > best):
                    best = value
                table.append(
                    f"| {run} | {label} | {number(value)} {unit} | {number(fp32)} | "
                    f"{ratio(value, fp32)} | {number(default)} | {ratio(value, default)} |"
                )
            if goal is not None:
                if best is None or not fp32:
                    verdicts.append(f"- {run}: goal {goal:g}x PyTorch FP32: not measured")
                else:
                    met = "met" if best / fp32 >= goal else "NOT met"
                    verdicts.append(f"- {run}: best {best / fp32:.2f}x PyTorch FP32, goal "
                                    f"{goal:g}x: {met}")
            elif best:
                minutes = LARGE_EPOCHS * PTB_TRAIN_WORDS / best / 60
                met = "met" if minutes < LARGE_MINUTES else "NOT met"
                verdicts.append(f"- {run}: {LARGE_EPOCHS} epochs would take {minutes:.1f} min at "
                                f"{best:,.0f} words/s, goal < {LARGE_MINUTES} min: {met}")
        self.emit("## Side by side with PyTorch + cuDNN (same card, same run)", "", *table, "",
                  *verdicts, "")

    # ---- the whole ------------------------------------------------------------------------------
    def stages_table(self):
        plan = [line.split("\t") for line in lines_of(os.path.join(self.state, "plan.tsv"))[1:]]
        done = {}
        for line in lines_of(os.path.join(self.state, "stages.tsv")):
            name, budget, start, took = line.split("\t")
            done[name] = (start, took)
        rows = ["| stage | budget s | started at s | took s | result |", "|---|---|---|---|---|"]
        total = 0
        for name, budget, _what in plan:
            total += int(budget)
            start, took = done.get(name, ("", ""))
            result = self.stage_results.get(name, "" if name in done else "not run (yet)")
            if name == "wrapup":
                result = ""
            rows.append(f"| {name} | {budget} | {start} | {took} | {result} |")
        rows.append(f"| sum | {total} | | | |")
        not_run = [p[0] for p in plan if p[0] not in done and p[0] != "wrapup"]
        return rows, not_run, list(done)

    def verdict(self):
        why = self.no_gpu()
        if why:
            return 2, f"NO GPU: {why}"
        if self.dry:
            if self.problems:
                return 1, f"DRY RUN FOUND {len(self.problems)} PROBLEM(S)"
            if self.failures:
                return 1, "DRY RUN: simulated failures: " + "; ".join(self.failures[:5])
            return 0, "DRY RUN OK"
        if self.problems:  # defects of device-check.sh itself, found while running
            self.failures.extend(f"device-check problem: {p}" for p in self.problems)
        if self.failures:
            more = f" (+{len(self.failures) - 6} more)" if len(self.failures) > 6 else ""
            return 1, "FAILED: " + "; ".join(self.failures[:6]) + more
        if self.incomplete:
            return 3, "INCOMPLETE: " + "; ".join(self.incomplete[:6])
        return 0, "PASSED"

    def write(self, path):
        self.env()
        if not self.no_gpu():
            self.tests()
            self.smoke()
            self.sanitizers()
            self.bench()
            self.baseline()
            self.side_by_side()
            self.apps()
        rc, verdict = self.verdict()
        rows, not_run, done = self.stages_table()
        head = [f"# device-check: {verdict}", ""]
        if self.final:
            head.append(f"Finished; stages run: {', '.join(done) or 'none'}.")
        else:
            head.append(
                f"Written after stage {done[-1] if done else '-'}; not run yet: "
                f"{', '.join(not_run) or 'none'} (a run cut off here returns this much)."
            )
        head.append("")
        head.extend(rows)
        head.append("")
        if self.dry:
            head.append("## Dry-run checks")
            head.append("")
            head.append(
                f"Expected without a GPU and seen: {len(self.expected)} CUDA tests and "
                "benchmark programs reported the missing device."
            )
            head.extend(f"- PROBLEM: {p}" for p in self.problems)
            if not self.problems:
                head.append(
                    "- no problems: every stage's command exists, its filters match, its "
                    "arguments are accepted"
                )
            head.append("")
        elif self.problems:
            head.extend(
                ["## Problems of device-check.sh itself", ""]
                + [f"- {p}" for p in self.problems]
                + [""]
            )
        text = "\n".join(head + self.out) + "\n"
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        print(verdict)
        return rc


def classify_sanitizer(log, list_path):
    """(kind, one-line result, detail lines) for one compute-sanitizer job; kind is clean, errors,
    timeout (not a failure) or other (a test failed or the tool gave no summary)."""
    text = read(log)
    rc = read_int(log + ".rc")
    secs = read_int(log + ".time")
    g = Gtest(text)
    excluded = (
        set(lines_of(log + ".filter")[0].split(":-")[1].split(":"))
        if ":-" in read(log + ".filter")
        else set()
    )
    expected = [t for t in lines_of(list_path) if t not in excluded] if list_path else []
    n = len(expected) if expected else g.ran
    records = [line.strip() for line in text.splitlines() if SANITIZER_RECORD_RE.match(line)]
    lines = text.splitlines()
    detail = []
    for i, line in enumerate(lines):
        if SANITIZER_RECORD_RE.match(line):
            at = next((x.strip("= ") for x in lines[i + 1 : i + 4] if " at " in x), "")
            detail.append(short(line.strip("= ") + (" | " + at if at else ""), 240))
        if len(detail) == 6:
            break
    m = MEMCHECK_SUMMARY_RE.search(text) or RACECHECK_SUMMARY_RE.search(text)
    summary = next((x.strip("= ").strip() for x in lines if m and m.group(0) in x), "")
    tests = f"{g.ran} of {n} tests"
    if rc in TIMEOUT_RCS or rc is None:
        if records:
            return (
                "errors",
                f"timeout after {secs} s, {tests} finished, {len(records)} error records",
                detail,
            )
        return "timeout", f"timeout after {secs} s ({tests} finished, no error in them)", []
    if rc == 99 or (m and int(m.group(1)) > 0):
        return "errors", f"ERRORS: {summary or 'rc=99'} ({tests})", detail
    if rc == 0 and m:
        if g.ran == 0:
            return "other", f"no test ran ({summary})", []
        return "clean", f"{summary} ({tests})", []
    if rc == 0:
        return "other", f"no sanitizer summary in the log ({tests})", detail
    failed = [f"{t}: {msg}" for t, msg in g.failed.items()]
    return (
        "other",
        f"{rc_text(rc)}: {len(g.failed)} tests failed under the tool ({tests})",
        (failed or detail)[:6],
    )


def sanitizer_probe(log):
    text = read(log)
    rc = read_int(log + ".rc")
    g = Gtest(text)
    records = [line.strip() for line in text.splitlines() if SANITIZER_RECORD_RE.match(line)]
    m = MEMCHECK_SUMMARY_RE.search(text)
    if rc == 0 and m and int(m.group(1)) == 0 and g.passed and not g.failed and not records:
        print("ok")
        return 0
    if rc in TIMEOUT_RCS or rc is None:
        reason = f"the probe timed out ({rc_text(rc)})"
    elif records:
        reason = records[0].lstrip("= ")
    elif g.failed:
        reason = "the probe test failed under memcheck: " + next(iter(g.failed.values()))
    else:
        last = [line for line in text.splitlines() if line.strip()][-1:] or ["no output"]
        reason = f"{rc_text(rc)}: {short(last[0], 200)}"
    print("unavailable")
    print(short(reason, 300))
    return 0


def check_out(folder):
    bad, files = [], []
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                bad.append(f"{rel}: a link")
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
                bad.append(f"{rel}: a name with characters other than letters, digits, . _ -")
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            files.append(rel)
            if len(rel.split(os.sep)) > 3:
                bad.append(f"{rel}: deeper than DIR/a/b/file")
            if os.path.getsize(path) > MAX_BYTES:
                bad.append(f"{rel}: {os.path.getsize(path)} bytes, over 16 MiB")
    if len(files) > MAX_FILES:
        bad.append(f"{len(files)} files, over {MAX_FILES}: {', '.join(sorted(files))}")
    for line in bad:
        print(line)
    if not bad:
        print(f"ok: {len(files)} files: {', '.join(sorted(files))}")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("summary")
    s.add_argument("work")
    s.add_argument("--out", required=True)
    s.add_argument("--dry-run", action="store_true")
    s.add_argument("--final", action="store_true")
    p = sub.add_parser("sanitizer-probe")
    p.add_argument("log")
    c = sub.add_parser("check-out")
    c.add_argument("folder")
    args = ap.parse_args()
    if args.cmd == "summary":
        return Summary(args.work, args.dry_run, args.final).write(args.out)
    if args.cmd == "sanitizer-probe":
        return sanitizer_probe(args.log)
    return check_out(args.folder)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # exit 5, apart from the verdicts 0-3 (device-check.sh falls back)
        traceback.print_exc()
        sys.exit(5)
