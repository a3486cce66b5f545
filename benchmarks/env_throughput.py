"""Environment steps per second: our vectorized CartPole against Gymnasium's vector envs, in one run.

For 1, 16, 256 and 4096 copies of CartPole-v1, each implementation takes the same number of steps with the same
pre-drawn random actions (autoresets included):
    minirl VectorizedEnv      minirl.envs.make_vec("CartPole-v1", n)              (one array operation per step)
    minirl SyncVectorEnv      make_vec(..., vectorization_mode="sync")            (a Python loop over copies)
    gymnasium SyncVectorEnv   gymnasium.make_vec(..., vectorization_mode="sync")   (same-step autoreset, as ours)
    gymnasium CartPoleVector  gymnasium.make_vec(..., vectorization_mode="vector_entry_point")
                              (Gymnasium's own NumPy-vectorized CartPole)
Throughput = copies x steps / seconds, the best of several timed passes, the implementations taking turns
(`--repeat` rounds). The target is >= 20x Gymnasium's SyncVectorEnv at 256 copies. Figures go to
benchmarks/results/env_throughput.json with the machine and its load average (on a busy machine the fast
implementations' figures vary by up to 2x from run to run; compare columns of one run only).

    python benchmarks/env_throughput.py [--num-envs 1 16 256 4096] [--scale 1.0] [--repeat 3]
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

import minirl.envs  # noqa: E402
from machine import describe  # noqa: E402

# vector steps per copy count: 5e3 to 7e4 env steps, so that a pass of the slow loops takes about a second
STEPS = {1: 5_000, 16: 1_000, 256: 120, 4096: 16}


def implementations(gymnasium):
    same_step = {"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}
    return {
        "minirl VectorizedEnv": lambda n: minirl.envs.make_vec("CartPole-v1", n),
        "minirl SyncVectorEnv": lambda n: minirl.envs.make_vec("CartPole-v1", n, vectorization_mode="sync"),
        "gymnasium SyncVectorEnv": lambda n: gymnasium.make_vec(
            "CartPole-v1", n, vectorization_mode="sync", vector_kwargs=same_step),
        "gymnasium CartPoleVectorEnv": lambda n: gymnasium.make_vec(
            "CartPole-v1", n, vectorization_mode="vector_entry_point"),
    }


def timed_pass(envs, actions: np.ndarray) -> float:
    envs.reset(seed=0)
    for a in actions[:5]:  # warm-up
        envs.step(a)
    start = time.perf_counter()
    for a in actions:
        envs.step(a)
    return time.perf_counter() - start


def steps_per_second(makers: dict, n: int, actions: np.ndarray, rounds: int, min_seconds: float = 1.0) -> dict:
    """Env steps per second of each implementation over the whole action sequence, the best of its passes.

    The implementations take turns, `rounds` times, so a burst of load on this shared machine does not fall on
    one of them only; within a turn, a fast implementation repeats its pass until min_seconds / rounds went by.
    """
    envs = {name: make(n) for name, make in makers.items()}
    best = dict.fromkeys(envs, float("inf"))
    for _ in range(rounds):
        for name, env in envs.items():
            spent = 0.0
            while spent == 0.0 or spent < min_seconds / rounds:
                elapsed = timed_pass(env, actions)
                best[name], spent = min(best[name], elapsed), spent + elapsed
    for env in envs.values():
        env.close()
    return {name: actions.size / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=list(STEPS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of steps")
    parser.add_argument("--repeat", type=int, default=3, help="rounds in which every implementation takes a turn")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args()
    import gymnasium

    rows = []
    for n in args.num_envs:
        steps = max(10, int(STEPS.get(n, 100_000 // n) * args.scale))
        actions = np.random.default_rng(n).integers(0, 2, size=(steps, n))
        row = {"num_envs": n, "vector_steps": steps, "env_steps": int(actions.size),
               "steps_per_second": steps_per_second(implementations(gymnasium), n, actions, args.repeat)}
        rates = row["steps_per_second"]
        row["speedup_vs_gymnasium_sync"] = rates["minirl VectorizedEnv"] / rates["gymnasium SyncVectorEnv"]
        row["speedup_vs_gymnasium_vector"] = rates["minirl VectorizedEnv"] / rates["gymnasium CartPoleVectorEnv"]
        rows.append(row)
        print_row(row, header=len(rows) == 1)

    machine = describe()
    machine["gymnasium"] = gymnasium.__version__
    result = {
        "benchmark": "CartPole-v1 vector env throughput: env steps per second, random actions, same steps for "
                     f"every implementation, best of the passes of {args.repeat} rounds taken in turn",
        "machine": machine,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "results": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "env_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nmachine: {machine['cpu']}, {machine['cores']} cores, numpy {machine['numpy']}, "
          f"gymnasium {machine['gymnasium']}; load average {machine['load_average']}")
    print(f"wrote {out / 'env_throughput.json'}")


def print_row(row: dict, header: bool) -> None:
    names = list(row["steps_per_second"])
    if header:
        print(f"{'copies':>7} {'steps':>7} " + " ".join(f"{name:>28}" for name in names) + f" {'vs gym sync':>12}"
              f" {'vs gym vector':>14}")
    rates = " ".join(f"{rate:>28,.0f}" for rate in row["steps_per_second"].values())
    print(f"{row['num_envs']:>7} {row['vector_steps']:>7} {rates} {row['speedup_vs_gymnasium_sync']:>11.1f}x"
          f" {row['speedup_vs_gymnasium_vector']:>13.2f}x")


if __name__ == "__main__":
    main()
