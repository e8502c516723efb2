"""Data-parallel training with torch.distributed: two processes (gloo) train a tiny language
model built on curnn.torch.LSTM under DistributedDataParallel, each on half of every batch.
Afterwards both ranks hold bitwise the same parameters, and they equal (within the tolerance
rule) those of one process trained on the whole batches: DDP's averaged gradients of the two
half-batch means are the gradient of the whole-batch mean."""

import datetime
import os
import tempfile
import unittest
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import curnn.torch as ct
from tolerance import FLOAT_TOL, assert_close

VOCAB, EMBED, HIDDEN, LAYERS, STEPS, BATCH, WINDOW, LR = 40, 8, 12, 2, 4, 6, 5, 0.5
WORLD = 2


class TinyLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, EMBED)
        self.lstm = ct.LSTM(EMBED, HIDDEN, LAYERS)
        self.decoder = torch.nn.Linear(HIDDEN, VOCAB)

    def forward(self, ids):  # [T, B] -> logits [T * B, V]
        output, _ = self.lstm(self.embedding(ids))
        return self.decoder(output.reshape(-1, HIDDEN))


def batches():
    g = torch.Generator().manual_seed(123)
    data = torch.randint(0, VOCAB, (STEPS, WINDOW + 1, BATCH), generator=g)
    return [(d[:-1], d[1:]) for d in data]


def train(model, shard, step_hook=None):
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for inputs, targets in batches():
        inputs, targets = inputs[:, shard], targets[:, shard]
        loss = ct.softmax_cross_entropy(model(inputs), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def worker(rank, init_file, out_dir):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=WORLD, timeout=datetime.timedelta(seconds=120))
    torch.manual_seed(0)
    model = DistributedDataParallel(TinyLM())
    half = BATCH // WORLD
    train(model, slice(rank * half, (rank + 1) * half))
    torch.save(model.module.state_dict(), Path(out_dir) / f"rank{rank}.pt")
    dist.destroy_process_group()


class DistributedDataParallelTraining(unittest.TestCase):
    def test_two_processes_equal_one_on_the_union(self):
        torch.manual_seed(0)
        single = TinyLM()
        initial = {k: v.clone() for k, v in single.state_dict().items()}
        losses = train(single, slice(0, BATCH))
        print(f"[ ddp] single-process losses: {[round(x, 4) for x in losses]}")
        with tempfile.TemporaryDirectory() as tmp:
            mp.spawn(worker, args=(os.path.join(tmp, "init"), tmp), nprocs=WORLD, join=True)
            ranks = [torch.load(Path(tmp) / f"rank{r}.pt") for r in range(WORLD)]
        expected = single.state_dict()
        self.assertEqual(list(ranks[0]), list(expected))
        self.assertIn("lstm.weight_hh_l1", expected)
        for name, want in expected.items():
            self.assertFalse(torch.equal(want, initial[name]), f"{name} was trained")
            self.assertTrue(torch.equal(ranks[0][name], ranks[1][name]),
                            f"{name}: identical on both ranks")
            assert_close(f"{name}: 2 ranks vs 1 process", ranks[0][name], want, FLOAT_TOL)


if __name__ == "__main__":
    unittest.main()
