#!/usr/bin/env python3
"""Builds the report of scripts/reproduce.sh from the apps' --log-json output.

    python3 scripts/make_report.py --dir report.partial --mode quick --device cpu --seed 1 ...

Reads, in --dir: steps.tsv (one line per command run: name, wall seconds, the command),
ptb.jsonl, mnist.jsonl, word2vec-tutorial.jsonl, word2vec-fast.jsonl, the analogy and wordsim
results (analogy-{tutorial,fast,word2vec-c}.jsonl, wordsim-{tutorial,fast,word2vec-c}.jsonl: the
last for vectors trained by word2vec.c, --word2vec-c-vectors of reproduce.sh), and run.json (the
machine, when reproduce.sh wrote it); any experiment whose log is absent is reported as not run. Writes, in --dir: report.md, a self-contained
report.html (images inlined), and the plots ptb.png, word2vec-loss.png, mnist.png (plus a copy of
the tutorial's word2vec/tsne.png as tsne.png).

Draws with matplotlib (Debian: python3-matplotlib); without it the report says where each plot
would be. Exit status: 0 on success, 2 for bad input (a log that does not parse, or a run that
wrote no result).
"""
import argparse
import base64
import html
import json
import os
import io
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile

import curnn_record as cr
from curnn_record import (BOOK_MNIST_ACCURACY, BOOK_PTB_FINAL, BOOK_PTB_PERPLEXITY,
                          BOOK_TUTORIAL_LOSS)

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    pass


# ---- reading the logs ---------------------------------------------------------------------------


def decode_bytes(text):
    """The bytes of a string the apps wrote into JSON (curnn::encode_bytes, curnn/text.hpp): a
    doubled backslash is one backslash, \\xNN is the byte NN, the rest is UTF-8."""
    out = bytearray()
    pos = 0
    for m in re.finditer(r"\\\\|\\x([0-9a-f]{2})", text):
        out += text[pos:m.start()].encode("utf-8")
        out += b"\\" if m.group(1) is None else bytes([int(m.group(1), 16)])
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


def shown(text):
    """A word or name from a log as the report shows it: its bytes, invalid UTF-8 as \\xNN."""
    return decode_bytes(text).decode("utf-8", errors="backslashreplace")



def read_jsonl(path):
    """The JSON objects of a --log-json file, or None when the file does not exist."""
    try:
        return cr.read_jsonl(path)
    except cr.RecordError as e:
        raise BadInput(str(e))


def of_type(records, kind):
    return [r for r in records or [] if r.get("type") == kind]


def progress_of(records, path, kind="progress"):
    """The records a plot is drawn from; a plot without any would be an empty frame."""
    found = of_type(records, kind)
    if not found:
        raise BadInput(f"{path}: no '{kind}' records to plot: a run too short to log progress?")
    return found


def last_of_type(records, kind, path):
    found = of_type(records, kind)
    if not found:
        raise BadInput(f"{path}: no '{kind}' record: did the run finish?")
    return found[-1]


def read_steps(path):
    """steps.tsv: {name: (wall seconds, command)} in run order."""
    steps = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, seconds, command = line.rstrip("\n").split("\t", 2)
                steps[name] = (float(seconds), command)
    return steps


# ---- the document: blocks rendered both as Markdown and as HTML ---------------------------------


