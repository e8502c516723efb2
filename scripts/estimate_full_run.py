#!/usr/bin/env python3
"""How long scripts/reproduce.sh --full takes on this machine's CPU: runs each experiment's app
for a few seconds with the full run's settings, reads the speed from its --log-json records,
and prints the estimate per experiment and in total (reproduce.sh prints it before the runs;
--estimate-only stops there). Standard library only.

    python3 scripts/estimate_full_run.py --bin build/bin --data-dir data --corpus FILE \\
        --scratch DIR [--only ptb|mnist|word2vec] [--w2v-threads N] [--mnist-eval-every N]

The measured speeds are this moment's: on a shared machine other processes change them, and
the printout says so (with the load average). Exit status: 0, or 1 when a calibration run fails.
"""
import argparse
import json
import os
import sys
import time

import curnn_record as cr

PTB_TRAIN_WORDS = 929_589   # ptb.train.txt (EXPERIMENTS.md); an epoch trains 2,323 x 20 x 20
PTB_SMALL_EPOCHS = 13
# The test pass runs batch 1 (one-row products, a thread start per product): a word costs about
# this many times a valid-pass word (batch 20). Measured on the 2-core development machine at a
# load average of 20: valid pass (73,760 words) 100 s, test pass (82,430 words) 861 s, 7.7x;
# bench/RESULTS.md's 62 s for both on an idle machine suggests less.
PTB_TEST_WORD_COST = 6.0
MNIST_SAMPLES = 400_000
TUTORIAL_STEPS = 100_001
TUTORIAL_EVAL_EVERY = 10_000  # nearest words
W2V_ITERATIONS = 5
EVALUATION_S = 45  # one analogy + word-similarity evaluation of 71k x 128 vectors, about


class CalibrationFailed(Exception):
    pass


def watch(argv, scratch, name, done, timeout_s=900):
    """Runs argv (whose --log-json is scratch/NAME.jsonl) until done(records) is true; returns
    (records, seconds from the start to each record) and stops the app."""
    log = os.path.join(scratch, name + ".jsonl")
    if os.path.exists(log):
        os.remove(log)
    output = os.path.join(scratch, name + ".out")
    app = cr.Watched(argv + ["--log-json", log], log, output)
    records, at = [], []
    try:
        while not done(records):
            new = app.wait_for_records()
            now = time.monotonic() - app.started
            records += new
            at += [now] * len(new)
            if not new and not app.running():
                raise CalibrationFailed(f"{name}: {os.path.basename(argv[0])} stopped (exit "
                                        f"status {app.process.returncode}) before its speed "
                                        f"could be read:\n{cr.tail(output)}")
            if time.monotonic() - app.started > timeout_s:
                raise CalibrationFailed(f"{name}: no speed after {timeout_s} s")
    finally:
        app.stop()
    return records, at


def of_type(records, kind):
    return [r for r in records if r.get("type") == kind]


def ptb(a):
    """Training words/s from 60 capped batches, and the valid pass's time from their epoch."""
    records, _ = watch([os.path.join(a.bin, "curnn-ptb"), "--data-path",
                        os.path.join(a.data_dir, "ptb"), "--model", "small", "--device", "cpu",
                        "--seed", a.seed, "--max-max-epoch", "1", "--max-steps", "60"],
                       a.scratch, "estimate-ptb", lambda r: of_type(r, "epoch"))
    epoch = of_type(records, "epoch")[0]
    wps = epoch["train_wps"]
    valid_s = max(0.0, epoch["elapsed_s"] - 60 * 20 * 20 / wps)
    test_s = valid_s * 82_430 / 73_760 * PTB_TEST_WORD_COST
    total = PTB_SMALL_EPOCHS * (PTB_TRAIN_WORDS / wps + valid_s) + test_s
    return ("PTB small, 13 epochs", total,
            f"{wps:,.0f} words/s in training, valid pass {valid_s:.0f} s, test pass "
            f"~{test_s:.0f} s")


