#!/usr/bin/env python3
"""Checks a committed record (bench/records/*.jsonl[.gz]) on this machine: reruns its commands
with the apps of --build-dir and compares every figure they log with the record's, exactly.
Run it as scripts/check-record.sh (see there for the options); standard library only.

How much is rerun: --records N (the default, 3) compares the first N comparable records, and
stops the app there; --until TYPE[:K] goes on to the K-th record of that type (PTB's first
epoch: --until epoch); --all reruns every command to the end (and checks its exit status).
Compared: every field of every record, after the record's data and output folders are replaced
by --data-dir and a scratch folder; not compared: wall-clock fields (wps, elapsed_s, words/s,
seconds: is_wall_clock in curnn_record.py), the fast word2vec trainer's progress lines (written
every few seconds, not at fixed steps), and, where the fast trainer ran Hogwild (several threads
or the GPU), its loss and the evaluations of its vectors, which differ run to run by design.

Exit status: 0 when everything compared is identical; 1 on the first difference, or when a
rerun fails; 2 for bad arguments or an unreadable record; 3 when this machine cannot rerun it
(it needs a GPU, or a file made outside libcurnn that is not here).
"""
import argparse
import os
import shutil
import sys
import tempfile

import curnn_record as cr

EXIT_DIFFERENT, EXIT_BAD_INPUT, EXIT_CANNOT_CHECK = 1, 2, 3
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CannotCheck(Exception):
    pass


class Different(Exception):
    pass


def remap(value, prefixes):
    """value with each recorded folder prefix replaced by this run's (strings, recursively)."""
    if isinstance(value, str):
        for old, new in prefixes:
            if value == old or value.startswith(old.rstrip("/") + "/"):
                return new + value[len(old.rstrip("/")):]
        return value
    if isinstance(value, list):
        return [remap(v, prefixes) for v in value]
    if isinstance(value, dict):
        return {k: remap(v, prefixes) for k, v in value.items()}
    return value


def comparable_fields(record, section):
    """The record without the fields a rerun cannot repeat, and the names of those dropped."""
    dropped = set()
    kept = {}
    for key, value in record.items():
        if key == "_line":
            continue
        if cr.is_wall_clock(key) or key in cr.ENVIRONMENT_DEPENDENT_KEYS:
            dropped.add(key)
        elif key == "loss" and cr.hogwild(section["argv"]):
            dropped.add(key)
        elif key == "device" and isinstance(value, str) and value.startswith("cuda ("):
            kept[key] = "cuda"  # the GPU's description names this machine's card and driver
        else:
            kept[key] = value
    return kept, dropped