class Document:
    def __init__(self, folder):
        self.folder = folder
        self.blocks = []

    def heading(self, level, text):
        self.blocks.append(("heading", level, text))

    def para(self, text):
        self.blocks.append(("para", text))

    def note(self, text):
        self.blocks.append(("note", text))

    def table(self, header, rows):
        self.blocks.append(("table", header, [[str(c) for c in row] for row in rows]))

    def image(self, file_name, caption):
        self.blocks.append(("image", file_name, caption))

    def code(self, text):
        self.blocks.append(("code", text))

    def markdown(self):
        out = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out.append("#" * block[1] + " " + block[2])
            elif kind == "para":
                out.append(block[1])
            elif kind == "note":
                out.append("> " + block[1])
            elif kind == "table":
                out.append("| " + " | ".join(block[1]) + " |")
                out.append("|" + "---|" * len(block[1]))
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in block[2]]
            elif kind == "image":
                out.append(f"![{block[2]}]({block[1]})")
            elif kind == "code":
                out.append("```\n" + block[1] + "\n```")
            out.append("")
        return "\n".join(out)

    def html(self, title):
        body = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                body.append(f"<h{block[1]}>{html.escape(block[2])}</h{block[1]}>")
            elif kind == "para":
                body.append(f"<p>{inline_markdown(block[1])}</p>")
            elif kind == "note":
                body.append(f"<p class=note>{inline_markdown(block[1])}</p>")
            elif kind == "table":
                head = "".join(f"<th>{inline_markdown(c)}</th>" for c in block[1])
                rows = "".join(
                    "<tr>" + "".join(f"<td>{inline_markdown(c)}</td>" for c in row) + "</tr>"
                    for row in block[2])
                body.append(f"<table><tr>{head}</tr>{rows}</table>")
            elif kind == "image":
                with open(os.path.join(self.folder, block[1]), "rb") as f:
                    data = base64.b64encode(f.read()).decode("ascii")
                body.append(f'<figure><img src="data:image/png;base64,{data}" '
                            f'alt="{html.escape(block[2])}"><figcaption>'
                            f"{html.escape(block[2])}</figcaption></figure>")
            elif kind == "code":
                body.append(f"<pre>{html.escape(block[1])}</pre>")
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
                 "padding:3px 8px;text-align:left}th{background:#eee}img{max-width:100%}"
                 "pre{background:#f4f4f4;padding:8px;overflow-x:auto;white-space:pre-wrap}"
                 ".note{background:#fff4d6;padding:8px;border-left:4px solid #e0a000}")
        return (f"<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>{html.escape(title)}"
                f"</title><style>{style}</style></head><body>\n" + "\n".join(body) +
                "\n</body></html>\n")


def inline_markdown(text):
    """**bold** and `code` of a Markdown line, as HTML."""
    out, parts = [], html.escape(text).split("`")
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{part}</code>")
        else:
            bold = part.split("**")
            out.append("".join(f"<b>{s}</b>" if j % 2 else s for j, s in enumerate(bold)))
    return "".join(out)


# ---- plots --------------------------------------------------------------------------------------


def new_figure(plt, panels):
    fig, axes = plt.subplots(1, panels, figsize=(6.2 * panels, 4.2))
    return fig, (axes if panels > 1 else [axes])


def save(fig, folder, name):
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    write_atomically(os.path.join(folder, name), png.getvalue())


def plot_ptb(plt, folder, records, path, book):
    """book: (last epoch, train, valid, test perplexity) of the book's run, or None."""
    progress, epochs = progress_of(records, path), progress_of(records, path, "epoch")
    test = of_type(records, "test")
    fig, (ax, lr_ax) = new_figure(plt, 2)
    ax.plot([p["epoch"] - 1 + p["fraction"] for p in progress], [p["perplexity"] for p in progress],
            color="tab:blue", alpha=0.45, label="train (running, within the epoch)")
    ax.plot([e["epoch"] for e in epochs], [e["train_perplexity"] for e in epochs], "o-",
            color="tab:blue", label="train (epoch)")
    ax.plot([e["epoch"] for e in epochs], [e["valid_perplexity"] for e in epochs], "s-",
            color="tab:orange", label="valid (epoch)")
    if test:
        ax.axhline(test[-1]["test_perplexity"], color="tab:green", linestyle="--",
                   label=f"test {test[-1]['test_perplexity']:.1f}")
    if book is not None:
        last_epoch, train, valid, book_test = book
        ax.plot([last_epoch], [train], "*", color="tab:blue", markersize=13, markeredgecolor="k",
                label=f"book, epoch {last_epoch}: train {train}")
        ax.plot([last_epoch], [valid], "*", color="tab:orange", markersize=13,
                markeredgecolor="k", label=f"book, epoch {last_epoch}: valid {valid}")
        ax.axhline(book_test, color="tab:gray", linestyle=":", label=f"book: test {book_test}")
    values = [p["perplexity"] for p in progress] + [e["valid_perplexity"] for e in epochs]
    if max(values) > 4 * min(values):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_title("PTB: perplexity")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    # Epoch e trains over [e - 1, e] at its learning rate.
    lr_ax.step([e["epoch"] - 1 for e in epochs] + [epochs[-1]["epoch"]],
               [e["lr"] for e in epochs] + [epochs[-1]["lr"]], where="post")
    lr_ax.set_ylim(0, 1.1 * max(e["lr"] for e in epochs))
    lr_ax.set_xlabel("epoch")
    lr_ax.set_ylabel("learning rate")
    lr_ax.set_title("PTB: SGD learning rate per epoch")
    lr_ax.grid(True, alpha=0.3)
    save(fig, folder, "ptb.png")


