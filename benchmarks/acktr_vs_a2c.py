"""ACKTR against A2C on CartPole-v1: the environment steps to a final 475 (sample efficiency; the ACKTR paper
reports 2–3x fewer than A2C), 5 seeds each, and the wall-clock cost of one update, K-FAC's against Adam's and
RMSprop's, on the same rollout.

Steps to a final 475: each run trains for the agent's default steps (200k), and when it arrived is found as
`time_to_target.py` explains (copies of the policy every `--every` steps, evaluated afterwards). Cost of an update:
one rollout of ACKTR's size (8 copies × 20 steps) is collected, then the update (the gradient, and for ACKTR the
backward pass that feeds K-FAC's statistics, then the optimizer's step) is timed `--updates` times on it, for
ACKTR and for A2C with RMSprop and with Adam on the same rollout size; the inverses K-FAC refreshes every 10
updates are part of its average.

    python benchmarks/acktr_vs_a2c.py [--seeds 0 1 2 3 4] [--every 5000] [--updates 300]
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
from machine import describe  # noqa: E402
from time_to_target import race, summarize  # noqa: E402

from minirl.algos import A2C, ACKTR  # noqa: E402
from minirl.algos.base import TrainingHooks  # noqa: E402

TARGET = 475.0


def seconds_per_update(cls, updates: int, **settings) -> float:
    agent = cls("CartPole-v1", seed=0, num_envs=8, num_steps=20, **settings)
    agent._begin()
    agent._collect_rollout(TrainingHooks())
    agent._update()  # the first K-FAC step also inverts its factors; warm both up
    times = []
    for _ in range(updates):
        start = time.perf_counter()
        agent._update()
        times.append(time.perf_counter() - start)
    return float(np.mean(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--every", type=int, default=5_000)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "acktr_vs_a2c.json"))
    args = parser.parse_args(argv)
    update_cost = {"acktr (K-FAC)": seconds_per_update(ACKTR, args.updates),
                   "a2c (RMSprop)": seconds_per_update(A2C, args.updates),
                   "a2c (Adam)": seconds_per_update(A2C, args.updates, optimizer="adam")}
    print({k: f"{v * 1e3:.3f} ms" for k, v in update_cost.items()}, flush=True)
    runs = {"a2c": [], "acktr": []}
    for seed in args.seeds:
        for name, cls in (("a2c", A2C), ("acktr", ACKTR)):
            runs[name].append(race(cls, "CartPole-v1", seed, TARGET, args.every))
            print(name, runs[name][-1], flush=True)
    summary = {name: summarize(records) for name, records in runs.items()}
    a2c, acktr = summary["a2c"]["median_steps_to_target"], summary["acktr"]["median_steps_to_target"]
    result = {"machine": describe(), "target": TARGET, "every": args.every,
              "seconds_per_update": update_cost,
              "a2c_over_acktr_steps_to_target": a2c / acktr if a2c and acktr else None,
              "summary": summary, "runs": runs}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("seconds_per_update", "a2c_over_acktr_steps_to_target", "summary")},
                     indent=2))


if __name__ == "__main__":
    main()
