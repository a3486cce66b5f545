"""Environment steps per second of PPO and DQN on CartPole-v1, ours and a PyTorch + Gymnasium reference with
the same settings, in one run; plus a profile of where our time goes.

PPO: the widely used reference settings (4 envs × 128 steps, 4 epochs × 4 minibatches, 64-64 tanh networks).
A2C: rl-zoo's CartPole settings (8 envs × 5 steps, n-step returns, one RMSprop step per rollout, 64-64 tanh).
DQN: the single-file DQN's settings (CleanRL's dqn.py): 1 env, buffer 10k, batch 128, train every 10 steps, a
hard copy to the target network every 500, Adam 2.5e-4, 120-84 ReLU, MSE loss, learning from step 10k; plain
DQN targets (no Double DQN). Ours also clips the gradient norm at 10, which the reference does not.
C51 and Rainbow: ours only, in the same loop (buffer, batch, training and target intervals, network), with
their own losses and components; their steps/s stand beside DQN's.

DQN's profile times the four parts of one environment step, around the calls the loop makes (perf_counter,
no profiler inside them): the acting forward pass at batch 1 (`q_values`), the environment step, the
replay-buffer write, and the train step (every 10 steps); "other" is the rest of the loop (ε-greedy choice,
episode bookkeeping, schedules). PPO's profile is cProfile's, by component.

Each is run `--repeats` times, ours and the reference alternately, and the best run of each is compared (as
`timeit` takes the best of its repeats: the other runs were slowed by the rest of the machine); all are recorded.
A step count of 0 leaves that algorithm out.

    python benchmarks/rl_speed.py [--ppo-steps 500000] [--a2c-steps 200000] [--dqn-steps 100000] [--repeats 3]
                                  [--td3-steps 5000] [--sac-steps 5000] [--no-reference] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
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
                    exploration_fraction=0.5, exploration_final_eps=0.05, loss="mse",
                    # CartPole's table says Double DQN, a constant-then-annealed learning rate, training in rounds:
                    # not the reference's
                    tau=1.0, double_q=False, anneal_lr=False)


# C51 and Rainbow (ours only, beside DQN): the reference loop's settings, with their own loss and components
FAMILY = ("c51", "rainbow")
FAMILY_SETTINGS = {k: v for k, v in DQN_SETTINGS.items() if k not in ("loss", "double_q")}


# A2C: rl-zoo's CartPole settings (Stable-Baselines3's defaults): 8 envs × 5 steps, n-step returns, RMSprop 7e-4
A2C_SETTINGS = dict(num_envs=8, num_steps=5, learning_rate=7e-4, anneal_lr=False, gamma=0.99, gae_lambda=1.0,
                    ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, hidden="64,64", activation="tanh",
                    normalize_advantages=False)


# TD3 and SAC on Pendulum: the widely used single-file settings (256-256 ReLU, batch 256, Adam 3e-4, τ 0.005, one
# gradient step per environment step; TD3's actor and targets every 2 steps, its noises 0.1 and 0.2 of the action
# range's half-width 2, the smoothing noise clipped at 0.5 of it), learning from step 1000
OFF_POLICY_SETTINGS = dict(hidden="256,256", batch_size=256, learning_rate=3e-4, gamma=0.99, tau=0.005,
                           learning_starts=1000, train_frequency=1, gradient_steps=1, buffer_size=1_000_000)
TD3_SETTINGS = dict(OFF_POLICY_SETTINGS, policy_delay=2, noise="gaussian", noise_sigma=0.2, target_noise=0.4,
                    target_noise_clip=1.0)
SAC_SETTINGS = dict(OFF_POLICY_SETTINGS, autotune=True)  # α tuned toward −dim(A), as the reference's
ENVIRONMENT = {"td3": "Pendulum-v1", "sac": "Pendulum-v1"}


def settings_for(algo: str) -> dict:
    return {"ppo": PPO_SETTINGS, "a2c": A2C_SETTINGS, "dqn": DQN_SETTINGS, "td3": TD3_SETTINGS,
            "sac": SAC_SETTINGS}.get(algo, FAMILY_SETTINGS)


@contextlib.contextmanager
def agent_for(algo: str):
    from minirl.algos import get

    yield get(algo)(ENVIRONMENT.get(algo, "CartPole-v1"), seed=0, **settings_for(algo))


def ours(algo: str, steps: int):
    with agent_for(algo) as agent:
        start = time.perf_counter()
        agent.learn(steps)
        elapsed = time.perf_counter() - start
        return {"steps": steps, "seconds": elapsed, "steps_per_second": steps / elapsed,
                "final_eval_mean_return": agent.evaluate(20)["mean_return"]}


DQN_STEP_PARTS = {"acting forward pass (batch 1)": ("q_values",), "environment step": ("envs", "step"),
                  "replay-buffer write": ("buffer", "add"), "train step": ("_train_step",)}


def profile_dqn(steps: int) -> dict:
    """Wall-clock time of the parts of DQN's environment step (DQN_STEP_PARTS), timed around each call on the agent
    (an instance attribute wraps the method); the rest of `learn` is "other". Per environment step, and fractions."""
    spent = dict.fromkeys(DQN_STEP_PARTS, 0.0)
    calls = dict.fromkeys(DQN_STEP_PARTS, 0)
    clock = time.perf_counter

    def timed(part, method):
        def call(*args, **kwargs):
            start = clock()
            try:
                return method(*args, **kwargs)
            finally:
                spent[part] += clock() - start
                calls[part] += 1
        return call

    with agent_for("dqn") as agent:
        for part, path in DQN_STEP_PARTS.items():
            owner = agent
            for name in path[:-1]:
                owner = getattr(owner, name)
            setattr(owner, path[-1], timed(part, getattr(owner, path[-1])))  # the loop looks it up on each call
        start = clock()
        agent.learn(steps)
        total = clock() - start
    parts = {**spent, "other (the rest of the loop)": total - sum(spent.values())}
    return {"steps": steps, "total_seconds": total,
            "microseconds_per_step": {k: round(v / steps * 1e6, 2) for k, v in parts.items()},
            "microseconds_per_call": {k: round(spent[k] / calls[k] * 1e6, 1) for k in spent if calls[k]},
            "calls": calls, "fractions": {k: round(v / total, 3) for k, v in parts.items()}}


def profile(algo: str, steps: int) -> dict:
    if algo == "dqn":
        return profile_dqn(steps)
    with agent_for(algo) as agent:
        profiler = cProfile.Profile()
        profiler.runcall(agent.learn, steps)
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    parts = {}

    def cumulative(predicate):
        return sum(v[3] for k, v in stats.stats.items() if predicate(k))

    parts["environment"] = cumulative(lambda k: "minirl/envs/vector/" in k[0] and k[2] == "step")  # either kind
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


def measure(algo: str, steps: int, repeats: int, reference: bool = True) -> dict:
    """Ours and the reference, alternately, `repeats` times each: the best run of each (the one least disturbed by
    the rest of the machine) and the ratio of the two; every run is kept under "runs"."""
    ours_runs, reference_runs = [], []
    for _ in range(repeats):
        ours_runs.append(ours(algo, steps))
        if reference:
            try:
                from reference.torch_agents import torch_a2c, torch_dqn, torch_ppo, torch_sac, torch_td3

                import torch

                torch.set_num_threads(1)
                reference_runs.append({"ppo": torch_ppo, "a2c": torch_a2c, "dqn": torch_dqn, "td3": torch_td3,
                                       "sac": torch_sac}[algo](steps))
            except ImportError as exc:
                reference_runs.append(f"not measured: {exc}")
    best = max(ours_runs, key=lambda run: run["steps_per_second"])
    result = {"minirl": best, "runs": {"minirl": [run["steps_per_second"] for run in ours_runs]}}
    if reference_runs:
        measured = [run for run in reference_runs if isinstance(run, dict)]
        if measured:
            result["pytorch_gymnasium"] = max(measured, key=lambda run: run["steps_per_second"])
            result["runs"]["pytorch_gymnasium"] = [run["steps_per_second"] for run in measured]
            result["speedup"] = best["steps_per_second"] / result["pytorch_gymnasium"]["steps_per_second"]
        else:
            result["pytorch_gymnasium"] = reference_runs[0]
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ppo-steps", type=int, default=500_000)
    parser.add_argument("--a2c-steps", type=int, default=200_000)
    parser.add_argument("--dqn-steps", type=int, default=100_000)
    parser.add_argument("--td3-steps", type=int, default=0, help="TD3 on Pendulum (0: none)")
    parser.add_argument("--sac-steps", type=int, default=0, help="SAC on Pendulum (0: none)")
    parser.add_argument("--family-steps", type=int, default=50_000, help="steps of C51 and Rainbow (0: none)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternately; the best counts")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    parser.add_argument("--name", default="rl_speed.json", help="the file written in --out")
    args = parser.parse_args(argv)
    record = {"benchmark": "rl_speed", "machine": describe(), "repeats": args.repeats, "ppo_settings": PPO_SETTINGS,
              "a2c_settings": A2C_SETTINGS, "dqn_settings": DQN_SETTINGS, "family_settings": FAMILY_SETTINGS,
              "results": {}}
    record["off_policy_settings"] = {"td3": TD3_SETTINGS, "sac": SAC_SETTINGS}
    chosen = (("ppo", args.ppo_steps), ("a2c", args.a2c_steps), ("dqn", args.dqn_steps), ("td3", args.td3_steps),
              ("sac", args.sac_steps))
    runs = [(algo, steps) for algo, steps in chosen if steps > 0]
    for algo, steps in runs:
        result = measure(algo, steps, args.repeats, reference=not args.no_reference)
        if args.profile:
            result["profile"] = profile(algo, min(steps, 50_000))
        record["results"][algo] = result
        print(f"{algo}: minirl {result['minirl']['steps_per_second']:,.0f} steps/s"
              + (f", PyTorch+Gymnasium {result['pytorch_gymnasium']['steps_per_second']:,.0f} steps/s, "
                 f"ratio {result['speedup']:.2f}x" if isinstance(result.get("pytorch_gymnasium"), dict) else ""),
              flush=True)
        if args.profile:
            per_step = result["profile"].get("microseconds_per_step", {})
            for part, fraction in result["profile"]["fractions"].items():
                micro = f"  {per_step[part]:7.1f} µs/step" if part in per_step else ""
                print(f"    {part:<40} {fraction:6.1%}{micro}")
    for algo in FAMILY if args.family_steps > 0 else ():  # steps/s beside DQN's, at the reference loop's settings
        result = measure(algo, args.family_steps, 1, reference=False)
        record["results"][algo] = result
        print(f"{algo}: minirl {result['minirl']['steps_per_second']:,.0f} steps/s", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / args.name).write_text(json.dumps(record, indent=2, default=str))
    print(f"wrote {out / args.name}")


if __name__ == "__main__":
    main()