def plot_word2vec(plt, folder, tutorial, fast, paths):
    panels = [p for p in (tutorial, fast) if p is not None]
    fig, axes = new_figure(plt, len(panels))
    axes = list(axes)
    if tutorial is not None:
        ax = axes.pop(0)
        losses = progress_of(tutorial, paths[0], "loss")
        ax.plot([r["step"] for r in losses], [r["average_loss"] for r in losses], "o-")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("average NCE loss (over the last 2,000 steps)")
        ax.set_title("word2vec, the book's skip-gram NCE")
        ax.grid(True, which="both", alpha=0.3)
    if fast is not None:
        ax = axes.pop(0)
        progress = progress_of(fast, paths[1])
        ax.plot([p["fraction"] * 100 for p in progress], [p["loss"] for p in progress], "o-")
        ax.set_xlabel("% of training done")
        ax.set_ylabel("negative-sampling loss (running)")
        ax.set_title("word2vec, the fast trainer")
        ax.grid(True, alpha=0.3)
    save(fig, folder, "word2vec-loss.png")


def plot_mnist(plt, folder, records, path):
    progress = progress_of(records, path)
    fig, (loss_ax, acc_ax) = new_figure(plt, 2)
    iters = [p["iter"] for p in progress]
    loss_ax.plot(iters, [p["loss"] for p in progress], "o-", markersize=3)
    loss_ax.set_xlabel("training samples")
    loss_ax.set_ylabel("minibatch loss")
    loss_ax.set_title("MNIST BiLSTM: minibatch loss")
    loss_ax.grid(True, alpha=0.3)
    acc_ax.plot(iters, [p["accuracy"] for p in progress], "o-", markersize=3, color="tab:orange",
                alpha=0.6, label="minibatch (training)")
    evals = of_type(records, "eval")
    if evals:
        acc_ax.plot([e["iter"] for e in evals], [e["test_accuracy"] for e in evals], "s-",
                    color="tab:green", label="test set (--eval-every)")
    final = of_type(records, "final")
    if final:
        acc_ax.axhline(final[-1]["test_accuracy"], color="tab:green", linestyle="--",
                       label=f"test, final {final[-1]['test_accuracy']:.4f}")
    acc_ax.axhline(BOOK_MNIST_ACCURACY, color="tab:gray", linestyle=":",
                   label=f"book: test {BOOK_MNIST_ACCURACY}")
    acc_ax.set_ylim(0, 1.02)
    acc_ax.set_xlabel("training samples")
    acc_ax.set_ylabel("accuracy")
    acc_ax.set_title("MNIST BiLSTM: accuracy over training")
    acc_ax.grid(True, alpha=0.3)
    acc_ax.legend(loc="lower right")
    save(fig, folder, "mnist.png")


# ---- machine and source facts -------------------------------------------------------------------


def hardware(folder):
    """The machine's facts: run.json's (written by reproduce.sh at the start), else this one's."""
    run = {}
    if os.path.exists(os.path.join(folder, "run.json")):
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
    machine = run.get("machine") or cr.machine_facts(run.get("build_dir", ""))
    facts = [("CPU", f"{machine['cpu']}, {machine['logical_cores']} logical cores"),
             ("memory", f"{machine['memory_gib']} GiB" if machine.get("memory_gib") else "unknown"),
             ("OS", machine["os"]), ("GPU", machine["gpu"]),
             ("CPU GEMM", machine.get("cpu_gemm", "?")),
             ("load average at the start", machine.get("load_average") or "?")]
    threads = run.get("environment", {}).get("CURNN_NUM_THREADS")
    facts.append(("CURNN_NUM_THREADS", threads or "unset (all cores; results do not depend on it)"))
    nvcc = cr.command_output(["nvcc", "--version"]).splitlines()
    if nvcc:
        facts.append(("CUDA", nvcc[-1]))
    return facts


def source_revision(repo):
    commit, dirty = cr.source_commit(repo)
    return ((commit or "unknown (not a git checkout)") +
            (" (with uncommitted changes)" if dirty else ""))


# ---- the report ---------------------------------------------------------------------------------


def minutes(seconds):
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def percent(share):
    """A share as a percentage; "n/a" for null (no question was usable)."""
    return "n/a" if share is None else f"{100 * share:.2f}%"


