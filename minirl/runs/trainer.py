"""One training run, as the CLI does it: a run directory with config.json, metrics.csv, checkpoint.npz,
curve.png and eval.json, a progress bar, periodic checkpoints, and exact resumption.

    run_dir/
      config.json      algorithm, environment, seed, steps, hyperparameters (all of them, resolved), and a
                       `history` of every resume (when, from which step, what changed)
      metrics.csv      one row per finished episode: step, episode_return, episode_length, wall_clock_seconds
      checkpoint.npz   the latest checkpoint, from which `--resume` continues exactly
      curve.png        the learning curve
      eval.json        mean_return, std_return, episodes of the final deterministic evaluation

A run never loses what is on disk. Every file is written atomically (`minirl.io.atomic`). A new run refuses a
directory that holds anything (`force=True` first moves the old one aside to DIR.old-<time>); a run that fails
before its first checkpoint removes the directory it made, since there is nothing to resume. A resumed run keeps
its algorithm, environment, seed and hyperparameters, refuses to change them, and may only extend its total
`steps` (`RESUMABLE`); a resumed run reproduces every column of metrics.csv but the wall clock exactly.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

from minirl import algos
from minirl.algos.base import TrainingHooks
from minirl.errors import ConfigurationError, RunDirectoryError, check_integer
from minirl.io.atomic import atomic_write_text, remove_stale_temporaries
from minirl.io.checkpoint import load_checkpoint, save_checkpoint
from minirl.io.logger import RunLogger, plot_runs, read_metrics
from minirl.runs.progress import ProgressBar

# what a resumed run may change: only how far it goes (its algorithm, environment, seed and hyperparameters stay)
RESUMABLE = ("steps",)
WALL_CLOCK = "wall_clock_seconds"  # the one column of metrics.csv that a resumed run does not reproduce


class RunHooks(TrainingHooks):
    """Logs every episode, draws the progress bar, and checkpoints every `checkpoint_every` steps at the
    agent's next boundary (where its whole state, the environment's included, is known)."""

    def __init__(self, run_dir, total_steps, logger, progress=True, checkpoint_every=None, unit="steps"):
        self.run_dir, self.total_steps, self.logger = Path(run_dir), total_steps, logger
        self.bar = ProgressBar(total_steps, description="train", enabled=progress, unit=unit)
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
                        **{WALL_CLOCK: time.perf_counter() - self.start}, **getattr(agent, "episode_metrics", {}))

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
          num_envs: int | None = None, force: bool = False):
    """Train `algo` on `env_id` for `steps` environment steps into a new run directory; returns (agent, run_dir).

    Everything is checked before anything is written: the names, the steps, the seed and every hyperparameter
    (building the agent checks them), and the run directory, which must be empty or absent (with `force`, an old
    run there is moved to DIR.old-<time>, never deleted)."""
    cls = algos.get(algo)
    steps = cls.steps_for(env_id) if steps is None else check_integer("steps", steps, 1)
    seed = check_integer("seed", seed, 0)
    evaluate_episodes = check_integer("evaluate_episodes", evaluate_episodes, 0)
    run_dir = Path(out) if out is not None else default_run_dir(algo, env_id, seed)
    extra = {} if num_envs is None else {"num_envs": num_envs}
    agent = cls(env_id, seed=seed, **{**extra, **(overrides or {})})  # checks every hyperparameter first
    _claim(run_dir, force)
    try:
        config = {"algorithm": algo, "env_id": env_id, "seed": seed, "steps": steps, "hyperparameters": agent.hp,
                  "history": []}
        _write_json(run_dir / "config.json", config)
        logger = RunLogger(run_dir)
        return _run(agent, run_dir, steps, logger, progress, checkpoint_every, evaluate_episodes)
    except BaseException:
        if not (run_dir / "checkpoint.npz").exists():  # nothing to resume: leave nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _claim(run_dir: Path, force: bool) -> None:
    """Make `run_dir` the new run's, empty; refuse one that holds anything, unless `force` moves it aside."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is a file, not a run directory", "choose another --out")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        if not force:
            has_run = (run_dir / "config.json").exists()
            raise RunDirectoryError(
                f"{run_dir} is not empty" + (" (it holds a run)" if has_run else ""),
                (f"continue it with `minirl train --resume {run_dir}`, " if has_run else "")
                + "choose another --out, or pass --force to move it to "
                f"{run_dir.name}.old-<time> and start afresh")
        aside = _aside_name(run_dir)
        run_dir.rename(aside)
    run_dir.mkdir(parents=True, exist_ok=True)


