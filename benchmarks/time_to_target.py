"""When did a training run arrive at a target, in environment steps and in seconds: the shared part of the
benchmarks that race agents to a final return (a3c_wall_clock.py, acktr_vs_a2c.py).

A hook copies the policy every `every` steps with the seconds since training started. After training the copies
are evaluated, untimed, as the learning targets are: the mean return of 20 deterministic episodes (played side by
side in a vector env, on the seeds `Agent.evaluate` uses). A run arrives at the first copy from which every later
copy, and the final policy, reach the target: a policy that reached it and lost it again had not arrived. A run
whose final policy is below the target never arrives.
"""

from __future__ import annotations

import time

import numpy as np

from minirl.algos.base import TrainingHooks
from minirl.envs import make_vec


class Snapshots(TrainingHooks):
    """The policy's parameters every `every` steps, with the seconds since this hook was made."""

    def __init__(self, every: int):
        self.every, self.next, self.start = every, every, time.perf_counter()
        self.copies: list[tuple[int, float, dict]] = []

    def on_step(self, agent):
        if agent.num_timesteps >= self.next:
            state = {k: np.array(v) for k, v in agent.policy.state_dict().items()}
            self.copies.append((agent.num_timesteps, time.perf_counter() - self.start, state))
            self.next += self.every


def evaluate(agent, episodes: int = 20) -> float:
    """`Agent.evaluate`'s episodes (seeds seed + 10000 + i), played side by side: the mean return of the first
    episode of each of `episodes` copies, acting deterministically."""
    envs = make_vec(agent.env_id, episodes)
    obs, _ = envs.reset(seed=agent.seed + 10_000)
    returns, running, done = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not done.all():
        obs, rewards, terminated, truncated, _ = envs.step(agent.act(obs, deterministic=True))
        running += np.where(done, 0.0, rewards)
        finished = (terminated | truncated) & ~done
        returns[finished], done = running[finished], done | finished
    return float(returns.mean())


def race(cls, env_id: str, seed: int, target: float, every: int, steps: int | None = None, **settings) -> dict:
    """Train `cls` on `env_id` for `steps` (its default), then find when it arrived at `target`."""
    agent = cls(env_id, seed=seed, **settings)
    hooks = Snapshots(every)
    start = time.perf_counter()
    agent.learn(cls.steps_for(env_id) if steps is None else steps, hooks)
    seconds = time.perf_counter() - start
    final = agent.evaluate(20)["mean_return"]
    arrived = None  # (steps, seconds) of the first copy from which all later ones reach the target
    if final >= target:
        arrived = (agent.num_timesteps, seconds)
        for at_steps, at_seconds, state in reversed(hooks.copies):
            agent.policy.load_state_dict(state)
            if evaluate(agent) < target:
                break
            arrived = (at_steps, at_seconds)
    return {"seed": seed, "steps": agent.num_timesteps, "seconds": round(seconds, 2), "final": final,
            "steps_to_target": arrived and arrived[0], "seconds_to_target": arrived and round(arrived[1], 2)}


def summarize(records: list[dict]) -> dict:
    arrived = [r for r in records if r["steps_to_target"] is not None]
    return {"seeds_arriving": len(arrived), "of": len(records),
            "median_steps_to_target": float(np.median([r["steps_to_target"] for r in arrived])) if arrived else None,
            "median_seconds_to_target": float(np.median([r["seconds_to_target"] for r in arrived])) if arrived else None,
            "median_seconds_per_run": float(np.median([r["seconds"] for r in records])),
            "median_steps_per_second": float(np.median([r["steps"] / r["seconds"] for r in records]))}