def analogy_tables(doc, result, title):
    rows = [[shown(s["name"]), f"{s['seen']} / {s['questions']}", s["correct"],
             f"{100 * s['correct'] / s['seen']:.2f}%" if s["seen"] else "-"]
            for s in result.get("sections", [])]
    rows.append(["**total**", f"{result['seen']} / {result['questions']}", "",
                 f"**{percent(result['accuracy'])}**"])
    doc.para(f"{title}: total **{percent(result['accuracy'])}**, semantic "
             f"{percent(result['semantic_accuracy'])}, syntactic "
             f"{percent(result['syntactic_accuracy'])} (questions whose four words are all among "
             f"the {result['restrict_vocab'] or 'all'} most frequent words; top-1, question words "
             "excluded, as word2vec.c's compute-accuracy).")
    doc.table(["section", "seen / in the file", "correct", "accuracy"], rows)


def analogy_side_by_side(doc, ours, theirs):
    """The fast trainer's and word2vec.c's analogy accuracy, section by section."""
    def accuracy(s):
        return f"{100 * s['correct'] / s['seen']:.2f}%" if s["seen"] else "-"

    theirs_by_name = {s["name"]: s for s in theirs.get("sections", [])}
    rows = [[s["name"], s["seen"], accuracy(s),
             accuracy(theirs_by_name[s["name"]]) if s["name"] in theirs_by_name else "-"]
            for s in ours.get("sections", [])]
    def total(r):
        def share(key):  # None (n/a) where no question of that kind was usable
            return "n/a" if r[key] is None else f"{100 * r[key]:.1f}"
        return (f"**{percent(r['accuracy'])}** ({share('semantic_accuracy')} / "
                f"{share('syntactic_accuracy')})")

    rows.append(["**total** (semantic / syntactic)", ours["seen"], total(ours), total(theirs)])
    doc.table(["section", "questions seen (ours)", "curnn-word2vec", "word2vec.c"], rows)


def wordsim_line(result):
    if result is None:
        return "not run"
    rho = result["spearman"]
    rho = "undefined" if rho is None else f"{rho:.4f}"
    return f"Spearman {rho} ({result['found']} / {result['total']} pairs found)"