def mnist(a):
    """Samples/s between the 10th and 20th steps, and one test-set evaluation's time."""
    records, _ = watch([os.path.join(a.bin, "curnn-mnist"), "--data-path",
                        os.path.join(a.data_dir, "mnist"), "--device", "cpu", "--seed", a.seed,
                        "--max-samples", "2700", "--eval-every", "2560"],
                       a.scratch, "estimate-mnist", lambda r: of_type(r, "eval"))
    progress = of_type(records, "progress")
    samples_per_s = ((progress[1]["iter"] - progress[0]["iter"]) /
                     (progress[1]["elapsed_s"] - progress[0]["elapsed_s"]))
    eval_s = of_type(records, "eval")[0]["eval_s"]
    evaluations = (MNIST_SAMPLES // a.mnist_eval_every if a.mnist_eval_every else 0) + 1
    total = MNIST_SAMPLES / samples_per_s + evaluations * eval_s
    return ("MNIST BiLSTM, 400,000 samples", total,
            f"{samples_per_s:,.0f} samples/s, {evaluations} test evaluations of {eval_s:.0f} s")


def tutorial(a):
    """Steps/s between steps 2,000 and 4,000, and the time to read the corpus."""
    records, at = watch([os.path.join(a.bin, "curnn-word2vec"), "--tutorial", "-train", a.corpus,
                         "--steps", "4001", "--device", "cpu", "--seed", a.seed, "--no-plot",
                         "--output-dir", os.path.join(a.scratch, "estimate-tutorial")],
                        a.scratch, "estimate-tutorial",
                        lambda r: any(x.get("step") == 4000 for x in of_type(r, "loss")))
    losses = {r["step"]: r for r in of_type(records, "loss")}
    steps_per_s = 2000 / (losses[4000]["elapsed_s"] - losses[2000]["elapsed_s"])
    read_s = at[0]  # the dataset record comes once the corpus is read
    nearest_s = 2 * read_s / 10  # 11 nearest-word tables, each a pass over 50k embeddings: small
    total = read_s + TUTORIAL_STEPS / steps_per_s + nearest_s + 30  # 30 s: t-SNE and output
    return ("word2vec tutorial, 100,001 steps", total,
            f"{steps_per_s:,.0f} steps/s, {read_s:.0f} s to read the corpus")


def fast_trainer(a):
    """Words/s at the second progress line (about 20 s of training)."""
    records, at = watch([os.path.join(a.bin, "curnn-word2vec"), "-train", a.corpus, "-output",
                         os.path.join(a.scratch, "estimate-vectors.bin"), "-binary", "1", "-cbow",
                         "0", "-size", "128", "-window", "5", "-negative", "5", "-hs", "0",
                         "-sample", "1e-4", "-iter", str(W2V_ITERATIONS), "-min-count", "5",
                         "-threads", str(a.w2v_threads), "--device", "cpu", "--seed", a.seed],
                        a.scratch, "estimate-fast", lambda r: len(of_type(r, "progress")) >= 2)
    config = of_type(records, "config")[0]
    setup_s = at[records.index(config)]
    words_per_s = of_type(records, "progress")[1]["words_per_s"]
    words = W2V_ITERATIONS * config["corpus_words"]
    total = setup_s + words / words_per_s + 10
    return (f"word2vec fast trainer, 5 iterations, {a.w2v_threads} thread(s)", total,
            f"{words_per_s:,.0f} words/s over {words / 1e6:.1f}M words")


def clock(seconds):
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True, help="the apps' folder")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--corpus", required=True, help="the word2vec corpus")
    parser.add_argument("--scratch", required=True, help="a folder for the short runs' files")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--only", choices=("ptb", "mnist", "word2vec"))
    parser.add_argument("--w2v-threads", type=int, default=1)
    parser.add_argument("--mnist-eval-every", type=int, default=0)
    parser.add_argument("--evaluations", type=int, default=2,
                        help="analogy + word-similarity evaluations the run does")
    a = parser.parse_args()
    os.makedirs(a.scratch, exist_ok=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    steps = {"ptb": [ptb], "mnist": [mnist], "word2vec": [tutorial, fast_trainer]}
    chosen = steps[a.only] if a.only else [tutorial, fast_trainer, ptb, mnist]
    rows = []
    try:
        for measure in chosen:
            rows.append(measure(a))
            print(f"  measured: {rows[-1][0]}: {rows[-1][2]}", file=sys.stderr, flush=True)
    except (CalibrationFailed, cr.RecordError, KeyError, IndexError, ZeroDivisionError,
            json.JSONDecodeError) as e:
        print(f"estimate_full_run.py: error: {e}", file=sys.stderr)
        return 1
    if not a.only or a.only == "word2vec":
        rows.append((f"{a.evaluations} analogy + word-similarity evaluations",
                     a.evaluations * EVALUATION_S, "about"))
    print(f"Time estimate of --full on this CPU, from short runs just now ({os.cpu_count()} "
          f"logical cores, load average {load}; other processes on a shared machine change it):")
    width = max(len(r[0]) for r in rows)
    for name, seconds, how in rows:
        print(f"  {name:<{width}}  {clock(seconds):>12}   ({how})")
    print(f"  {'total':<{width}}  {clock(sum(r[1] for r in rows)):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
