#!/usr/bin/env python3
"""Writes the records of a finished scripts/reproduce.sh run into bench/records/, one per
experiment, and prints the README's results table from the records there.

    python3 scripts/write_records.py --run report --dest bench/records
    python3 scripts/write_records.py --table bench/records

A record is <experiment>-<device>-<commit>.jsonl (.jsonl.gz when over 100 KB): a header with the
exact command line, the commit, the machine and the date, then each command the experiment ran
(its argv and wall time) followed by its --log-json records (format: curnn_record.py). Never
checkpoints or vectors. reproduce.sh --records DIR calls this after its run; the run folder
needs its run.json, steps.tsv, NAME.argv and NAME.jsonl files. The commit must have been clean
(no uncommitted changes to tracked files) unless --allow-dirty, which marks the record -dirty.
scripts/check-record.sh reruns a record. Exit status: 0, or 2 for bad input.
"""
import argparse
import glob
import json
import os
import re
import sys

import curnn_record as cr

EXIT_BAD_INPUT = 2
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Experiment -> the run's steps that make it (in order); the first one must be there.
EXPERIMENTS = (
    ("ptb", ("ptb",)),
    ("mnist-bilstm", ("mnist",)),
    ("word2vec-tutorial", ("word2vec-tutorial", "analogy-tutorial", "wordsim-tutorial")),
    ("word2vec-fast", ("word2vec-fast", "analogy-fast", "wordsim-fast")),
    ("word2vec-c-vectors", ("analogy-word2vec-c", "wordsim-word2vec-c")),
)


class BadInput(Exception):
    pass


def read_argv(path):
    with open(path, "rb") as f:
        parts = f.read().split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "surrogateescape") for p in parts]


def read_steps(path):
    steps = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, seconds, _ = line.rstrip("\n").split("\t", 2)
            steps[name] = float(seconds)
    return steps


