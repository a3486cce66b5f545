"""`from_gymnasium`: use any Gymnasium environment (single or vector) wherever minirl expects one of ours.

    env = minirl.envs.from_gymnasium("LunarLander-v3")              # gymnasium.make(id, **kwargs), adapted
    env = minirl.envs.from_gymnasium(gymnasium.make("CartPole-v1", render_mode="rgb_array"))
    envs = minirl.envs.from_gymnasium("CartPole-v1", num_envs=8)    # a vector env with our autoreset convention

The adapted env has minirl spaces built from Gymnasium's (Box, Discrete, MultiDiscrete, MultiBinary, Tuple,
Dict), so agents can sample, check and flatten them. Vector envs follow minirl's same-step autoreset convention
(see `minirl.envs.vector`): Gymnasium vector envs in "SameStep" mode are converted as they are; Sync/Async vector
envs in another mode are reset with Gymnasium's ``options={"reset_mask": ...}`` right after a copy ends.

Gymnasium is imported here, inside the functions, never when minirl is imported; without it the functions
raise an ImportError that names the missing extra.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.core import Env
from minirl.envs.registration import EnvSpec
from minirl.envs.spaces import (
    Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple, batch_space, concatenate, iterate,
)
from minirl.envs.vector.vector_env import VectorEnv


def _gymnasium():
    try:
        import gymnasium
    except ImportError as error:
        raise ImportError(
            "minirl.envs.from_gymnasium needs Gymnasium, which is not installed; install the dev extra with "
            "pip install -e '.[dev]' (or just: pip install gymnasium)"
        ) from error
    return gymnasium


def to_minirl_space(space):
    """Our space equal to the Gymnasium space `space`."""
    spaces = _gymnasium().spaces
    if isinstance(space, spaces.Box):
        return Box(space.low, space.high, shape=space.shape, dtype=space.dtype)
    if isinstance(space, spaces.Discrete):
        return Discrete(int(space.n), start=int(space.start), dtype=space.dtype)
    if isinstance(space, spaces.MultiDiscrete):
        return MultiDiscrete(space.nvec, dtype=space.dtype, start=space.start)
    if isinstance(space, spaces.MultiBinary):
        return MultiBinary(space.n)
    if isinstance(space, spaces.Tuple):
        return Tuple([to_minirl_space(s) for s in space.spaces])
    if isinstance(space, spaces.Dict):
        return Dict([(key, to_minirl_space(s)) for key, s in space.spaces.items()])  # pairs keep the order
    raise NotImplementedError(f"from_gymnasium: minirl has no space for Gymnasium's {space!r}")


def to_gymnasium_space(space):
    """Gymnasium's space equal to our space `space` (e.g. to hand our env's spaces to Gymnasium tools)."""
    spaces = _gymnasium().spaces
    if isinstance(space, Box):
        return spaces.Box(space.low, space.high, shape=space.shape, dtype=space.dtype)
    if isinstance(space, Discrete):
        return spaces.Discrete(int(space.n), start=int(space.start), dtype=space.dtype)
    if isinstance(space, MultiDiscrete):
        return spaces.MultiDiscrete(space.nvec, dtype=space.dtype, start=space.start)
    if isinstance(space, MultiBinary):
        return spaces.MultiBinary(space.n)
    if isinstance(space, Tuple):
        return spaces.Tuple([to_gymnasium_space(s) for s in space.spaces])
    if isinstance(space, Dict):
        return spaces.Dict([(key, to_gymnasium_space(s)) for key, s in space.spaces.items()])
    raise NotImplementedError(f"to_gymnasium_space: unsupported space {space!r}")


def _spec_of(env):
    gym_spec = getattr(env, "spec", None)
    if gym_spec is None:
        return None
    return EnvSpec(gym_spec.id, gym_spec.entry_point, gym_spec.max_episode_steps, gym_spec.reward_threshold,
                   dict(gym_spec.kwargs))


class GymnasiumEnv(Env):
    """A Gymnasium env behind minirl's `Env` (the wrapped one is `gymnasium_env`)."""

    def __init__(self, env):
        self.gymnasium_env = env
        self.observation_space = to_minirl_space(env.observation_space)
        self.action_space = to_minirl_space(env.action_space)
        self.metadata = dict(env.metadata)
        self.render_mode = env.render_mode
        self.spec = _spec_of(env)

    @property
    def np_random(self):
        return self.gymnasium_env.np_random

    def reset(self, *, seed=None, options=None):
        return self.gymnasium_env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.gymnasium_env.step(action)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self):
        return self.gymnasium_env.render()

    def close(self):
        self.gymnasium_env.close()

    def __str__(self) -> str:
        return f"<GymnasiumEnv{self.gymnasium_env}>"


