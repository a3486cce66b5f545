"""How much of a TD3 or SAC training step is matrix products, ours beside the PyTorch + Gymnasium reference.

At the widely used settings (256-256 ReLU networks, batch 256) a training step of TD3 or SAC is a few dozen
products of 256 × 256 weights by 256 rows, and both libraries hand them to the same kind of BLAS at the same speed
(a 256³ float32 product takes the same time in NumPy and in PyTorch). So the time spent in products is a floor
that no framework on this CPU goes under, and a speed-up over the reference cannot exceed

    reference time per step / time per step in products.

This script measures, in one run: our time per training step and the part of it inside `np.matmul` (every dense
layer's forward, backward and bias gradient goes through it: `kernels/numpy_fast.py`), and the reference's time
per training step (the difference of two runs, 1,000 and 2,000 steps past its 1,000 random ones, so that
start-up and random play cancel).

    python benchmarks/matmul_floor.py [--algos td3 sac] [--steps 500] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import rl_speed  # noqa: E402
from machine import describe  # noqa: E402


def ours(algo: str, steps: int) -> dict:
    """Milliseconds per training step of our agent, and the part of them inside np.matmul."""
    from minirl.algos import get

    settings = rl_speed.settings_for(algo)
    agent = get(algo)(rl_speed.ENVIRONMENT[algo], seed=0, **settings)
    agent.learn(settings["learning_starts"] + 200)  # past the random play, the first updates done
    product, spent, calls = np.matmul, [0.0], [0]

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return product(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
            calls[0] += 1

    np.matmul = timed  # the kernels look np.matmul up at each call
    try:
        start = time.perf_counter()
        agent.learn(agent.num_timesteps + steps)
        total = time.perf_counter() - start
    finally:
        np.matmul = product
    return {"ms_per_step": total / steps * 1e3, "ms_in_matmul_per_step": spent[0] / steps * 1e3,
            "matmul_calls_per_step": calls[0] / steps}


def reference(algo: str) -> dict:
    import torch

    from reference.torch_agents import torch_sac, torch_td3

    torch.set_num_threads(1)
    run = {"td3": torch_td3, "sac": torch_sac}[algo]
    short, long = run(2000), run(3000)
    return {"ms_per_step": (long["seconds"] - short["seconds"]) / 1000 * 1e3}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algos", nargs="+", default=["td3", "sac"], choices=["td3", "sac"])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    record = {"benchmark": "matmul_floor", "machine": describe(), "results": {}}
    for algo in args.algos:
        mine, theirs = ours(algo, args.steps), reference(algo)
        bound = theirs["ms_per_step"] / mine["ms_in_matmul_per_step"]
        record["results"][algo] = {"minirl": mine, "pytorch_gymnasium": theirs,
                                   "speedup": theirs["ms_per_step"] / mine["ms_per_step"],
                                   "largest_possible_speedup": bound}
        print(f"{algo}: ours {mine['ms_per_step']:.2f} ms per training step, {mine['ms_in_matmul_per_step']:.2f} "
              f"of them in matrix products ({mine['matmul_calls_per_step']:.0f} calls); PyTorch + Gymnasium "
              f"{theirs['ms_per_step']:.2f} ms: ratio {theirs['ms_per_step'] / mine['ms_per_step']:.2f}x, at most "
              f"{bound:.2f}x with nothing but the products", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "matmul_floor.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"wrote {out / 'matmul_floor.json'}")


if __name__ == "__main__":
    main()
