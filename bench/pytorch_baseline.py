#!/usr/bin/env python3
"""PyTorch/cuDNN baselines at libcurnn's experiment shapes, run beside our benchmarks on the
same GPU (scripts/device-check.sh), under two settings (--settings): "fp32", FP32 with TF32 off
(PERFORMANCE.md) and cudnn.benchmark on; "default", PyTorch's out-of-the-box settings (no
backend flag touched: whatever TF32 and cudnn.benchmark defaults this PyTorch has).

- PTB LM training (embedding -> 2-layer nn.LSTM -> linear -> CE, SGD with global-norm clip):
  words/s for the small, medium and large configs (batch 20; num_steps 20/35/35).
- BiLSTM MNIST (batch 128, 28 rows of 28 pixels, H 256, bidirectional, Adam): samples/s.
- Ceilings: device-to-device copy GB/s (read + write) and FP32 GEMM TFLOP/s.
Rows in the order ptb-small, ptb-medium, bilstm, ptb-large, each under every setting. Prints
each row as it is measured (a run cut off by scripts/device-check.sh's limit keeps the
rows it finished) and writes JSON (--out). --check-args only checks the arguments (the dry run).

--device cpu (bench/compare_cpu.sh): the same models on the CPU with --threads intra-op threads,
no ceilings, and only the rows named by --only (ptb-small, ptb-medium, ptb-large, bilstm).
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError:  # only --check-args works without torch
    torch = nn = None


DEVICE = "cuda"
LSTM_NAME = "cuDNN nn.LSTM"
SETTINGS = ("fp32", "default")
DEFAULT_FLAGS = {}  # PyTorch's own backend flags, read before any change


def apply_settings(setting):
    """Sets the CUDA backend flags of `setting` ("fp32" or "default")."""
    if setting == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    else:
        torch.backends.cuda.matmul.allow_tf32 = DEFAULT_FLAGS["matmul_tf32"]
        torch.backends.cudnn.allow_tf32 = DEFAULT_FLAGS["cudnn_tf32"]
        torch.backends.cudnn.benchmark = DEFAULT_FLAGS["cudnn_benchmark"]


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    sync()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    sync()
    return time.perf_counter() - t


def ptb_model(V, H, layers, keep):
    class PtbModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, H)
            self.drop = nn.Dropout(1 - keep)
            self.lstm = nn.LSTM(H, H, layers, dropout=1 - keep if layers > 1 else 0)
            self.out = nn.Linear(H, V)

        def forward(self, x, state):
            y, state = self.lstm(self.drop(self.emb(x)), state)
            return self.out(self.drop(y)), state

    return PtbModel()


def ptb(name, H, T, keep, clip, B=20, V=10000, layers=2, iters=30):
    dev = DEVICE
    m = ptb_model(V, H, layers, keep).to(dev)
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    x = torch.randint(0, V, (T, B), device=dev)
    y = torch.randint(0, V, (T, B), device=dev)
    state = [torch.zeros(layers, B, H, device=dev) for _ in range(2)]
    lossf = nn.CrossEntropyLoss()

    def step():
        nonlocal state
        state = [s.detach() for s in state]
        logits, state = m(x, state)
        loss = lossf(logits.view(-1, V), y.view(-1)) * T
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(m.parameters(), clip)
        opt.step()

    m.train()
    sec = timed(step, 5, iters)
    return {"name": f"ptb-{name} train ({LSTM_NAME})", "words_per_s": B * T * iters / sec,
            "ms_per_step": 1e3 * sec / iters}


def bilstm(iters=50, B=128):
    dev = DEVICE
    lstm = nn.LSTM(28, 256, bidirectional=True).to(dev)
    head = nn.Linear(512, 10).to(dev)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.01)
    x = torch.rand(28, B, 28, device=dev)
    y = torch.randint(0, 10, (B,), device=dev)
    lossf = nn.CrossEntropyLoss()

    def step():
        out, _ = lstm(x)
        loss = lossf(head(out[-1]), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    sec = timed(step, 5, iters)
    return {"name": f"mnist BiLSTM train ({LSTM_NAME})", "samples_per_s": B * iters / sec,
            "ms_per_step": 1e3 * sec / iters}


def ceilings():
    n = 1 << 28  # 1 GiB of float32
    a = torch.rand(n, device="cuda")
    b = torch.empty_like(a)
    sec = timed(lambda: b.copy_(a), 3, 20)
    copy_gbs = 2 * 4 * n * 20 / sec / 1e9
    del a, b
    M = 8192
    x = torch.rand(M, M, device="cuda")
    y = torch.rand(M, M, device="cuda")
    sec = timed(lambda: x @ y, 2, 10)
    return {"d2d_copy_GBps": copy_gbs, "sgemm_fp32_TFLOPs": 2 * M**3 * 10 / sec / 1e12}


def print_row(r):
    rate = (f"{r['words_per_s']:,.0f} words/s" if "words_per_s" in r
            else f"{r['samples_per_s']:,.0f} samples/s")
    print(f"{r['name']:<52} {rate:>20}  {r['ms_per_step']:.2f} ms/step", flush=True)


RUNS = {
    "ptb-small": lambda: ptb("small", 200, 20, 1.0, 5),
    "ptb-medium": lambda: ptb("medium", 650, 35, 0.5, 5),
    "bilstm": bilstm,
    "ptb-large": lambda: ptb("large", 1500, 35, 0.35, 10),
}


def main():
    global DEVICE, LSTM_NAME
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="pytorch_baseline.json")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    ap.add_argument("--threads", type=int, default=0,
                    help="--device cpu: intra-op threads (torch.set_num_threads; "
                    "0: torch's default)")
    ap.add_argument("--only", default=",".join(RUNS),
                    help="comma-separated rows to run (default: all): " + ", ".join(RUNS))
    ap.add_argument("--settings", default=",".join(SETTINGS),
                    help="--device cuda: comma-separated settings per row (default: all): "
                    + ", ".join(SETTINGS))
    ap.add_argument("--check-args", action="store_true",
                    help="only check the arguments and exit (scripts/device-check.sh --dry-run)")
    args = ap.parse_args()
    only = [r for r in args.only.split(",") if r]
    unknown = [r for r in only if r not in RUNS]
    if unknown or not only:
        ap.error(f"--only {args.only}: expected a comma-separated list of {', '.join(RUNS)}")
    settings = [x for x in args.settings.split(",") if x]
    if not settings or any(x not in SETTINGS for x in settings):
        ap.error(f"--settings {args.settings}: expected a comma-separated list of "
                 f"{', '.join(SETTINGS)}")
    if args.threads < 0:
        ap.error(f"--threads {args.threads}: expected 0 or more")
    if args.check_args:
        return
    if torch is None:
        raise SystemExit("pytorch_baseline.py: error: No module named 'torch' in " + sys.executable)
    DEVICE = args.device
    if DEVICE == "cpu":
        settings = [None]
        LSTM_NAME = "CPU nn.LSTM"
        if args.threads:
            torch.set_num_threads(args.threads)
        res = {"torch": torch.__version__, "device": "cpu", "threads": torch.get_num_threads()}
        print(f"torch {res['torch']} on the CPU, {res['threads']} threads", flush=True)
    else:
        DEFAULT_FLAGS.update(matmul_tf32=torch.backends.cuda.matmul.allow_tf32,
                             cudnn_tf32=torch.backends.cudnn.allow_tf32,
                             cudnn_benchmark=torch.backends.cudnn.benchmark)
        apply_settings("fp32")
        res = {"torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
               "device": torch.cuda.get_device_name(0), "settings": settings,
               "default_flags": dict(DEFAULT_FLAGS)}
        print(f"torch {res['torch']} cuDNN {res['cudnn']} on {res['device']}; out-of-the-box "
              f"flags: {DEFAULT_FLAGS}", flush=True)
        res.update(ceilings())
        print(f"ceilings: D2D copy {res['d2d_copy_GBps']:.0f} GB/s, FP32 SGEMM "
              f"{res['sgemm_fp32_TFLOPs']:.1f} TFLOP/s", flush=True)
    res["runs"] = []
    base_name = LSTM_NAME
    for name in [r for r in RUNS if r in only]:
        for setting in settings:
            if setting is not None:
                apply_settings(setting)
                LSTM_NAME = base_name + (", FP32 TF32 off" if setting == "fp32"
                                         else ", out of the box")
            row = RUNS[name]()
            row.update(run=name, settings=setting or "cpu")
            res["runs"].append(row)
            print_row(row)
        with open(args.out, "w") as f:  # after every row: a cut-off run keeps what it measured
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