def build(args):
    folder = args.dir
    steps = read_steps(os.path.join(folder, "steps.tsv"))
    logs = {name: read_jsonl(os.path.join(folder, name + ".jsonl"))
            for name in ("ptb", "mnist", "word2vec-tutorial", "word2vec-fast", "analogy-tutorial",
                         "analogy-fast", "wordsim-tutorial", "wordsim-fast", "analogy-word2vec-c",
                         "wordsim-word2vec-c")}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("make_report.py: WARNING: matplotlib is missing (Debian: python3-matplotlib): the "
              "report has no plots", file=sys.stderr)
        plt = None

    def wall(name):
        return minutes(steps[name][0]) if name in steps else "-"

    def path_of(name):
        return os.path.join(folder, name + ".jsonl")

    def last(name, kind):
        return last_of_type(logs[name], kind, path_of(name))

    quick = args.mode != "full"
    mode_label = {"full": "FULL", "quick": "QUICK", "smoke": "SMOKE (tiny data)"}[args.mode]
    summary, sections = [], Document(folder)

    def figure(file_name, caption, plot, *plot_args):
        if plt is None:
            sections.note(f"Plot not drawn ({caption}): matplotlib was missing.")
            return
        plot(plt, folder, *plot_args)
        sections.image(file_name, caption)

    def vector_quality(which, what):
        """Analogy per section and WordSim-353 of one set of vectors (analogy-/wordsim-WHICH)."""
        if logs[f"analogy-{which}"] is not None:
            analogy_tables(sections, last(f"analogy-{which}", "analogy"), f"Analogies with {what}")
        wordsim = of_type(logs[f"wordsim-{which}"], "wordsim")
        sections.para(f"Word similarity (WordSim-353) of {what}: " +
                      wordsim_line(wordsim[-1] if wordsim else None) + ".")

    # word2vec
    sections.heading(2, "1. word2vec")
    if logs["word2vec-tutorial"] is None and logs["word2vec-fast"] is None:
        sections.para("Not run (`--only`).")
    else:
        sections.para(f"Corpus: **{args.corpus_label}**.")
        figure("word2vec-loss.png", "word2vec: the tutorial's average loss per step and the fast "
               "trainer's running loss", plot_word2vec, logs["word2vec-tutorial"],
               logs["word2vec-fast"], (path_of("word2vec-tutorial"), path_of("word2vec-fast")))
    if logs["word2vec-tutorial"] is not None:
        records = logs["word2vec-tutorial"]
        done = last("word2vec-tutorial", "summary")
        data = last("word2vec-tutorial", "dataset")
        summary.append(["word2vec, the book's skip-gram NCE", "average loss, last 2,000 steps",
                        f"{done['final_average_loss']:.2f} at step {done['steps'] - 1:,}",
                        BOOK_TUTORIAL_LOSS, wall("word2vec-tutorial"),
                        f"{done['words_per_s']:,.0f} words/s", args.device, mode_label])
        sections.heading(3, "The book's experiment: skip-gram with NCE loss")
        sections.para(f"{done['steps']:,} steps of 128 (center, context) pairs; vocabulary "
                      f"{data['vocabulary']:,} of {data['words']:,} words; "
                      f"{done['train_s']:.1f} s of training, {done['words_per_s']:,.0f} words/s.")
        nearest = of_type(records, "nearest")
        if nearest:
            final_nearest = nearest[-1]
            sections.para(f"The 8 nearest words (cosine) of the validation words at step "
                          f"{final_nearest['step']:,}:")
            sections.table(["word", "nearest"],
                           [[shown(w["word"]), ", ".join(shown(n) for n in w["nearest"])]
                            for w in final_nearest["words"]])
        if os.path.exists(os.path.join(folder, "word2vec", "tsne.png")):
            with open(os.path.join(folder, "word2vec", "tsne.png"), "rb") as f:
                write_atomically(os.path.join(folder, "tsne.png"), f.read())
            sections.image("tsne.png", "t-SNE of the 100 most frequent words' embeddings")
        else:
            sections.para("No t-SNE plot: scikit-learn was missing (see word2vec-tutorial.log).")
        sections.para("The book does not evaluate these embeddings. They start at U(-1, 1) "
                      "(norm about 6.5) and its SGD moves a row by a few hundredths per use, "
                      "so only the most frequent words settle: expect analogy and word "
                      "similarity near chance (wiki8, 100,001 steps on the CPU: 0.12% and "
                      "Spearman -0.02, bench/RESULTS.md). The fast trainer below is the one "
                      "for embeddings.")
        vector_quality("tutorial", "the tutorial's embeddings")
    if logs["word2vec-fast"] is not None:
        config = last("word2vec-fast", "config")
        done = last("word2vec-fast", "done")
        analogy = last("analogy-fast", "analogy")
        word2vec_c = of_type(logs["analogy-word2vec-c"], "analogy")
        reference = (f"word2vec.c on the same corpus: {percent(word2vec_c[-1]['accuracy'])}"
                     if word2vec_c else cr.word2vec_c_reference(config["iter"]))
        summary.append(["word2vec, the fast trainer (skip-gram, negative sampling)",
                        "analogy accuracy (top 30k)",
                        f"{percent(analogy['accuracy'])} ({config['iter']} iter., "
                        f"{config['threads']} thread(s))", reference, wall("word2vec-fast"),
                        f"{done['words_per_s']:,.0f} words/s", args.device, mode_label])
        sections.heading(3, "Beyond the book: the word2vec.c-style fast trainer")
        sections.para(f"{'CBOW' if config['cbow'] else 'skip-gram'}, {config['size']} dimensions, "
                      f"window {config['window']}, {config['negative']} negatives, sample "
                      f"{config['sample']}, min-count {config['min_count']}, {config['iter']} "
                      f"iteration(s), {config['threads']} thread(s), vocabulary "
                      f"{config['vocab_size']:,}; {done['train_s']:.1f} s of training, "
                      f"**{done['words_per_s']:,.0f} words/s** (wall clock, words read).")
        vector_quality("fast", "the fast trainer's vectors")
        if word2vec_c:
            sections.heading(3, "The fast trainer next to word2vec.c, same corpus")
            sections.para("word2vec.c's vectors" +
                          (f" ({args.word2vec_c_note})" if args.word2vec_c_note else "") +
                          ", evaluated here by the same `curnn-analogy` and `curnn-wordsim`:")
            analogy_side_by_side(sections, analogy, word2vec_c[-1])
            wordsim = of_type(logs["wordsim-word2vec-c"], "wordsim")
            sections.para("Word similarity (WordSim-353) of word2vec.c's vectors: " +
                          wordsim_line(wordsim[-1] if wordsim else None) + ".")

    def experiment(title, name):
        """The section's heading; the log's records and its config, or None when not run."""
        sections.heading(2, title)
        if logs[name] is None:
            sections.para("Not run (`--only`).")
            return None, None
        return logs[name], last(name, "config")

    records, config = experiment("2. PTB language model", "ptb")
    if records is not None:
        test = last("ptb", "test")
        epochs = of_type(records, "epoch")
        model = config["config"]["name"]
        book_final = BOOK_PTB_FINAL.get(model)
        book = f"{BOOK_PTB_PERPLEXITY[model]} ({model})" if model in BOOK_PTB_PERPLEXITY else "-"
        wps = epochs[-1]["train_wps"] if epochs else 0
        summary.append([f"PTB LSTM LM ({model})", "test perplexity",
                        f"{test['test_perplexity']:.1f}", book, wall("ptb"), f"{wps:,.0f} words/s",
                        args.device, mode_label])
        c = config["config"]
        capped = f", capped at {config['max_steps']} batches per epoch" if config["max_steps"] else ""
        distance = ""
        if book_final and not quick:
            ours, theirs = test["test_perplexity"], book_final[3]
            distance = (f"; {ours - theirs:+.2f} from the book's {theirs} "
                        f"({100 * (ours - theirs) / theirs:+.1f}%)")
        sections.para(f"Config **{model}**: {c['num_layers']} x {c['hidden_size']} LSTM, "
                      f"{c['num_steps']} steps, batch {c['batch_size']}, keep {c['keep_prob']}, "
                      f"{c['max_max_epoch']} epoch(s){capped}. Test perplexity "
                      f"**{test['test_perplexity']:.2f}** (book: {book}{distance}).")
        figure("ptb.png", "PTB: train and valid perplexity per epoch (the book's final figures as "
               "stars), and the learning rate", plot_ptb, records, path_of("ptb"),
               None if quick else book_final)
        rows = [[e["epoch"], f"{e['lr']:.4g}", f"{e['train_perplexity']:.2f}",
                 f"{e['valid_perplexity']:.2f}", f"{e['train_wps']:,.0f}"] for e in epochs]
        rows.append(["test", "", "", f"**{test['test_perplexity']:.2f}**", ""])
        if book_final:
            last_epoch, train, valid, book_test = book_final
            rows.append([f"**book, epoch {last_epoch}**", "", f"**{train:.2f}**",
                         f"**{valid:.2f}** (test **{book_test:.2f}**)", ""])
        sections.table(["epoch", "learning rate", "train perplexity", "valid perplexity",
                        "train words/s"], rows)
        if book_final:
            sections.para("The book gives only its final epoch (EXPERIMENTS.md: the book's log "
                          "for small; TensorFlow's reproduction for medium and large). Its log "
                          "prints an older learning-rate schedule than its code, which this run "
                          "follows (0.002 in epoch 13 where the log says 0.004).")

    records, config = experiment("3. BiLSTM classifier on MNIST", "mnist")
    if records is not None:
        final = last("mnist", "final")
        summary.append(["MNIST BiLSTM (rows as time steps)", "test accuracy",
                        f"{final['test_accuracy']:.4f}", BOOK_MNIST_ACCURACY, wall("mnist"),
                        f"{final['samples_per_s']:,.0f} samples/s", args.device, mode_label])
        c = config["config"]
        distance = ""
        if not quick:
            gap = final["test_accuracy"] - BOOK_MNIST_ACCURACY
            distance = f"; {100 * gap:+.2f} points from the book's"
        sections.para(f"{c['hidden_size']} units per direction, head {c['head']}, Adam lr "
                      f"{c['learning_rate']:.3g}, batch {config['batch_size']}; "
                      f"{final['trained_samples']:,} training samples in {final['train_seconds']:.1f} s "
                      f"({final['samples_per_s']:,.0f} samples/s). Test accuracy "
                      f"**{final['test_accuracy']:.4f}** on {final['test_images']:,} images "
                      f"(book: {BOOK_MNIST_ACCURACY}{distance}).")
        figure("mnist.png", "MNIST: minibatch loss, and minibatch and test accuracy during "
               "training", plot_mnist, records, path_of("mnist"))
        evals = of_type(records, "eval")
        if evals:
            every = config.get("eval_every") or evals[0]["iter"]
            sections.para(f"Test accuracy over training (all {evals[0]['test_images']:,} test "
                          f"images after the step that reaches each multiple of {every:,} "
                          "samples: `--eval-every`):")
            sections.table(["training samples", "test accuracy"],
                           [[f"{e['iter']:,}", f"{e['test_accuracy']:.4f}"] for e in evals] +
                           [[f"{final['trained_samples']:,} (final)",
                             f"**{final['test_accuracy']:.4f}**"],
                            ["book, 400,000 samples", f"**{BOOK_MNIST_ACCURACY}**"]])
        else:
            sections.para("Test accuracy over training: not measured in this run (curnn-mnist "
                          "`--eval-every N` measures it; `--full` does, every 20,000 samples).")

    # Assemble: title, summary, sections, reproduction facts.
    doc = Document(folder)
    doc.heading(1, "libcurnn: the chapter's three experiments")
    doc.para(f"Mode **{mode_label}** on **{args.device}**; seed {args.seed}; total "
             f"{minutes(args.total_s)}; {args.date}.")
    if quick:
        doc.note("These are shortened runs (" + ("tiny synthetic data, a few steps: they only show "
                 "that the pipeline works" if args.mode == "smoke" else "quick CPU runs, capped as "
                 "the commands below say") + "). Their figures are NOT comparable with the book's "
                 "full runs; `scripts/reproduce.sh --full` runs those (without a GPU: PTB small, "
                 "the BiLSTM, the tutorial and the fast trainer, about two hours on 2 cores).")
    if "wiki8" in args.corpus_label:
        doc.note("word2vec ran on wiki8, a text8-style SUBSTITUTE built from a newer Wikipedia "
                 "dump (see data/README.md): comparable with text8 results, not identical.")
    doc.table(["experiment", "metric", "ours", "book / reference", "wall time", "throughput",
               "device", "mode"], summary)
    doc.blocks += sections.blocks
    doc.heading(2, "How this was made")
    doc.table(["", ""], [["command", f"`{args.command}`"], ["seed", args.seed],
                         ["commit", args.commit or source_revision(args.repo)]] + hardware(folder))
    if args.estimate:
        doc.para(f"The estimate printed before the runs (the whole run took "
                 f"{minutes(args.total_s)}):")
        doc.code(args.estimate)
    doc.para("The commands it ran, with their wall times:")
    doc.code("\n".join(f"# {name}: {seconds:.1f} s\n{command}"
                       for name, (seconds, command) in steps.items()))
    doc.para("Logs: `*.log` (what the apps printed) and `*.jsonl` (their `--log-json` records) "
             "beside this report.")

    write_atomically(os.path.join(folder, "report.md"), doc.markdown())
    write_atomically(os.path.join(folder, "report.html"),
                     doc.html("libcurnn: the chapter's three experiments"))
    return 0


