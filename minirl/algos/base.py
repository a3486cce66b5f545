"""What every agent shares: the small API of DESIGN.md, hyperparameter tables, evaluation and checkpoints.

    agent = Algo(env, seed=0, **hyperparameters)   # env: an Env or a registered id
    agent.learn(total_steps)                       # train; returns the agent
    action = agent.act(obs, deterministic=True)
    agent.evaluate(episodes=20)                    # {"mean_return", "std_return", "episodes"}
    agent.save("checkpoint.npz");  Algo.load("checkpoint.npz")

An algorithm file subclasses `Agent` (or `EpisodicAgent`, for one environment stepped an episode at a time),
declares `hyperparameters` (defaults, one line of documentation each) and per-environment overrides in
`env_defaults`, and writes `_train(total_steps, hooks)`, `act`, `state_dict` and `load_state_dict`. Unknown
hyperparameters are an error that lists the known ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from minirl.errors import CheckpointError, ConfigurationError, check_integer
from minirl.io.checkpoint import generator_state, load_checkpoint, restore_generator, save_checkpoint


@dataclass(frozen=True)
class Hyperparameter:
    """A hyperparameter's default and one line of documentation; optionally the values it may take: `choices`,
    or a closed range [`low`, `high`], or a strict lower bound `above` (a value must exceed it). A setting whose
    default is None (off) declares the type it takes when set, `kind`. Every value is checked against them (and
    against the default's type) when an agent is built, so a bad setting fails before anything is written."""
    default: object
    doc: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    above: float | None = None
    kind: type | None = None

    def __post_init__(self):
        if self.default is None and self.kind not in (int, float, str):
            raise TypeError(f"Hyperparameter({self.doc!r}): a setting whose default is None declares its type, "
                            f"kind=int, float or str")

    @property
    def type(self) -> type:
        """The type a value must have: the default's, or the declared `kind` of an optional setting."""
        return self.kind if self.default is None else type(self.default)

    def expected(self) -> str:
        """What a value must be, in words, for error messages."""
        words = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        text = words.get(self.type, f"a {self.type.__name__}")
        allowed = self.allowed()
        if allowed.startswith("one of"):
            text = allowed
        elif allowed:
            text += allowed.removeprefix("a value")
        return text + (" or None" if self.default is None else "")

    def allowed(self) -> str:
        """The declared values in words ("a value in [0.0, 1.0]", "a value > 0.0", "one of ..."); "" if any."""
        if self.choices is not None:
            return f"one of {', '.join(map(repr, self.choices))}"
        if self.above is not None:
            return f"a value in ({self.above}, {self.high}]" if self.high is not None else f"a value > {self.above}"
        if self.low is not None or self.high is not None:
            return f"a value in [{'-inf' if self.low is None else self.low}, {'inf' if self.high is None else self.high}]"
        return ""

    def check(self, name: str, value) -> None:
        """Raise a ConfigurationError naming `name` when `value` is of the wrong type or outside its allowed
        values."""
        if value is None and self.default is None:
            return
        kind = self.type
        if kind is bool or isinstance(value, bool):
            ok = isinstance(value, bool) and kind is bool
        elif kind is float:
            ok = isinstance(value, (int, float, np.integer, np.floating))
        elif kind is int:
            ok = isinstance(value, (int, np.integer))
        else:
            ok = isinstance(value, kind)
        if not ok:
            expected = self.expected()
        elif isinstance(value, (float, np.floating)) and not np.isfinite(value):
            expected = "a finite number"
        elif ((self.choices is not None and value not in self.choices)
              or (self.above is not None and not value > self.above)
              or (self.low is not None and value < self.low) or (self.high is not None and value > self.high)):
            expected = self.allowed()
        else:
            return
        raise ConfigurationError(f"{name}: expected {expected}, got {value!r}", _settings_hint(name))

    def parse(self, name: str, text: str):
        """A command-line string as this setting's type ("none" turns an optional setting off)."""
        if self.default is None and text.strip().lower() in ("none", "null"):
            return None
        kind, value = self.type, text.strip()
        try:
            if kind is bool:
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if kind in (int, float):
                return kind(value)
        except ValueError:
            raise ConfigurationError(f"{name}: expected {self.expected()}, got {text!r}",
                                     _settings_hint(name)) from None
        return text


def _settings_hint(name: str) -> str:
    """Where to read about the setting `name` ("ppo.gamma")."""
    return f"see `minirl list {name.partition('.')[0]}` for its settings"


class TrainingHooks:
    """What a training loop reports to: `on_step(agent)` after every environment step (vectorized agents report
    once per step of all their copies, so `agent.num_timesteps` may advance by more than one),
    `on_episode(agent, episode_return, episode_length)` at every episode end, and `on_boundary(agent)` where
    `agent.state_dict()` holds everything needed to continue exactly (the place to checkpoint). The CLI's
    logger, progress bar and checkpoints are hooks; a hook that returns False from `on_step` stops training."""

    def on_step(self, agent) -> bool | None:
        return None

    def on_episode(self, agent, episode_return: float, episode_length: int) -> None:
        return None

    def on_boundary(self, agent) -> None:
        return None


class Agent:
    name: str = ""
    hyperparameters: dict[str, Hyperparameter] = {}
    env_defaults: dict[str, dict] = {}
    # how many environment steps `minirl train` runs when --steps is not given
    default_steps: dict[str, int] = {}
    # what one of those steps is, for the progress bar (AlphaZero counts self-play "games")
    step_unit: str = "steps"

    def __init__(self, env, seed: int = 0, **overrides):
        self.env_id = env if isinstance(env, str) else getattr(getattr(env, "spec", None), "id", None)
        # a function that makes the environment (no registered id): the vector agents build their copies with it
        self.env_factory = env if is_env_factory(env) else None
        self.seed = check_integer(f"{self.name}: seed", seed, 0)
        self.hp = self.resolve_hyperparameters(self.env_id, overrides)
        self.rng = np.random.default_rng(self.seed)
        self.num_timesteps = 0
        self.num_episodes = 0

    # -- hyperparameters --------------------------------------------------------------------------------
    @classmethod
    def resolve_hyperparameters(cls, env_id: str | None, overrides: dict) -> dict:
        """Defaults, then the table's values for `env_id`, then `overrides` (checked against the known names)."""
        unknown = sorted(set(overrides) - set(cls.hyperparameters))
        if unknown:
            known = ", ".join(sorted(cls.hyperparameters))
            guesses = [g for name in unknown for g in _close_names(name, cls.hyperparameters)]
            guess = f" (did you mean {', '.join(guesses)}?)" if guesses else ""
            raise ConfigurationError(f"{cls.name}: unknown hyperparameter(s) {', '.join(unknown)}{guess}; known: "
                                     f"{known}", f"see `minirl list {cls.name}`")
        values = {k: h.default for k, h in cls.hyperparameters.items()}
        values.update(cls.env_defaults.get(env_id or "", {}))
        for key, value in overrides.items():
            h = cls.hyperparameters[key]
            values[key] = h.parse(f"{cls.name}.{key}", value) if isinstance(value, str) and h.type is not str else value
        for key, value in values.items():
            cls.hyperparameters[key].check(f"{cls.name}.{key}", value)
        try:
            cls.check_hyperparameters(values)
        except ConfigurationError:
            raise
        except ValueError as exc:  # the algorithm's own checks name the setting; say where to read about it
            raise ConfigurationError(str(exc), f"see `minirl list {cls.name}`") from None
        return values

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        """Checks that involve several hyperparameters at once (an algorithm file adds its own); each one
        raises a ValueError that names the hyperparameter."""

    @classmethod
    def steps_for(cls, env_id: str) -> int:
        return cls.default_steps.get(env_id, 100_000)

    @classmethod
    def describe(cls) -> str:
        lines = [f"{cls.name}: {(cls.__doc__ or '').strip().splitlines()[0]}"]
        for key, h in cls.hyperparameters.items():
            lines.append(f"  {key} = {h.default!r}: {h.doc}")
        return "\n".join(lines)

    # -- the API ------------------------------------------------------------------------------------------
    def learn(self, total_steps: int, hooks: TrainingHooks | None = None) -> "Agent":
        """Train until `total_steps` environment steps have been taken in all (a resumed agent continues)."""
        self._train(check_integer(f"{self.name}.learn: total_steps", total_steps, 1), hooks or TrainingHooks())
        return self

    def _train(self, total_steps: int, hooks: TrainingHooks) -> None:
        raise NotImplementedError

    def _record_vector_step(self, rewards, terminated, truncated, hooks) -> bool:
        """Count one step of every copy of a vector env, report finished episodes; True if a hook says stop."""
        if len(rewards) == 1:  # one copy: its numbers, the same sums; an operation on arrays of one element
            self.episode_returns[0] += rewards[0]  # costs several times as much
            self.episode_lengths[0] += 1
            ended = (0,) if terminated[0] or truncated[0] else ()
        else:
            self.episode_returns += rewards
            self.episode_lengths += 1
            ended = (terminated | truncated).nonzero()[0].tolist()  # the copies that ended (usually none)
        self.num_timesteps += len(rewards)
        for i in ended:
            self.num_episodes += 1
            hooks.on_episode(self, float(self.episode_returns[i]), int(self.episode_lengths[i]))
            self.episode_returns[i], self.episode_lengths[i] = 0.0, 0
        return hooks.on_step(self) is False

    def _vector_progress(self) -> dict:
        """What a checkpoint needs of the vector env's copies: their running episodes' returns and lengths, and,
        when the env can save its state, the env and its current observations (a resumed run continues
        mid-episode, exactly)."""
        state = {"episode_returns": self.episode_returns, "episode_lengths": self.episode_lengths}
        if self._obs is not None and hasattr(self.envs, "state_dict"):
            state["envs"], state["obs"] = self.envs.state_dict(), self._obs
        return state

    def _load_vector_progress(self, state: dict) -> None:
        self.episode_returns = np.array(state["episode_returns"], dtype=np.float64)
        self.episode_lengths = np.array(state["episode_lengths"], dtype=np.int64)
        if "envs" in state:
            self.envs.load_state_dict(state["envs"])
            self._obs = np.array(state["obs"])

    def act(self, obs, deterministic: bool = True):
        raise NotImplementedError

    def evaluate(self, episodes: int = 20, seed: int | None = None, env=None) -> dict:
        """Mean return of `episodes` episodes acting deterministically, on a fresh copy of the environment."""
        episodes = check_integer(f"{self.name}.evaluate: episodes", episodes, 1)
        env = env if env is not None else self.evaluation_env()
        seed = self.seed + 10_000 if seed is None else check_integer(f"{self.name}.evaluate: seed", seed, 0)
        returns = []
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(self.act(obs, deterministic=True))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
        return {"mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
                "episodes": int(episodes), "returns": returns}

    def make_vector_env(self, num_envs: int):
        """The vector env of `num_envs` copies an agent trains on, seeded with the agent's seed: from the registered
        id, or `num_envs` calls of the environment factory the agent was given."""
        from minirl.envs import make_vec
        from minirl.envs.vector import SyncVectorEnv

        if self.env_id is not None:
            return make_vec(self.env_id, num_envs, seed=self.seed)
        if self.env_factory is not None:
            return SyncVectorEnv([self.env_factory] * num_envs)
        raise ValueError(f"{self.name}: it trains on a vector env of copies, so it needs a registered environment id "
                         f"or a function that makes the environment; it was given an environment object without an id")

    def evaluation_env(self):
        """A fresh copy of the environment, for `evaluate`."""
        from minirl.envs import make

        if self.env_id is not None:
            return make(self.env_id)
        if self.env_factory is not None:
            return self.env_factory()
        raise ValueError(f"{self.name}.evaluate: the agent was built on an environment without a registered id; "
                         f"pass evaluate(env=...)")

    # -- saving and loading -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to continue training exactly: subclasses extend it."""
        return {"rng": generator_state(self.rng), "num_timesteps": self.num_timesteps,
                "num_episodes": self.num_episodes}

    def load_state_dict(self, state: dict) -> None:
        restore_generator(self.rng, state["rng"])
        self.num_timesteps = int(state["num_timesteps"])
        self.num_episodes = int(state["num_episodes"])

    def restore(self, state: dict, source) -> None:
        """`load_state_dict` for a checkpoint read from `source`: a missing or mismatched entry becomes a
        CheckpointError that names the file and the entry (the file is damaged, or from another version)."""
        try:
            self.load_state_dict(state)
        except KeyError as exc:
            raise CheckpointError(f"checkpoint {source} lacks the entry {exc.args[0]!r} that {self.name} needs",
                                  "it is damaged or from another minirl version; resume from another checkpoint "
                                  "or train again") from None
        except (ValueError, TypeError, IndexError) as exc:
            raise CheckpointError(f"checkpoint {source} does not fit this {self.name} agent ({exc})",
                                  "it is damaged or was written with other hyperparameters; resume from another "
                                  "checkpoint or train again") from None

    def metadata(self) -> dict:
        return {"algorithm": self.name, "env_id": self.env_id, "seed": self.seed, "hyperparameters": self.hp,
                "num_timesteps": self.num_timesteps}

    def save(self, path) -> Path:
        return save_checkpoint(path, self.state_dict(), self.metadata())

    @classmethod
    def load(cls, path, env=None) -> "Agent":
        state, meta = load_checkpoint(path, algorithm=cls.name or None)
        missing = [key for key in ("env_id", "seed", "hyperparameters") if key not in meta]
        if missing:
            raise CheckpointError(f"checkpoint {path}: its metadata lacks {', '.join(missing)}",
                                  "it is damaged or was not written by Agent.save")
        agent = cls(env if env is not None else meta["env_id"], seed=meta["seed"], **meta["hyperparameters"])
        agent.restore(state, path)
        return agent


class EpisodicAgent(Agent):
    """An agent that learns on one environment, an episode at a time (the tabular methods, the random baseline).
    It holds that environment as `self.env`: the object it was given, or a new one made from the id. Agents that
    learn on a vector env of copies (DQN, PPO) build their own instead and have no `env`."""

    def __init__(self, env, seed: int = 0, **overrides):
        from minirl.envs import make

        super().__init__(env, seed, **overrides)
        self.env = make(env) if isinstance(env, str) else env

    def evaluation_env(self):
        return super().evaluation_env() if self.env_id is not None else self.env

    def _run_episodes(self, total_steps: int, hooks: TrainingHooks, transition) -> None:
        """The single-environment loop: `transition(obs) -> (next_obs, reward, terminated, truncated)` acts,
        steps the env and learns. Only the first reset is seeded, and a boundary is reported after every episode,
        so a checkpoint taken there (with the env's generator) resumes exactly."""
        while self.num_timesteps < total_steps:
            obs, _ = self.env.reset(seed=self.seed if self.num_episodes == 0 else None)
            episode_return, length, done = 0.0, 0, False
            while not done and self.num_timesteps < total_steps:
                obs, reward, terminated, truncated = transition(obs)
                episode_return += float(reward)
                length += 1
                done = terminated or truncated
                self.num_timesteps += 1
                if hooks.on_step(self) is False:
                    return
            if done:
                self.num_episodes += 1
                hooks.on_episode(self, episode_return, length)
                hooks.on_boundary(self)


def _close_names(name: str, known) -> list[str]:
    """The known names a mistyped or abbreviated `name` may mean: close spellings, or names whose words start with
    its letters (``lr`` for ``learning_rate``)."""
    initials = [k for k in known if "_" in k and "".join(w[0] for w in k.split("_") if w) == name.lower()]
    return initials or difflib.get_close_matches(name, known, n=1)


def is_env_factory(env) -> bool:
    """Whether `env` makes environments (a function, or an environment class) rather than being one."""
    return callable(env) and (isinstance(env, type) or not hasattr(env, "step"))


def env_rng_state(env) -> dict:
    return generator_state(env.unwrapped.np_random)


def restore_env_rng(env, state: dict) -> None:
    restore_generator(env.unwrapped.np_random, state)


Schedule = Callable[[float], float]


def linear_schedule(start: float, end: float, fraction: float) -> Schedule:
    """A value going linearly from `start` to `end` over the first `fraction` of training, then constant."""

    def value(progress: float) -> float:
        return end + (start - end) * max(0.0, 1.0 - progress / fraction) if fraction > 0 else end

    return value
