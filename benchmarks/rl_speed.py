"""Environment steps per second of PPO and DQN on CartPole-v1, ours and a PyTorch + Gymnasium reference with
the same settings, in one run; plus a profile of where our time goes.

PPO: the widely used reference settings (4 envs × 128 steps, 4 epochs × 4 minibatches, 64-64 tanh networks).
DQN: buffer 10k, batch 128, train every 10 steps, target network every 500, learning from step 10k.

    python benchmarks/rl_speed.py [--ppo-steps 500000] [--dqn-steps 100000] [--no-reference] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

PPO_SETTINGS = dict(num_envs=4, num_steps=128, update_epochs=4, num_minibatches=4, learning_rate=2.5e-4,
                    gamma=0.99, gae_lambda=0.95, ent_coef=0.01, hidden="64,64", activation="tanh",
                    target_kl=None)  # every epoch runs, as in the reference
DQN_SETTINGS = dict(num_envs=1, buffer_size=10_000, batch_size=128, train_frequency=10, target_update_interval=500,
                    learning_starts=10_000, learning_rate=2.5e-4, gradient_steps=1, hidden="120,84",
                    exploration_fraction=0.5, exploration_final_eps=0.05)


def ours(algo: str, steps: int):
    from minirl.algos import get

    settings = PPO_SETTINGS if algo == "ppo" else DQN_SETTINGS
    agent = get(algo)("CartPole-v1", seed=0, **settings)
    start = time.perf_counter()
    agent.learn(steps)
    elapsed = time.perf_counter() - start
    return {"steps": steps, "seconds": elapsed, "steps_per_second": steps / elapsed,
            "final_eval_mean_return": agent.evaluate(20)["mean_return"]}


def profile(algo: str, steps: int) -> dict:
    from minirl.algos import get

    settings = PPO_SETTINGS if algo == "ppo" else DQN_SETTINGS
    agent = get(algo)("CartPole-v1", seed=0, **settings)
    profiler = cProfile.Profile()
    profiler.runcall(agent.learn, steps)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    parts = {}

    def cumulative(predicate):
        return sum(v[3] for k, v in stats.stats.items() if predicate(k))

    parts["environment"] = cumulative(lambda k: "minirl/envs/vector/vectorized.py" in k[0] and k[2] == "step")
    parts["buffers"] = cumulative(lambda k: "minirl/buffers/" in k[0] and k[2] in ("add", "sample",
                                                                                  "compute_returns_and_advantages"))
    parts["optimizer step"] = cumulative(lambda k: "minirl/optim/optimizer.py" in k[0] and k[2] == "step")
    parts["gradient clipping"] = cumulative(lambda k: "clip_grad.py" in k[0] and k[2] == "clip_grad_norm_")
    parts["backward"] = cumulative(lambda k: "autodiff/engine.py" in k[0] and k[2] == "backward")
    parts["forward (networks)"] = cumulative(lambda k: "minirl/nn/module.py" in k[0] and k[2] == "__call__")
    parts["distributions"] = cumulative(lambda k: "minirl/distributions/" in k[0] and k[2] in (
        "__init__", "sample", "log_prob", "entropy"))
    parts["other (Python overhead of the loop)"] = total - sum(parts.values())
    return {"total_seconds_under_profiler": total,
            "fractions": {k: round(v / total, 3) for k, v in parts.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ppo-steps", type=int, default=500_000)
    parser.add_argument("--dqn-steps", type=int, default=100_000)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    record = {"benchmark": "rl_speed", "machine": describe(), "ppo_settings": PPO_SETTINGS,
              "dqn_settings": DQN_SETTINGS, "results": {}}
    runs = [("ppo", args.ppo_steps), ("dqn", args.dqn_steps)]
    for algo, steps in runs:
        result = {"minirl": ours(algo, steps)}
        if not args.no_reference:
            try:
                from reference.torch_agents import torch_dqn, torch_ppo

                import torch

                torch.set_num_threads(1)
                result["pytorch_gymnasium"] = (torch_ppo if algo == "ppo" else torch_dqn)(steps)
                result["speedup"] = result["minirl"]["steps_per_second"] / result["pytorch_gymnasium"]["steps_per_second"]
            except ImportError as exc:
                result["pytorch_gymnasium"] = f"not measured: {exc}"
        if args.profile:
            result["profile"] = profile(algo, min(steps, 50_000))
        record["results"][algo] = result
        print(f"{algo}: minirl {result['minirl']['steps_per_second']:,.0f} steps/s"
              + (f", PyTorch+Gymnasium {result['pytorch_gymnasium']['steps_per_second']:,.0f} steps/s, "
                 f"ratio {result['speedup']:.2f}x" if isinstance(result.get("pytorch_gymnasium"), dict) else ""),
              flush=True)
        if args.profile:
            for part, fraction in result["profile"]["fractions"].items():
                print(f"    {part:<40} {fraction:6.1%}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rl_speed.json").write_text(json.dumps(record, indent=2, default=str))
    print(f"wrote {out / 'rl_speed.json'}")


if __name__ == "__main__":
    main()