def write_atomically(path, content):
    """Writes text or bytes to path as the apps write their outputs (curnn/data/io.hpp): through
    symbolic links (the file they point to is replaced, the link stays), never over anything but
    a regular file, via a temporary file in the same folder that is fsync'ed and renamed into
    place (and removed on any error)."""
    target = os.path.realpath(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(f"{path}: not a regular file: refusing to replace it")
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=os.path.basename(target) + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    folder = os.open(os.path.dirname(target), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True, help="the run's folder (logs in, report out)")
    parser.add_argument("--mode", required=True, choices=("full", "quick", "smoke"))
    parser.add_argument("--device", required=True)
    parser.add_argument("--seed", required=True)
    parser.add_argument("--command", default="", help="the command line that made the run")
    parser.add_argument("--corpus-label", default="text8")
    parser.add_argument("--total-s", type=float, default=0.0)
    parser.add_argument("--date", default="")
    parser.add_argument("--commit", default="",
                        help="the source's commit, where the folder is not a git checkout")
    parser.add_argument("--estimate", default="",
                        help="the time estimate printed before the runs (--full on the CPU)")
    parser.add_argument("--word2vec-c-note", default="",
                        help="how the word2vec.c vectors evaluated here were made")
    parser.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args()
    try:
        return build(args)
    except (BadInput, KeyError, ValueError, OSError) as e:
        kind = "missing field " if isinstance(e, KeyError) else ""
        print(f"make_report.py: error: {kind}{e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
