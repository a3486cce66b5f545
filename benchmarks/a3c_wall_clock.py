"""Wall-clock time to a final 475 on CartPole-v1: A3C with 2 worker processes against A2C in one process, 5 seeds
each, on this machine, one run at a time.

Each run trains for the agent's default steps (A2C 200k, A3C 300k) from `learn`'s call, process start-up
included. A hook copies the policy every `--every` steps with the seconds since then. After training, the copies
are evaluated, untimed, as the learning targets are: the mean return of 20 deterministic episodes (here the 20
episodes run side by side in a vector env, with the seeds `Agent.evaluate` uses). The time to a final 475 is the
time of the first copy from which every later copy, and the final policy, reach 475: a policy that reached 475
and lost it again had not arrived. A run whose final policy is below 475 has no time.

    python benchmarks/a3c_wall_clock.py [--seeds 0 1 2 3 4] [--every 10000] [--out benchmarks/results/a3c_wall_clock.json]
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
from minirl.algos import A2C, A3C  # noqa: E402
from minirl.algos.base import TrainingHooks  # noqa: E402
from minirl.envs import make_vec  # noqa: E402

TARGET = 475.0


class Snapshots(TrainingHooks):
    """The policy's parameters every `every` steps, with the seconds since training started."""

    def __init__(self, every: int):
        self.every, self.next, self.start = every, every, time.perf_counter()
        self.copies: list[tuple[int, float, dict]] = []

    def on_step(self, agent):
        if agent.num_timesteps >= self.next:
            state = {k: np.array(v) for k, v in agent.policy.state_dict().items()}
            self.copies.append((agent.num_timesteps, time.perf_counter() - self.start, state))
            self.next += self.every


def evaluate(agent, episodes: int = 20) -> float:
    """Agent.evaluate's episodes (seed + 10000 + i), played side by side: the mean return of the first episode of
    each of `episodes` copies, acting deterministically."""
    envs = make_vec(agent.env_id, episodes)
    obs, _ = envs.reset(seed=agent.seed + 10_000)
    returns, running, done = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not done.all():
        obs, rewards, terminated, truncated, _ = envs.step(agent.act(obs, deterministic=True))
        running += np.where(done, 0.0, rewards)
        finished = (terminated | truncated) & ~done
        returns[finished], done = running[finished], done | finished
    return float(returns.mean())


def run(cls, seed: int, every: int, **settings) -> dict:
    agent = cls("CartPole-v1", seed=seed, **settings)
    hooks = Snapshots(every)
    start = time.perf_counter()
    agent.learn(cls.steps_for("CartPole-v1"), hooks)
    seconds = time.perf_counter() - start
    final = agent.evaluate(20)["mean_return"]
    arrived = None  # (steps, seconds) of the first copy from which all later ones reach 475
    if final >= TARGET:
        arrived = (agent.num_timesteps, seconds)
        for steps, at, state in reversed(hooks.copies):
            agent.policy.load_state_dict(state)
            if evaluate(agent) < TARGET:
                break
            arrived = (steps, at)
    return {"seed": seed, "steps": agent.num_timesteps, "seconds": round(seconds, 2), "final": final,
            "steps_to_final_475": arrived and arrived[0], "seconds_to_final_475": arrived and round(arrived[1], 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "a3c_wall_clock.json"))
    args = parser.parse_args(argv)
    runs = {"a2c": [], "a3c": []}
    for seed in args.seeds:  # alternately, so that a slow spell of the machine hits both
        for name, cls, settings in (("a2c", A2C, {}), ("a3c", A3C, {"num_workers": 2})):
            record = run(cls, seed, args.every, **settings)
            runs[name].append(record)
            print(name, record, flush=True)
    summary = {}
    for name, records in runs.items():
        times = [r["seconds_to_final_475"] for r in records if r["seconds_to_final_475"] is not None]
        summary[name] = {"seeds_reaching_final_475": len(times), "of": len(records),
                         "median_seconds_to_final_475": float(np.median(times)) if times else None,
                         "median_seconds_per_run": float(np.median([r["seconds"] for r in records])),
                         "median_steps_per_second": float(np.median([r["steps"] / r["seconds"] for r in records]))}
    result = {"machine": describe(), "cpu_count": os.cpu_count(), "target": TARGET, "every": args.every,
              "summary": summary, "runs": runs}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
