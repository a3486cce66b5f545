"""One training step (forward, backward, Adam) of an RL-sized MLP, three ways, timed side by side in one run.

The network is 4 → W → W → 2 with tanh, an MSE loss against fixed targets, float32, Adam (lr 1e-3):

- ours:    minirl.nn (Linear, Tanh in the fused `nn.DenseStack`, as the agents' networks) + autodiff backward +
           minirl.optim.Adam(fused=True); beside it, the same layers in `nn.Sequential`, one graph node per layer
           and activation (the "layers" column: what the fusing saves);
- numpy:   the same network hand-written in NumPy (forward, backward and Adam written out; gradients written
           straight into one flat buffer and one Adam update over it, with the same arithmetic as the
           numpy_ref `kernels.adam`, so the ratio measures the framework, not the kernel): the floor for any
           NumPy framework;
- torch:   PyTorch on the CPU (torch.set_num_threads(1), torch.optim.Adam), when installed.

All three start from the same weights and the script checks that their losses agree after the timed steps.
BLAS runs single-threaded for all of them (OPENBLAS_NUM_THREADS=1 etc. are set before NumPy is imported).
Targets, on the 64-wide network (the size of RL's value and policy networks, where a framework's per-call cost
shows): ours ≤ 1.5× numpy and ≤ 0.5× torch. The 256-wide row is there for contrast: its time is the matrix
products', which all three hand to the same BLAS, so it shows that nothing is lost where arithmetic dominates.
When ours misses, a cProfile of our step says where the time goes.

    python benchmarks/mlp_step.py [--repeat 7] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
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
from minirl.nn.activation import Tanh  # noqa: E402
from minirl.nn.linear import Linear  # noqa: E402
from minirl.nn.loss import mse_loss  # noqa: E402

CONFIGS = [(64, 64), (256, 256)]  # (batch, width)
TARGETED = (64, 64)  # the configuration the targets are for (see the docstring)
LR = 1e-3


def make_problem(batch, width, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [4, width, width, 2]
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    x = rng.standard_normal((batch, 4)).astype(np.float32)
    y = rng.standard_normal((batch, 2)).astype(np.float32)
    return weights, x, y


# -- ours ------------------------------------------------------------------------------------------------------
def ours(weights, x, y, container=nn.DenseStack):
    width = weights[0].shape[0]
    model = container(Linear(4, width), Tanh(), Linear(width, width), Tanh(), Linear(width, 2))
    for p, w in zip(model.parameters(), weights):
        p.data[...] = w
    opt = optim.Adam(model.parameters(), lr=LR, fused=True)
    xt, yt = ad.tensor(x), ad.tensor(y)

    def step():
        opt.zero_grad()
        loss = mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    def forward():
        return mse_loss(model(xt), yt)

    def forward_backward():
        opt.zero_grad()
        mse_loss(model(xt), yt).backward()

    return step, {"forward": forward, "forward_backward": forward_backward, "optimizer": opt.step}


# -- the NumPy floor ------------------------------------------------------------------------------------------
def numpy_handwritten(weights, x, y):
    sizes = [w.size for w in weights]
    offsets = np.cumsum([0] + sizes)
    flat = np.empty(offsets[-1], np.float32)
    grad = np.empty_like(flat)
    m, v = np.zeros_like(flat), np.zeros_like(flat)
    params = [flat[a:b].reshape(w.shape) for a, b, w in zip(offsets[:-1], offsets[1:], weights)]
    grads = [grad[a:b].reshape(w.shape) for a, b, w in zip(offsets[:-1], offsets[1:], weights)]
    for p, w in zip(params, weights):
        p[...] = w
    W1, b1, W2, b2, W3, b3 = params
    gW1, gb1, gW2, gb2, gW3, gb3 = grads
    n_out = y.size
    t = [0]
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def step():
        nonlocal m, v  # updated in place
        # forward
        h1 = np.tanh(x @ W1.T + b1)
        h2 = np.tanh(h1 @ W2.T + b2)
        d = h2 @ W3.T + b3 - y
        loss = (d * d).sum() / n_out
        # backward: ∂L/∂out = 2 d / n, then the chain rule layer by layer
        g3 = d * (2.0 / n_out)
        np.matmul(g3.T, h2, out=gW3)
        g3.sum(axis=0, out=gb3)
        g2 = (g3 @ W3) * (1 - h2 * h2)
        np.matmul(g2.T, h1, out=gW2)
        g2.sum(axis=0, out=gb2)
        g1 = (g2 @ W2) * (1 - h1 * h1)
        np.matmul(g1.T, x, out=gW1)
        g1.sum(axis=0, out=gb1)
        # Adam (book Alg. 1.2) on the flat buffers
        t[0] += 1
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        flat[...] -= (LR / (1 - beta1 ** t[0])) * m / (np.sqrt(v) / np.sqrt(1 - beta2 ** t[0]) + eps)
        return loss

    return step


# -- PyTorch ------------------------------------------------------------------------------------------------
def pytorch(weights, x, y):
    import torch

    torch.set_num_threads(1)
    width = weights[0].shape[0]
    model = torch.nn.Sequential(torch.nn.Linear(4, width), torch.nn.Tanh(), torch.nn.Linear(width, width),
                                torch.nn.Tanh(), torch.nn.Linear(width, 2))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.functional.mse_loss

    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def time_side_by_side(steps: dict, number: int, repeat: int) -> dict:
    """Best-of-`repeat` microseconds per call, the contenders interleaved so that load affects all alike."""
    best = {name: float("inf") for name in steps}
    for _ in range(repeat):
        for name, fn in steps.items():
            best[name] = min(best[name], timeit.timeit(fn, number=number) / number * 1e6)
    return best


def profile(step, calls=2000, top=18) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        have_torch = True
    except ImportError:
        have_torch = False
    rows, profiles = [], {}
    for batch, width in CONFIGS:
        weights, x, y = make_problem(batch, width)
        ours_step, parts = ours(weights, x, y)
        steps = {"ours": ours_step, "ours_layer_by_layer": ours(weights, x, y, nn.Sequential)[0],
                 "numpy": numpy_handwritten(weights, x, y)}
        if have_torch:
            steps["torch"] = pytorch(weights, x, y)
        number = 2000 if width <= 64 else 300
        for fn in steps.values():
            for _ in range(50):
                fn()
        timings = time_side_by_side(steps, number, args.repeat)
        # the three agree: fresh copies, 20 steps each, then the loss of step 21
        fresh = {"ours": ours(weights, x, y)[0], "numpy": numpy_handwritten(weights, x, y)}
        if have_torch:
            fresh["torch"] = pytorch(weights, x, y)
        losses = {}
        for name, fn in fresh.items():
            for _ in range(20):
                fn()
            losses[name] = float(fn().item())
        breakdown = time_side_by_side(parts, number, args.repeat)  # the optimizer steps on the last gradients
        row = {"batch": batch, "width": width, "us_per_step": timings, "loss_at_step_21": losses,
               "ours_breakdown_us": {"forward": breakdown["forward"],
                                     "zero_grad+backward": breakdown["forward_backward"] - breakdown["forward"],
                                     "optimizer_step": breakdown["optimizer"]},
               "ratio_ours_to_numpy": timings["ours"] / timings["numpy"],
               "targeted": (batch, width) == TARGETED}
        if have_torch:
            row["ratio_ours_to_torch"] = timings["ours"] / timings["torch"]
        if row["targeted"]:
            row["target_numpy_1.5x_met"] = timings["ours"] <= 1.5 * timings["numpy"]
            if have_torch:
                row["target_torch_0.5x_met"] = timings["ours"] <= 0.5 * timings["torch"]
        rows.append(row)
        profiles[f"batch{batch}_width{width}"] = profile(ours_step, calls=number)
    lines = [f"{'batch':>6}{'width':>7}{'ours µs':>10}{'layers µs':>11}{'numpy µs':>10}{'torch µs':>10}"
             f"{'ours/numpy':>12}{'ours/torch':>12}{'fwd':>8}{'bwd':>8}{'opt':>8}"]
    for r in rows:
        t, b = r["us_per_step"], r["ours_breakdown_us"]
        lines.append(f"{r['batch']:>6}{r['width']:>7}{t['ours']:>10.1f}{t['ours_layer_by_layer']:>11.1f}"
                     f"{t['numpy']:>10.1f}"
                     f"{t.get('torch', float('nan')):>10.1f}{r['ratio_ours_to_numpy']:>12.2f}"
                     f"{r.get('ratio_ours_to_torch', float('nan')):>12.2f}{b['forward']:>8.1f}"
                     f"{b['zero_grad+backward']:>8.1f}{b['optimizer_step']:>8.1f}")
    table = "\n".join(lines)
    print("one training step (forward, backward, Adam), µs, best of", args.repeat)
    print(table)
    for r in rows:
        print(f"batch {r['batch']} width {r['width']}: loss at step 21 {r['loss_at_step_21']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    targets = {"ours/numpy": "≤ 1.5", "ours/torch": "≤ 0.5", "for": f"batch {TARGETED[0]}, width {TARGETED[1]}"}
    record = {"benchmark": "mlp_step", "network": "4→W→W→2 tanh, MSE, float32, Adam lr 1e-3", "targets": targets,
              "machine": describe(), "rows": rows}
    (out / "mlp_step.json").write_text(json.dumps(record, indent=2))
    (out / "mlp_step.md").write_text(
        f"One training step (forward, backward, Adam) of 4→W→W→2 tanh, float32, µs, best of {args.repeat} "
        f"(interleaved); ours: nn.DenseStack, layers: the same layers in nn.Sequential (a node each); fwd/bwd/opt: "
        f"our step's parts, timed separately. Targets (batch {TARGETED[0]}, width {TARGETED[1]}; the 256-wide row, where "
        f"the products dominate, is for contrast): ours/numpy ≤ 1.5, ours/torch ≤ 0.5.\n\n```\n{table}\n```\n\nMachine: {json.dumps(record['machine'])}\n")
    (out / "mlp_step_profile.txt").write_text("\n\n".join(f"== ours, {k} ==\n{v}" for k, v in profiles.items()))
    print(f"wrote {out / 'mlp_step.json'} and {out / 'mlp_step_profile.txt'}")


if __name__ == "__main__":
    main()
