"""Wrappers: an environment around an environment, changing one thing about it."""

from __future__ import annotations

from minirl.envs.core import Env


class Wrapper(Env):
    """Forwards everything to the wrapped env; subclasses override what they change."""

    def __init__(self, env: Env):
        self.env = env

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"accessing private attribute {name!r} through a wrapper is not allowed")
        return getattr(self.env, name)

    @property
    def observation_space(self):
        return self.env.observation_space

    @property
    def action_space(self):
        return self.env.action_space

    @property
    def np_random(self):
        return self.env.np_random

    @property
    def spec(self):
        return self.env.spec

    @spec.setter
    def spec(self, value):
        self.env.spec = value

    @property
    def unwrapped(self) -> Env:
        return self.env.unwrapped

    def reset(self, *, seed=None, options=None):
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        return self.env.step(action)

    def render(self):
        return self.env.render()

    def close(self):
        return self.env.close()

    def __str__(self) -> str:
        return f"<{type(self).__name__}{self.env}>"


class TimeLimit(Wrapper):
    """Truncates the episode after `max_episode_steps` steps (truncated=True, terminated unchanged)."""

    def __init__(self, env: Env, max_episode_steps: int):
        super().__init__(env)
        if int(max_episode_steps) <= 0:
            raise ValueError(f"TimeLimit: max_episode_steps must be positive, got {max_episode_steps}")
        self.max_episode_steps = int(max_episode_steps)
        self._elapsed_steps = None

    def reset(self, *, seed=None, options=None):
        self._elapsed_steps = 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        if self._elapsed_steps is None:
            raise RuntimeError("TimeLimit: call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._elapsed_steps += 1
        if self._elapsed_steps >= self.max_episode_steps:
            truncated = True
        return obs, reward, terminated, truncated, info
