"""DQN's learning curve beside the PyTorch + Gymnasium single-file DQN's, at the settings of `rl_speed.py`.

Being faster means nothing if the same settings learn differently. Both run DQN on CartPole-v1 with the reference
settings of `rl_speed.py` (buffer 10k, batch 128, train every 10 steps, hard target copy every 500, Adam 2.5e-4,
120-84 ReLU, the squared error, ε from 1 to 0.05 over the first half) for `--steps` steps on the same seed, and
the script records each episode's return and the first step at which the mean of the last 20 episodes reaches 475.
The target: both reach it within 500k steps on seed 1. The plot shows both moving averages.

    python benchmarks/dqn_curve.py [--steps 500000] [--seed 1] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from machine import describe  # noqa: E402
from rl_speed import DQN_SETTINGS  # noqa: E402

WINDOW, TARGET = 20, 475.0


def first_reach(episodes: list) -> int | None:
    """The step at which the mean return of the last WINDOW episodes first reaches TARGET (None: never)."""
    returns = np.array([r for _, r in episodes], dtype=float)
    for i in range(WINDOW - 1, len(returns)):
        if returns[i - WINDOW + 1:i + 1].mean() >= TARGET:
            return int(episodes[i][0])
    return None


def ours(steps: int, seed: int) -> list:
    from minirl.algos import get
    from minirl.algos.base import TrainingHooks

    class Episodes(TrainingHooks):
        def __init__(self):
            self.rows = []

        def on_episode(self, agent, episode_return, episode_length):
            self.rows.append((agent.num_timesteps, float(episode_return)))

    hooks = Episodes()
    get("dqn")("CartPole-v1", seed=seed, **DQN_SETTINGS).learn(steps, hooks)
    return hooks.rows


def reference(steps: int, seed: int) -> list:
    import torch

    from reference.torch_agents import torch_dqn

    torch.set_num_threads(1)
    torch_dqn(steps, seed=seed, episodes=(rows := []))
    return rows


def plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, episodes in curves.items():
        steps, returns = np.array([s for s, _ in episodes]), np.array([r for _, r in episodes])
        moving = np.convolve(returns, np.ones(WINDOW) / WINDOW, mode="valid")
        ax.plot(steps[WINDOW - 1:], moving, label=name)
    ax.axhline(TARGET, color="gray", linestyle="--", linewidth=1)
    ax.set(xlabel="environment steps", ylabel=f"mean return of the last {WINDOW} episodes",
           title="DQN on CartPole-v1, reference settings")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    curves = {"minirl": ours(args.steps, args.seed), "pytorch_gymnasium": reference(args.steps, args.seed)}
    record = {"benchmark": "dqn_curve", "machine": describe(), "steps": args.steps, "seed": args.seed,
              "settings": DQN_SETTINGS, "window": WINDOW, "target": TARGET, "results": {}}
    for name, episodes in curves.items():
        reached = first_reach(episodes)
        record["results"][name] = {"first_step_at_target": reached, "episodes": episodes}
        print(f"{name}: {len(episodes)} episodes; the mean of {WINDOW} reaches {TARGET:g} at "
              f"{'never' if reached is None else f'step {reached:,}'}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dqn_curve.json").write_text(json.dumps(record, default=str))
    plot(curves, out / "dqn_curve.png")
    print(f"wrote {out / 'dqn_curve.json'} and {out / 'dqn_curve.png'}")


if __name__ == "__main__":
    main()
