"""The Atari Q-network of DQN (book ch. 4.8, L19299–19345): one training step and one action, ours beside PyTorch.

The network is `minirl.algos.networks.NatureCNN` (conv 32·8×8/4, 64·4×4/2, 64·3×3/1, FC 512, ReLU) with a
512 → 4 head, 1,686,180 parameters, on (B, 4, 84, 84) uint8 frames scaled by 1/255 inside:

- train step: batch 32; Q(s, a) of the actions taken, the Huber loss (4.27) against fixed targets, backward,
  Adam (lr 1e-4, eps 1e-5 as the book's Adam(lr, eps=1e-5));
- target forward: the target network's Q(s', ·) on a batch of 32, without a graph (every train step needs one);
- act: Q(s, ·) of one observation without a graph, what ε-greedy does at every environment step.

ours: minirl.nn + autodiff + minirl.optim.Adam; torch: PyTorch on the CPU with the same weights
(torch.set_num_threads(1)), when installed. BLAS runs single-threaded for both (OPENBLAS_NUM_THREADS=1 etc. are set
before NumPy is imported). The script checks that the two losses agree after the timed steps. No target is set:
these are the figures a DQN run on Atari is built from (PyTorch's convolutions are hand-tuned C++; ours are
im2col and one matrix product per layer, book eq. 1.24).

    python benchmarks/cnn_step.py [--repeat 5] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import timeit
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import autodiff as ad  # noqa: E402
from machine import describe  # noqa: E402
from minirl import nn, optim  # noqa: E402
from minirl.algos.networks import NatureCNN  # noqa: E402
from minirl.nn.loss import huber_loss  # noqa: E402

BATCH, ACTIONS, LR, EPS = 32, 4, 1e-4, 1e-5


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    torso = NatureCNN(4, rng=rng)
    head = nn.Linear(512, ACTIONS, rng=rng)
    weights = [p.data.copy() for p in (*torso.parameters(), *head.parameters())]
    frames = rng.integers(0, 256, (BATCH, 4, 84, 84), dtype=np.uint8)
    actions = rng.integers(0, ACTIONS, BATCH)
    targets = rng.standard_normal(BATCH).astype(np.float32)
    return weights, frames, actions, targets


# -- ours ------------------------------------------------------------------------------------------------------
def ours(weights, frames, actions, targets):
    q_network = nn.Sequential(NatureCNN(4, rng=np.random.default_rng(1)), nn.Linear(512, ACTIONS))
    for p, w in zip(q_network.parameters(), weights):
        p.data[...] = w
    opt = optim.Adam(q_network.parameters(), lr=LR, eps=EPS, fused=True)
    rows, y, one = np.arange(BATCH), ad.tensor(targets), frames[:1]

    def train_step():
        opt.zero_grad()
        loss = huber_loss(q_network(frames)[rows, actions], y)  # Q(S_j, A_j; θ) against Y_j
        loss.backward()
        opt.step()
        return loss

    def target_forward():
        with ad.no_grad():
            return q_network(frames).numpy()

    def act():
        with ad.no_grad():
            return int(np.argmax(q_network(one).numpy()))

    return {"train_step": train_step, "target_forward": target_forward, "act": act}


# -- PyTorch ------------------------------------------------------------------------------------------------
def pytorch(weights, frames, actions, targets):
    import torch

    torch.set_num_threads(1)
    tnn = torch.nn
    q_network = tnn.Sequential(
        tnn.Conv2d(4, 32, 8, stride=4), tnn.ReLU(), tnn.Conv2d(32, 64, 4, stride=2), tnn.ReLU(),
        tnn.Conv2d(64, 64, 3, stride=1), tnn.ReLU(), tnn.Flatten(), tnn.Linear(3136, 512), tnn.ReLU(),
        tnn.Linear(512, ACTIONS),
    )
    with torch.no_grad():
        for p, w in zip(q_network.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(q_network.parameters(), lr=LR, eps=EPS)
    x, a, y = torch.from_numpy(frames), torch.from_numpy(actions), torch.from_numpy(targets)
    rows, one = torch.arange(BATCH), x[:1]

    def forward(batch):
        return q_network(batch.float() / 255.0)

    def train_step():
        opt.zero_grad()
        loss = torch.nn.functional.huber_loss(forward(x)[rows, a], y)
        loss.backward()
        opt.step()
        return loss

    def target_forward():
        with torch.no_grad():
            return forward(x).numpy()

    def act():
        with torch.no_grad():
            return int(forward(one).argmax())

    return {"train_step": train_step, "target_forward": target_forward, "act": act}


def time_side_by_side(contenders: dict, part: str, number: int, repeat: int) -> dict:
    """Best-of-`repeat` milliseconds per call of `part`, the contenders interleaved so that load affects all alike."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeat):
        for name, fns in contenders.items():
            best[name] = min(best[name], timeit.timeit(fns[part], number=number) / number * 1e3)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    problem = make_problem()
    contenders = {"ours": ours(*problem)}
    try:
        contenders["torch"] = pytorch(*problem)
    except ImportError:
        print("PyTorch is not installed: timing ours only")
    for fns in contenders.values():  # warm up (and allocate)
        for _ in range(3):
            for fn in fns.values():
                fn()
    numbers = {"train_step": 5, "target_forward": 10, "act": 200}
    ms = {part: time_side_by_side(contenders, part, number, args.repeat) for part, number in numbers.items()}
    # the two agree: fresh copies, 10 train steps each, then the loss of step 11
    losses = {}
    for name, make in (("ours", ours), ("torch", pytorch)):
        if name in contenders:
            step = make(*problem)["train_step"]
            for _ in range(10):
                step()
            losses[name] = float(step().item())
    rows = [{"part": part, "batch": 1 if part == "act" else BATCH, "ms_per_call": ms[part],
             **({"ratio_ours_to_torch": ms[part]["ours"] / ms[part]["torch"]} if "torch" in ms[part] else {})}
            for part in numbers]
    lines = [f"{'part':<16}{'batch':>6}{'ours ms':>10}{'torch ms':>10}{'ours/torch':>12}"]
    for r in rows:
        t = r["ms_per_call"]
        lines.append(f"{r['part']:<16}{r['batch']:>6}{t['ours']:>10.3f}{t.get('torch', float('nan')):>10.3f}"
                     f"{r.get('ratio_ours_to_torch', float('nan')):>12.2f}")
    print(f"Nature CNN + 512→{ACTIONS} head, float32, one CPU thread, ms per call, best of {args.repeat}")
    print("\n".join(lines))
    print(f"loss at step 11: {losses}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "cnn_step",
              "network": f"NatureCNN (4×84×84 uint8 → 512) + Linear(512, {ACTIONS}), 1,686,180 parameters, float32",
              "train_step": f"batch {BATCH}, Q(s,a) of the actions taken, Huber loss, backward, Adam lr {LR} eps {EPS}",
              "load_average_before": load_before, "machine": describe(), "rows": rows,
              "loss_at_step_11": losses}
    (out / "cnn_step.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {out / 'cnn_step.json'}")


if __name__ == "__main__":
    main()