class GymnasiumVectorEnv(VectorEnv):
    """A Gymnasium vector env behind minirl's `VectorEnv`, with same-step autoreset."""

    def __init__(self, envs):
        gymnasium = _gymnasium()
        self.gymnasium_env = envs
        self.num_envs = envs.num_envs
        self.single_observation_space = to_minirl_space(envs.single_observation_space)
        self.single_action_space = to_minirl_space(envs.single_action_space)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.spec = _spec_of(envs)
        mode = envs.metadata.get("autoreset_mode", gymnasium.vector.AutoresetMode.NEXT_STEP)
        self._same_step = getattr(mode, "value", mode) == gymnasium.vector.AutoresetMode.SAME_STEP.value
        resettable = (gymnasium.vector.SyncVectorEnv, gymnasium.vector.AsyncVectorEnv)
        if not self._same_step and not isinstance(envs.unwrapped, resettable):
            raise ValueError(
                f"from_gymnasium: {envs} autoresets in mode {mode}, and only Sync/AsyncVectorEnv can reset single "
                "copies; make it with autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP, or pass the id: "
                "from_gymnasium(id, num_envs=n)"
            )
        self.metadata = {**envs.metadata, "autoreset_mode": "same_step"}

    def reset(self, *, seed=None, options=None):
        return self.gymnasium_env.reset(seed=self.copy_seeds(seed), options=options)

    def step(self, actions):
        obs, rewards, terminations, truncations, info = self.gymnasium_env.step(actions)
        rewards = np.asarray(rewards, dtype=np.float64)
        terminations, truncations = np.asarray(terminations, bool), np.asarray(truncations, bool)
        ended = terminations | truncations
        info = dict(info)
        if self._same_step and "final_obs" in info:
            # Gymnasium: an object array with None for copies that did not end; ours: batched like obs
            mask = info["_final_obs"]
            rows = iterate(self.single_observation_space, obs)
            rows = [info["final_obs"][i] if mask[i] else row for i, row in enumerate(rows)]
            info["final_obs"] = concatenate(self.single_observation_space, rows)
        elif not self._same_step and ended.any():
            info["final_obs"], info["_final_obs"] = obs, ended
            obs, _ = self.gymnasium_env.reset(options={"reset_mask": ended})
        return obs, rewards, terminations, truncations, info

    def render(self):
        return self.gymnasium_env.render()

    def close(self):
        self.gymnasium_env.close()
        super().close()


def from_gymnasium(env_or_id, num_envs: int | None = None, **kwargs):
    """Adapt a Gymnasium env or vector env, or make one from its id (``num_envs`` -> a vector env).

    kwargs go to ``gymnasium.make`` / ``gymnasium.make_vec`` when an id is given.
    """
    gymnasium = _gymnasium()
    if isinstance(env_or_id, str):
        if num_envs is None:
            env = gymnasium.make(env_or_id, **kwargs)
        else:
            env = gymnasium.make_vec(
                env_or_id, num_envs=num_envs, vectorization_mode="sync",
                vector_kwargs={"autoreset_mode": gymnasium.vector.AutoresetMode.SAME_STEP}, **kwargs,
            )
    else:
        if kwargs or num_envs is not None:
            raise TypeError("from_gymnasium: num_envs and keyword arguments apply only when an id is given")
        env = env_or_id
    if isinstance(env, gymnasium.vector.VectorEnv):
        return GymnasiumVectorEnv(env)
    if isinstance(env, gymnasium.Env):
        return GymnasiumEnv(env)
    raise TypeError(f"from_gymnasium: expected a Gymnasium env, vector env or id, got {type(env_or_id).__name__}")