def _aside_name(run_dir: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside, n = run_dir.with_name(f"{run_dir.name}.old-{stamp}"), 1
    while aside.exists():
        n += 1
        aside = run_dir.with_name(f"{run_dir.name}.old-{stamp}-{n}")
    return aside


def read_config(run_dir) -> dict:
    """A run directory's config.json, or a RunDirectoryError that says what is wrong with the directory."""
    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir} is not a directory" if run_dir.exists() else f"{run_dir} does not exist",
                                "give the directory of a run (see `minirl train --out`)")
    if not path.is_file():
        raise RunDirectoryError(f"{run_dir} is not a run directory (no config.json)",
                                "give the directory of a run (see `minirl train --out`)")
    try:
        config = json.loads(path.read_text())
        for key in ("algorithm", "env_id", "seed", "steps", "hyperparameters"):
            config[key]
    except (ValueError, KeyError, TypeError) as exc:
        raise RunDirectoryError(f"{path} is damaged ({type(exc).__name__}: {exc})",
                                "start the run again with `minirl train ... --force`") from None
    return config


def target_steps(config: dict) -> int:
    """The total steps a run trains for: as started, or as the latest resume changed it."""
    for entry in reversed(config.get("history", [])):
        if "steps" in entry.get("changed", {}):
            return int(entry["changed"]["steps"][1])
    return int(config["steps"])


def resume(run_dir, steps: int | None = None, progress: bool = True, checkpoint_every: int | None = None,
           evaluate_episodes: int = 20, algo: str | None = None, env_id: str | None = None, seed: int | None = None,
           overrides: dict | None = None):
    """Continue the run in `run_dir` from its checkpoint up to `steps` (default: the run's own total).

    `algo`, `env_id`, `seed` and `overrides`, when given, must be the run's own (a resumed run cannot change what
    it is) and `overrides` must be empty; only `steps` may change (`RESUMABLE`), and every resume is recorded in
    config.json's history."""
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    for name, given, own in (("algorithm", algo, config["algorithm"]), ("--env", env_id, config["env_id"]),
                             ("--seed", seed, config["seed"])):
        if given is not None and given != own:
            raise ConfigurationError(f"--resume {run_dir}: the run's {name} is {own!r}, not {given!r}",
                                     "a resumed run keeps its algorithm, environment and seed; start a new run "
                                     "with another --out for a different one")
    if overrides:
        raise ConfigurationError(
            f"--resume {run_dir}: a resumed run keeps its hyperparameters, so --set {', '.join(sorted(overrides))} "
            f"cannot apply",
            f"only {', '.join('--' + k for k in RESUMABLE)} may change; start a new run for other settings")
    cls = algos.get(config["algorithm"])
    checkpoint = run_dir / "checkpoint.npz"
    if not checkpoint.exists():
        raise RunDirectoryError(f"{run_dir} has no checkpoint: the run stopped before its first one",
                                f"start it again with `minirl train {config['algorithm']} --env {config['env_id']} "
                                f"--out {run_dir} --force`")
    evaluate_episodes = check_integer("evaluate_episodes", evaluate_episodes, 0)
    removed = remove_stale_temporaries(run_dir)  # of writes a kill interrupted
    state, meta = load_checkpoint(checkpoint, algorithm=cls.name)
    agent = cls(config["env_id"], seed=config["seed"], **config["hyperparameters"])
    agent.restore(state, checkpoint)
    before = target_steps(config)
    total = before if steps is None else check_integer("steps", steps, 1)
    if total < agent.num_timesteps:
        raise ConfigurationError(f"steps: the run has already taken {agent.num_timesteps} steps, more than {total}",
                                 f"give --steps {agent.num_timesteps} or more")
    entry = {"resumed": datetime.now(timezone.utc).isoformat(timespec="seconds"), "from_step": agent.num_timesteps,
             "changed": {"steps": [before, total]} if total != before else {}}
    if removed:
        entry["removed_stale_temporaries"] = [p.name for p in removed]
    logger = RunLogger(run_dir)
    logger.restore(read_metrics(run_dir)[: meta["metrics_rows"]])
    config.setdefault("history", []).append(entry)
    _write_json(run_dir / "config.json", config)
    return _run(agent, run_dir, total, logger, progress, checkpoint_every, evaluate_episodes)


def _run(agent, run_dir, steps, logger, progress, checkpoint_every, evaluate_episodes):
    hooks = RunHooks(run_dir, steps, logger, progress, checkpoint_every, unit=agent.step_unit)
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
    """Evaluate a run's checkpoint and write eval.json (atomically: a failed evaluation leaves the old file)."""
    episodes = check_integer("--episodes", episodes, 1)
    if seed is not None:
        seed = check_integer("--seed", seed, 0)
    run_dir = Path(run_dir)
    config = read_config(run_dir)
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
    atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")
