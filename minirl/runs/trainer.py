"""One training run, as the CLI does it: a run directory with config.json, metrics.csv, checkpoint.npz,
curve.png and eval.json, a progress bar, periodic checkpoints, and exact resumption.

    run_dir/
      config.json      algorithm, environment, seed, steps, hyperparameters (all of them, resolved)
      metrics.csv      one row per finished episode: step, episode_return, episode_length, ...
      checkpoint.npz   the latest checkpoint (atomic), from which `--resume` continues exactly
      curve.png        the learning curve
      eval.json        mean_return, std_return, episodes of the final deterministic evaluation
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from pathlib import Path

from minirl import algos
from minirl.algos.base import TrainingHooks
from minirl.io.checkpoint import load_checkpoint, save_checkpoint
from minirl.io.logger import RunLogger, plot_runs, read_metrics
from minirl.runs.progress import ProgressBar


class RunHooks(TrainingHooks):
    """Logs every episode, draws the progress bar, and checkpoints every `checkpoint_every` steps at the
    agent's next boundary (where its whole state, the environment's included, is known)."""

    def __init__(self, run_dir, total_steps, logger, progress=True, checkpoint_every=None):
        self.run_dir, self.total_steps, self.logger = Path(run_dir), total_steps, logger
        self.bar = ProgressBar(total_steps, description="train", enabled=progress)
        self.checkpoint_every = checkpoint_every or max(total_steps // 10, 1)
        self.next_checkpoint = None
        self.recent = deque(maxlen=20)
        self.start = time.perf_counter()

    def on_step(self, agent):
        if self.next_checkpoint is None:
            self.next_checkpoint = (agent.num_timesteps // self.checkpoint_every + 1) * self.checkpoint_every
        recent = sum(self.recent) / len(self.recent) if self.recent else None
        self.bar.update(agent.num_timesteps, **({"return": recent} if recent is not None else {}))

    def on_episode(self, agent, episode_return, episode_length):
        self.recent.append(episode_return)
        self.logger.log(agent.num_timesteps, episode_return=episode_return, episode_length=episode_length,
                        time=time.perf_counter() - self.start, **getattr(agent, "episode_metrics", {}))

    def on_boundary(self, agent):
        if self.next_checkpoint is not None and agent.num_timesteps >= self.next_checkpoint:
            self.checkpoint(agent)
            self.next_checkpoint += self.checkpoint_every

    def checkpoint(self, agent):
        self.logger.flush()
        metadata = {**agent.metadata(), "metrics_rows": len(self.logger.rows)}
        save_checkpoint(self.run_dir / "checkpoint.npz", agent.state_dict(), metadata)


def default_run_dir(algo: str, env_id: str, seed: int) -> Path:
    return Path("runs") / f"{algo}-{env_id}-seed{seed}"


def train(algo: str, env_id: str, steps: int | None, seed: int = 0, overrides: dict | None = None, out=None,
          progress: bool = True, checkpoint_every: int | None = None, evaluate_episodes: int = 20,
          num_envs: int | None = None):
    """Train `algo` on `env_id` for `steps` environment steps into a run directory; returns (agent, run_dir)."""
    cls = algos.get(algo)
    run_dir = Path(out) if out is not None else default_run_dir(algo, env_id, seed)
    extra = {}
    if num_envs is not None:
        extra["num_envs"] = num_envs
    agent = cls(env_id, seed=seed, **{**extra, **(overrides or {})})  # checks every hyperparameter first
    run_dir.mkdir(parents=True, exist_ok=True)
    steps = cls.steps_for(env_id) if steps is None else int(steps)
    config = {"algorithm": algo, "env_id": env_id, "seed": seed, "steps": steps, "hyperparameters": agent.hp}
    _write_json(run_dir / "config.json", config)
    logger = RunLogger(run_dir)
    return _run(agent, run_dir, steps, logger, progress, checkpoint_every, evaluate_episodes)


def resume(run_dir, steps: int | None = None, progress: bool = True, checkpoint_every: int | None = None,
           evaluate_episodes: int = 20):
    """Continue the run in `run_dir` from its checkpoint up to `steps` (default: the configured steps)."""
    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    cls = algos.get(config["algorithm"])
    state, meta = load_checkpoint(run_dir / "checkpoint.npz", algorithm=cls.name)
    agent = cls(config["env_id"], seed=config["seed"], **config["hyperparameters"])
    agent.load_state_dict(state)
    logger = RunLogger(run_dir)
    logger.restore(read_metrics(run_dir)[: meta["metrics_rows"]])
    total = int(steps if steps is not None else config["steps"])
    if total != config["steps"]:
        config["steps"] = total
        _write_json(run_dir / "config.json", config)
    return _run(agent, run_dir, total, logger, progress, checkpoint_every, evaluate_episodes)


def _run(agent, run_dir, steps, logger, progress, checkpoint_every, evaluate_episodes):
    hooks = RunHooks(run_dir, steps, logger, progress, checkpoint_every)
    hooks.bar.unit = getattr(agent, "step_unit", "steps")
    try:
        agent.learn(steps, hooks)
    finally:
        hooks.bar.close()
        logger.close()
    hooks.checkpoint(agent)
    plot_runs({agent.name: [run_dir]}, run_dir / "curve.png", title=f"{agent.name} on {agent.env_id}")
    if evaluate_episodes:
        result = agent.evaluate(evaluate_episodes)
        _write_json(run_dir / "eval.json", {k: result[k] for k in ("mean_return", "std_return", "episodes")})
    return agent, run_dir


def evaluate_run(run_dir, episodes: int = 20, seed: int | None = None, render: bool = False) -> dict:
    run_dir = Path(run_dir)
    config = json.loads((run_dir / "config.json").read_text())
    agent = algos.get(config["algorithm"]).load(run_dir / "checkpoint.npz")
    env = None
    if render:  # a window where the environment can draw one (Gymnasium's, through the adapter)
        from minirl.envs import make

        env = make(config["env_id"], render_mode="human")
    result = agent.evaluate(episodes, seed=seed, env=env)
    record = {k: result[k] for k in ("mean_return", "std_return", "episodes")}
    _write_json(run_dir / "eval.json", record)
    return record


def _write_json(path: Path, record: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    os.replace(tmp, path)
