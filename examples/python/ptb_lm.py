"""PTB "small" (Zaremba et al.; TensorFlow's ptb_word_lm.py, the book's section 7.2) in PyTorch
with curnn.torch.LSTM: the model, data order, loss, clipping and SGD of curnn-ptb --model small.
  python3 examples/python/ptb_lm.py --data-path data/ptb --max-steps 500 [--lstm torch]"""
import argparse, gzip, math, os, time  # noqa: E401
import torch
import curnn.torch as ct

p = argparse.ArgumentParser()
p.add_argument("--data-path", required=True)
p.add_argument("--max-steps", type=int, default=0, help="cap on training batches (one epoch)")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--device", default="cpu")
p.add_argument("--lstm", choices=["curnn", "torch"], default="curnn")
p.add_argument("--init", help="initial weights: torch.save'd [embedding, lstm, linear] state dicts")
a = p.parse_args()
V, H, L, T, B, EPOCHS, MAX_EPOCH, LR, DECAY, CLIP, INIT = (  # "small"; keep_prob 1: no dropout
    10000, 200, 2, 20, 20, 13, 4, 1.0, 0.5, 5.0, 0.1)

def words(split):  # TensorFlow's reader: every newline becomes "<eos>"
    path = os.path.join(a.data_path, f"ptb.{split}.txt")
    text = (gzip.open(path + ".gz", "rt") if os.path.exists(path + ".gz") else open(path)).read()
    return text.replace("\n", "<eos>").split()

train_words = words("train")
counts = {w: 0 for w in train_words}
for w in train_words: counts[w] += 1  # noqa: E701
vocab = {w: i for i, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w)))}
data = {s: torch.tensor([vocab[w] for w in (train_words if s == "train" else words(s))])
        for s in ("train", "valid")}

torch.manual_seed(a.seed)
emb = torch.nn.Embedding(V, H, sparse=True)  # sparse: its rows enter the clip norm un-merged (TF)
lstm = (ct.LSTM if a.lstm == "curnn" else torch.nn.LSTM)(H, H, L)
out = torch.nn.Linear(H, V)
named = [*emb.named_parameters(), *lstm.named_parameters(), *out.named_parameters()]
for name, w in named:  # U(-0.1, 0.1), LSTM biases 0 (TensorFlow's BasicLSTMCell)
    torch.nn.init.zeros_(w) if name.startswith("bias_") else torch.nn.init.uniform_(w, -INIT, INIT)
for m, state in zip((emb, lstm, out), torch.load(a.init) if a.init else []):
    m.load_state_dict(state)
for name, w in lstm.named_parameters():  # one bias per gate, as TF's BasicLSTMCell (SGD on
    w.requires_grad_(not name.startswith("bias_hh"))  # b_ih and b_hh would move it twice as fast)
params = [w for m in (emb, lstm, out) for w in m.to(a.device).parameters() if w.requires_grad]

def run_epoch(ids, train, lr):
    ids = ids[: len(ids) // B * B].view(B, -1).to(a.device)  # ptb_producer's [B, L] matrix
    steps = (ids.shape[1] - 1) // T
    steps = min(steps, a.max_steps) if train and a.max_steps else steps
    cost, state, start, every = 0.0, None, time.time(), max(1, steps // 10)
    for step in range(steps):
        x, y = (ids[:, step * T + k:(step + 1) * T + k].t() for k in (0, 1))  # [T, B]
        with torch.set_grad_enabled(train):
            h, state = lstm(emb(x), state)
            loss = ct.softmax_cross_entropy(out(h.reshape(-1, H)), y.reshape(-1), "sum") / B
        state = tuple(s.detach() for s in state)  # truncated BPTT; the state carries on
        cost += loss.item()
        if train:  # tf.clip_by_global_norm, then plain SGD
            for w in params: w.grad = None  # noqa: E701
            loss.backward()
            norm = torch.stack([(w.grad._values() if w.grad.is_sparse else w.grad).norm()
                                for w in params]).norm().item()
            for w in params: w.data.add_(w.grad, alpha=-lr * CLIP / max(norm, CLIP))  # noqa: E701
            if step % every == min(10, every - 1):
                print(f"{step / steps:.3f} perplexity: {math.exp(cost / ((step + 1) * T)):.3f} "
                      f"speed: {(step + 1) * T * B / (time.time() - start):.0f} wps", flush=True)
    return math.exp(cost / (steps * T))

for epoch in range(1 if a.max_steps else EPOCHS):
    lr = LR * DECAY ** max(epoch + 1 - MAX_EPOCH, 0)
    print(f"Epoch: {epoch + 1} Learning rate: {lr:.3f}")
    print(f"Epoch: {epoch + 1} Train Perplexity: {run_epoch(data['train'], True, lr):.3f}")
    print(f"Epoch: {epoch + 1} Valid Perplexity: {run_epoch(data['valid'], False, lr):.3f}")