def first_difference(want, got, where=""):
    """A description of the first difference between two JSON values, or None."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in sorted(set(want) | set(got)):
            if key not in got:
                return f"{where}{key}: in the record ({want[key]!r}), not in the rerun"
            if key not in want:
                return f"{where}{key}: in the rerun ({got[key]!r}), not in the record"
            difference = first_difference(want[key], got[key], f"{where}{key}.")
            if difference:
                return difference
        return None
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{where.rstrip('.')}: {len(want)} items in the record, {len(got)} in the rerun"
        for i, (w, g) in enumerate(zip(want, got)):
            difference = first_difference(w, g, f"{where}[{i}].")
            if difference:
                return difference
        return None
    # Exact: JSON numbers parse to the same double only if the apps printed the same bits.
    if type(want) is not type(got) or want != got:
        return f"{where.rstrip('.')}: recorded {want!r}, rerun {got!r}"
    return None


def describe(record):
    """A short label for a record: its type and its step counters."""
    counters = [f"{k} {record[k]}" for k in ("epoch", "fraction", "step", "iter") if k in record]
    return " ".join([record.get("type", "?")] + counters)


class Checker:
    def __init__(self, args, header, sections):
        self.args, self.header, self.sections = args, header, sections
        self.scratch = tempfile.mkdtemp(prefix="curnn-check-record-")
        self.prefixes = [(header["paths"]["run"], self.scratch),
                         (header["paths"]["data"], os.path.abspath(args.data_dir))]
        self.compared = 0
        self.dropped = set()
        self.skipped = []  # notes on what was not compared

    def wanted(self, section):
        """The records of a section that a rerun must repeat."""
        out = []
        for record in section["records"]:
            if cr.time_triggered(section["argv"], record):
                continue
            out.append(record)
        return out

    def budget_reached(self):
        a = self.args
        if a.all:
            return False
        if a.until:
            return self.until_seen >= a.until_count
        return self.compared >= a.records

    def run(self):
        self.until_seen = 0
        hogwild_vectors = set()  # output files of Hogwild training: their evaluations differ
        for section in self.sections:
            if self.budget_reached():
                break
            argv = section["argv"]
            inputs = [a for a in argv if a in hogwild_vectors]
            if inputs:
                self.skipped.append(f"{section['name']}: evaluates {os.path.basename(inputs[0])}, "
                                    "trained Hogwild-style: not reproducible bit for bit")
                continue
            if cr.hogwild(argv):
                output = cr.option_value(argv, "-output")
                if output:
                    hogwild_vectors.add(output)
                self.skipped.append(f"{section['name']}: trained with several threads or on the "
                                    "GPU (Hogwild): its loss is not compared")
            self.run_section(section)

    def rerun_argv(self, section):
        argv = remap(section["argv"], self.prefixes)
        app = os.path.join(os.path.abspath(self.args.build_dir), "bin", cr.app_name(argv))
        if not os.access(app, os.X_OK):
            raise cr.RecordError(f"{app} is missing: build the apps (or pass --build-dir)")
        argv[0] = app
        if cr.option_value(argv, "--device") == "cuda" and cr.gpu_description() == "none":
            raise CannotCheck(f"{section['name']} ran on a GPU (--device cuda); this machine has "
                              "none")
        for arg in argv[1:]:
            # An input that is neither in this rerun's folder nor here (word2vec.c's vectors, or
            # data that --data-dir does not hold): the command cannot rerun without it.
            if (arg.startswith("/") and not arg.startswith(self.scratch)
                    and not os.path.exists(arg)):
                raise CannotCheck(f"{section['name']} reads {arg}, which is not on this machine "
                                  "(--data-dir?)")
        log = cr.option_value(argv, "--log-json")
        if log is None:
            raise cr.RecordError(f"{section['name']}: the recorded command has no --log-json")
        os.makedirs(os.path.dirname(log), exist_ok=True)
        for path_option in ("-output", "--output-dir", "--save-path"):
            target = cr.option_value(argv, path_option)
            if target:
                os.makedirs(os.path.dirname(target.rstrip("/")) or ".", exist_ok=True)
        return argv, log

    def run_section(self, section):
        argv, log = self.rerun_argv(section)
        if os.path.exists(log):
            os.remove(log)
        wanted = self.wanted(section)
        print(f"  rerunning {section['name']}: {' '.join(argv)}", flush=True)
        a = self.args
        runs_to_end = a.all or (not a.until and a.records - self.compared >= len(wanted))
        if runs_to_end and section.get("wall_s"):
            print(f"  (this compares the command's last record: it runs to the end, "
                  f"{section['wall_s']:,.0f} s when recorded)", flush=True)
        output = os.path.join(self.scratch, section["name"] + ".out")
        app = cr.Watched(argv, log, output)
        index = 0
        try:
            while index < len(wanted) and not self.budget_reached():
                got_records = [r for r in app.wait_for_records()
                               if not cr.time_triggered(argv, r)]
                if not got_records and not app.running():
                    raise Different(
                        f"{section['name']}: the rerun stopped (exit status "
                        f"{app.process.returncode}) after {index} of the {len(wanted)} records "
                        f"to compare; its last output:\n{cr.tail(output)}")
                for got in got_records:
                    if index >= len(wanted):
                        raise Different(f"{section['name']}: the rerun logged more records than "
                                        f"the record holds ({describe(got)})")
                    self.compare(section, wanted[index], got)
                    index += 1
                    if self.budget_reached():
                        break
            if index == len(wanted):
                status = app.finish()
                if status != 0:
                    raise Different(f"{section['name']}: the rerun exited with status {status} "
                                    f"after logging every record; its last output:\n"
                                    f"{cr.tail(output)}")
        finally:
            if app.running():
                print(f"  stopped the rerun of {section['name']} after {index} records: the rest "
                      "is not compared", flush=True)
            app.stop()

    def compare(self, section, want_record, got_record):
        want, dropped = comparable_fields(remap(want_record, self.prefixes), section)
        got, _ = comparable_fields(got_record, section)
        self.dropped |= dropped
        difference = first_difference(want, got)
        label = f"{section['name']} {describe(want_record)}"
        if difference:
            raise Different(f"{label} (line {want_record['_line']} of the record) differs: "
                            f"{difference}")
        self.compared += 1
        if self.args.until and want_record.get("type") == self.args.until_type:
            self.until_seen += 1
        if self.args.verbose:
            print(f"  same  {label}", flush=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="check-record.sh",
        description="Rerun a committed record's commands on this machine and compare every "
                    "figure exactly.")
    parser.add_argument("record", help="bench/records/NAME.jsonl or .jsonl.gz")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--records", type=int, default=3, metavar="N",
                       help="compare the first N comparable records (default 3)")
    group.add_argument("--until", metavar="TYPE[:K]",
                       help="compare up to the K-th (default 1st) record of TYPE, e.g. epoch")
    group.add_argument("--all", action="store_true",
                       help="rerun every command to the end")
    parser.add_argument("--data-dir", default=None,
                        help="the datasets, laid out as scripts/get-data.sh lays them out "
                             "(default: the record's data folder if it exists, else "
                             "<repo>/data)")
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                        help="where the apps are built (bin/ inside; default <repo>/build)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder with the rerun's logs")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each record as it is found identical")
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error(f"--records {args.records}: expected 1 or more")
    args.until_type, args.until_count = None, 0
    if args.until:
        kind, _, count = args.until.partition(":")
        if not kind or (count and (not count.isdigit() or int(count) < 1)):
            parser.error(f"--until {args.until}: expected TYPE or TYPE:K with K >= 1")
        args.until_type, args.until_count = kind, int(count or 1)
    return args


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    try:
        header, sections = cr.read_record(args.record)
    except cr.RecordError as e:
        print(f"check-record: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.data_dir is None:
        recorded = header["paths"]["data"]
        args.data_dir = recorded if os.path.isdir(recorded) else os.path.join(REPO, "data")
    if not os.path.isdir(args.data_dir):
        print(f"check-record: error: --data-dir {args.data_dir}: no such folder",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.until and not any(r.get("type") == args.until_type
                              for s in sections for r in s["records"]):
        print(f"check-record: error: --until {args.until}: the record has no "
              f"'{args.until_type}' records", file=sys.stderr)
        return EXIT_BAD_INPUT

    machine = header.get("machine", {})
    here_gemm = cr.cpu_gemm(args.build_dir)
    head, dirty = cr.source_commit(REPO)
    print(f"check-record: {args.record}")
    print(f"  made {header.get('date', '?')} from commit {header.get('commit', '?')[:12]} on "
          f"{machine.get('cpu', '?')} ({machine.get('logical_cores', '?')} cores; CPU GEMM: "
          f"{machine.get('cpu_gemm', '?')})")
    print(f"  rerun here: commit {head[:12] or '?'}{' (with uncommitted changes)' if dirty else ''}"
          f", CPU GEMM: {here_gemm}; data from {os.path.abspath(args.data_dir)}")
    notes = []
    if head and header.get("commit") and head != header["commit"]:
        notes.append("this checkout is another commit than the record's: the figures match "
                     "only if no change since touched the numerics")
    if header.get("device") == "cpu" and machine.get("cpu_gemm") != here_gemm:
        notes.append("OpenBLAS picks its kernels by CPU: another kernel set rounds differently, "
                     "so figures may differ here without anything being wrong")
    for note in notes:
        print(f"  note: {note}")
    scope = ("every record" if args.all else f"up to {args.until}" if args.until else
             f"the first {args.records} records")
    print(f"  comparing {scope}", flush=True)

    checker = Checker(args, header, sections)
    try:
        checker.run()
    except Different as e:
        print(f"FAIL: {e}")
        return EXIT_DIFFERENT
    except CannotCheck as e:
        print(f"CANNOT CHECK HERE: {e}")
        return EXIT_CANNOT_CHECK
    except cr.RecordError as e:
        print(f"check-record: error: {e}", file=sys.stderr)
        return EXIT_DIFFERENT
    finally:
        if args.keep:
            print(f"  the rerun's logs are in {checker.scratch}")
        else:
            shutil.rmtree(checker.scratch, ignore_errors=True)
    total = sum(len(checker.wanted(s)) for s in sections)
    for note in checker.skipped:
        print(f"  not compared: {note}")
    if checker.dropped:
        print(f"  not compared (wall clock or environment): {', '.join(sorted(checker.dropped))}")
    if args.until and checker.until_seen < args.until_count:
        print(f"FAIL: the rerun ended before the record's {args.until}")
        return EXIT_DIFFERENT
    print(f"PASS: {checker.compared} of the record's {total} comparable records reproduced "
          "exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
