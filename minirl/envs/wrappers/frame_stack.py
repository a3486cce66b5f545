"""FrameStackObservation: the observation becomes the last `stack_size` observations, oldest first.

One frame does not show motion (a ball's velocity, a pole's angular speed in pixels); DQN (book ch. 4.3) stacks
the last 4 Atari frames for that reason.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.spaces import Box, batch_space
from minirl.envs.wrappers.core import Wrapper


class FrameStackObservation(Wrapper):
    """Stacks the last `stack_size` observations along a new first axis (after the copies' axis for a vector env).

    padding_type: at the start of an episode the missing frames are copies of the first observation
    ("reset", the default) or zeros ("zero"). For a vector env, ``info["final_obs"]`` holds the stack that ends
    with the finished episode's last observation.
    """

    def __init__(self, env, stack_size: int, *, padding_type: str = "reset"):
        super().__init__(env)
        space = env.single_observation_space if env.is_vector_env else env.observation_space
        if not isinstance(space, Box):
            raise TypeError(f"FrameStackObservation needs a Box observation space, got {space}")
        if isinstance(stack_size, bool) or not isinstance(stack_size, (int, np.integer)) or stack_size <= 0:
            raise ValueError(f"FrameStackObservation: stack_size must be a positive int, got {stack_size!r}")
        if padding_type not in ("reset", "zero"):
            raise ValueError(f"FrameStackObservation: padding_type must be 'reset' or 'zero', got {padding_type!r}")
        self.stack_size, self.padding_type = int(stack_size), padding_type
        self.set_spaces(observation_space=batch_space(space, self.stack_size))
        self._frames = None  # (copies, stack_size, *obs_shape)

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        batch = self._as_batch(obs)
        self._frames = np.zeros((len(batch), self.stack_size, *batch.shape[1:]), dtype=batch.dtype)
        self._start_episodes(np.arange(len(batch)), batch)
        return self._output(self._frames), info

    def step(self, action):
        if self._frames is None:
            raise RuntimeError("FrameStackObservation: call reset() before step()")
        obs, reward, terminated, truncated, info = self.env.step(action)
        batch = self._as_batch(obs)
        if "final_obs" in info:
            # the finished episodes' stacks end with their last observation; then they restart from `obs`
            final = self._push(self._frames, self._as_batch(info["final_obs"]))
            self._frames = self._push(self._frames, batch)
            ended = np.flatnonzero(info["_final_obs"])
            self._start_episodes(ended, batch[ended])
            info = {**info, "final_obs": self._output(final)}
        else:
            self._frames = self._push(self._frames, batch)
        return self._output(self._frames), reward, terminated, truncated, info

    @staticmethod
    def _push(frames, batch):
        return np.concatenate([frames[:, 1:], batch[:, None]], axis=1)

    def _start_episodes(self, copies, first_obs):
        self._frames[copies] = first_obs[:, None] if self.padding_type == "reset" else 0
        self._frames[copies, -1] = first_obs

    def _as_batch(self, obs):
        return np.asarray(obs) if self.is_vector_env else np.asarray(obs)[None]

    def _output(self, frames):
        return frames.copy() if self.is_vector_env else frames[0].copy()


FrameStack = FrameStackObservation