def device_slug(run):
    """cpu, or the GPU's model in lower case (NVIDIA H200 -> h200)."""
    if run["device"] != "cuda":
        return "cpu"
    name = run.get("machine", {}).get("gpu", "").split(",")[0]
    name = re.sub(r"^nvidia\s+", "", name.strip(), flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "gpu"


def experiment_name(base, run, folder):
    if base == "ptb":
        config = cr.read_jsonl(os.path.join(folder, "ptb.jsonl")) or []
        model = next((r["config"]["name"] for r in config if r.get("type") == "config"), None)
        if model is None:
            raise BadInput(f"{folder}/ptb.jsonl: no config record")
        base = f"ptb-{model}"
    return base if run["mode"] == "full" else f"{base}-{run['mode']}"


def write_records(args):
    folder = os.path.abspath(args.run)
    run_path = os.path.join(folder, "run.json")
    if not os.path.exists(run_path):
        raise BadInput(f"{run_path}: missing (the folder of a scripts/reproduce.sh run has it)")
    if os.path.exists(os.path.join(folder, "INCOMPLETE.md")) or not os.path.exists(
            os.path.join(folder, "report.md")):
        raise BadInput(f"{folder}: the run did not finish (no report.md): no records from it")
    with open(run_path, encoding="utf-8") as f:
        run = json.load(f)
    if not re.fullmatch(r"[0-9a-f]{40}", run.get("commit") or ""):
        raise BadInput(f"{run_path}: no commit (was the run made from a git checkout?)")
    if run.get("dirty") and not args.allow_dirty:
        raise BadInput(f"the run was made with uncommitted changes to {run['commit'][:10]}: a "
                       "record must name the commit that made it. Commit and rerun, or pass "
                       "--allow-dirty (the records are then marked -dirty)")
    steps = read_steps(os.path.join(folder, "steps.tsv"))
    os.makedirs(args.dest, exist_ok=True)
    written = []
    for base, names in EXPERIMENTS:
        if names[0] not in steps:
            continue
        experiment = experiment_name(base, run, folder)
        header = {"type": "record", "format": cr.FORMAT, "experiment": experiment,
                  "mode": run["mode"], "device": run["device"], "commit": run["commit"],
                  "date": run["date"], "machine": run["machine"],
                  "environment": run.get("environment", {}),
                  "paths": {"data": run["data_dir"], "run": run["run_dir"],
                            "build": run["build_dir"]},
                  "reproduce": run["command_line"]}
        if run.get("dirty"):
            header["dirty"] = True
        if base == "word2vec-c-vectors" and run.get("word2vec_c_note"):
            header["vectors_made_by"] = run["word2vec_c_note"]
        lines = [header]
        for name in names:
            if name not in steps:
                continue
            records = cr.read_jsonl(os.path.join(folder, name + ".jsonl"))
            if records is None:
                raise BadInput(f"{folder}/{name}.jsonl: missing (the step ran: steps.tsv)")
            lines.append({"type": "command", "name": name,
                          "argv": read_argv(os.path.join(folder, name + ".argv")),
                          "wall_s": steps[name]})
            lines += records
        stem = f"{experiment}-{device_slug(run)}-{run['commit'][:10]}"
        if run.get("dirty"):
            stem += "-dirty"
        for old in glob.glob(os.path.join(args.dest, stem + ".jsonl*")):
            os.remove(old)  # a plain and a .gz version of one record must not coexist
        written.append(cr.write_record(os.path.join(args.dest, stem), lines))
    if not written:
        raise BadInput(f"{folder}: no experiment ran (steps.tsv)")
    for path in written:
        print(f"write_records.py: wrote {path} ({os.path.getsize(path):,} bytes)")
    print("write_records.py: check one with scripts/check-record.sh FILE; then git add them")
    return 0


# ---- the README's table ---------------------------------------------------------------------


def last(records, kind):
    found = [r for r in records if r.get("type") == kind]
    return found[-1] if found else None


def record_figures(header, sections):
    """(experiment label, metric, our figure, the book's or the reference's) of a record."""
    by_name = {s["name"]: s["records"] for s in sections}
    experiment = header["experiment"]
    if experiment.startswith("ptb-"):
        records = by_name["ptb"]
        model = last(records, "config")["config"]["name"]
        epochs = [r for r in records if r.get("type") == "epoch"]
        test = last(records, "test")
        figure = f"{test['test_perplexity']:.1f}" if test else "(no test record)"
        if epochs:
            figure += (f" (valid {epochs[-1]['valid_perplexity']:.1f}, train "
                       f"{epochs[-1]['train_perplexity']:.1f}, {len(epochs)} epochs)")
        return (f"PTB LSTM LM, {model}", "test perplexity", figure,
                str(cr.BOOK_PTB_PERPLEXITY.get(model, "-")))
    if experiment.startswith("mnist"):
        final = last(by_name["mnist"], "final")
        figure = (f"{final['test_accuracy']:.4f} ({final['trained_samples']:,} samples)"
                  if final else "(no final record)")
        return "MNIST BiLSTM", "test accuracy", figure, str(cr.BOOK_MNIST_ACCURACY)
    if experiment.startswith("word2vec-tutorial"):
        summary = last(by_name["word2vec-tutorial"], "summary")
        figure = (f"{summary['final_average_loss']:.2f} at step {summary['steps'] - 1:,}"
                  if summary else "(no summary record)")
        return ("word2vec, the book's NCE tutorial", "average loss, last 2,000 steps", figure,
                cr.BOOK_TUTORIAL_LOSS)
    analogy = last(by_name.get("analogy-fast", by_name.get("analogy-word2vec-c", [])), "analogy")
    figure = f"{100 * analogy['accuracy']:.2f}%" if analogy else "(no analogy record)"
    if experiment.startswith("word2vec-fast"):
        config = last(by_name["word2vec-fast"], "config")
        return (f"word2vec fast trainer, {config['iter']} iterations, {config['threads']} "
                "thread(s)", "analogy accuracy (top 30k)", figure,
                cr.word2vec_c_reference(config["iter"]))
    return ("word2vec.c's vectors (same corpus, evaluated here)", "analogy accuracy (top 30k)",
            figure, header.get("vectors_made_by", "-"))


def print_table(folder):
    paths = sorted(glob.glob(os.path.join(folder, "*.jsonl")) +
                   glob.glob(os.path.join(folder, "*.jsonl.gz")))
    rows, tutorial_nearest = [], []
    for path in paths:
        header, sections = cr.read_record(path)
        if header.get("mode") != "full":
            continue  # the short records made for the tests
        label, metric, figure, book = record_figures(header, sections)
        if header["experiment"].startswith("word2vec-tutorial"):
            nearest = last(sections[0]["records"], "nearest")
            if nearest:
                tutorial_nearest.append((path, nearest))
        machine = header["machine"]
        device = f"CPU ({machine.get('cpu')})" if header["device"] == "cpu" else machine.get("gpu")
        link = os.path.relpath(os.path.abspath(path), REPO)  # from the README, at the root
        rows.append(f"| {label} | {metric} | {figure} | {book} | {header['date'][:10]} | "
                    f"`{header['commit'][:10]}` | {device} | "
                    f"[{os.path.basename(path)}]({link}) |")
    print("| experiment | metric | recorded | book / reference | date | commit | device | record |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows) if rows else "| (no full records yet) | | | | | | | |")
    for path, nearest in tutorial_nearest:
        print(f"\nThe tutorial's nearest words at step {nearest['step']:,} "
              f"({os.path.basename(path)}):\n")
        for word in nearest["words"]:
            print(f"- {word['word']}: {', '.join(word['nearest'])}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", help="the finished run's folder (reproduce.sh --out)")
    parser.add_argument("--dest", default="bench/records", help="where the records go")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="write records of a run made with uncommitted changes")
    parser.add_argument("--table", metavar="DIR",
                        help="print the README's results table from the full records in DIR")
    args = parser.parse_args()
    try:
        if args.table:
            return print_table(args.table)
        if not args.run:
            parser.error("give --run DIR (or --table DIR)")
        return write_records(args)
    except (BadInput, cr.RecordError, KeyError, ValueError, OSError) as e:
        kind = "missing field " if isinstance(e, KeyError) else ""
        print(f"write_records.py: error: {kind}{e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
