"""`Wrapper`: an environment around an environment, changing one thing about it; and the three usual kinds.

A wrapper works around a single env or a vector env (`env.is_vector_env`); the wrappers of this package that
change observations or rewards then receive whole batches, and also transform a vector env's
``info["final_obs"]`` so that bootstrapping sees the same kind of observation as acting does.
"""

from __future__ import annotations

from minirl.envs.core import Env
from minirl.envs.spaces import batch_space


class Wrapper(Env):
    """Forwards everything to the wrapped env; subclasses override what they change."""

    # spaces a subclass replaced (None: the wrapped env's); class defaults keep forwarding working even when a
    # subclass forgets to call Wrapper.__init__
    _observation_space = None
    _action_space = None
    _single_observation_space = None
    _single_action_space = None

    def __init__(self, env):
        self.env = env
        self._observation_space = None
        self._action_space = None
        self._single_observation_space = None
        self._single_action_space = None

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"accessing private attribute {name!r} through a wrapper is not allowed")
        return getattr(self.env, name)

    @property
    def is_vector_env(self) -> bool:
        return getattr(self.env, "is_vector_env", False)

    @property
    def observation_space(self):
        return self.env.observation_space if self._observation_space is None else self._observation_space

    @observation_space.setter
    def observation_space(self, space):
        self._observation_space = space

    @property
    def action_space(self):
        return self.env.action_space if self._action_space is None else self._action_space

    @action_space.setter
    def action_space(self, space):
        self._action_space = space

    @property
    def single_observation_space(self):
        if self._single_observation_space is None:
            return self.env.single_observation_space
        return self._single_observation_space

    @property
    def single_action_space(self):
        return self.env.single_action_space if self._single_action_space is None else self._single_action_space

    def set_spaces(self, observation_space=None, action_space=None) -> None:
        """Replace one copy's observation / action space; for a vector env the batched spaces follow."""
        vector = self.is_vector_env
        if observation_space is not None:
            if vector:
                self._single_observation_space = observation_space
                observation_space = batch_space(observation_space, self.num_envs)
            self._observation_space = observation_space
        if action_space is not None:
            if vector:
                self._single_action_space = action_space
                action_space = batch_space(action_space, self.num_envs)
            self._action_space = action_space

    @property
    def metadata(self):
        return self.env.metadata

    @property
    def render_mode(self):
        return self.env.render_mode

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
    def unwrapped(self):
        return self.env.unwrapped

    def get_wrapper_attr(self, name: str):
        if name in dir(self):
            return getattr(self, name)
        return self.env.get_wrapper_attr(name)

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


class ObservationWrapper(Wrapper):
    """Changes observations through `observation(obs)` (a whole batch for a vector env)."""

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self.observation(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if "final_obs" in info:
            info = {**info, "final_obs": self.observation(info["final_obs"])}
        return self.observation(obs), reward, terminated, truncated, info

    def observation(self, obs):
        raise NotImplementedError


class RewardWrapper(Wrapper):
    """Changes rewards through `reward(reward)` (the rewards array for a vector env)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, self.reward(reward), terminated, truncated, info

    def reward(self, reward):
        raise NotImplementedError


class ActionWrapper(Wrapper):
    """Changes the agent's actions through `action(action)` before the wrapped env sees them."""

    def step(self, action):
        return self.env.step(self.action(action))

    def action(self, action):
        raise NotImplementedError
