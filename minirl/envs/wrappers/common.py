"""Everyday wrappers: TimeLimit, RecordEpisodeStatistics, ClipAction, TransformObservation, TransformReward."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from minirl.envs.spaces import Box
from minirl.envs.wrappers.core import ActionWrapper, ObservationWrapper, RewardWrapper, Wrapper


class TimeLimit(Wrapper):
    """Truncates the episode after `max_episode_steps` steps (truncated=True, terminated unchanged).

    Single envs only: a vector env tracks each copy's limit itself (its `max_episode_steps`).
    """

    def __init__(self, env, max_episode_steps: int):
        super().__init__(env)
        if env.is_vector_env:
            raise TypeError("TimeLimit wraps a single env; a vector env takes max_episode_steps itself (make_vec)")
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


class RecordEpisodeStatistics(Wrapper):
    """At the end of every episode, ``info["episode"] = {"r": return, "l": length, "t": seconds}``.

    For a vector env "r", "l", "t" are arrays over the copies and ``info["_episode"]`` marks the copies whose
    episode ended at this step (their entries; the others are 0). The last `buffer_length` episodes are kept in
    `return_queue`, `length_queue` and `time_queue` for learning curves.
    """

    def __init__(self, env, buffer_length: int = 100, stats_key: str = "episode"):
        super().__init__(env)
        self.stats_key = stats_key
        self.episode_count = 0
        self.return_queue: deque = deque(maxlen=buffer_length)
        self.length_queue: deque = deque(maxlen=buffer_length)
        self.time_queue: deque = deque(maxlen=buffer_length)
        n = env.num_envs if env.is_vector_env else 1
        self.episode_returns = np.zeros(n)
        self.episode_lengths = np.zeros(n, dtype=np.int64)
        self.episode_start_times = np.full(n, time.perf_counter())

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.episode_returns[:] = 0.0
        self.episode_lengths[:] = 0
        self.episode_start_times[:] = time.perf_counter()
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.episode_returns += reward
        self.episode_lengths += 1
        done = np.logical_or(terminated, truncated)
        if np.any(done):
            now = time.perf_counter()
            seconds = np.round(now - self.episode_start_times, 6)
            info = dict(info)
            if self.is_vector_env:
                info[self.stats_key] = {
                    "r": np.where(done, self.episode_returns, 0.0),
                    "l": np.where(done, self.episode_lengths, 0),
                    "t": np.where(done, seconds, 0.0),
                }
                info["_" + self.stats_key] = done
            else:
                info[self.stats_key] = {
                    "r": float(self.episode_returns[0]),
                    "l": int(self.episode_lengths[0]),
                    "t": float(seconds[0]),
                }
            ended = np.flatnonzero(done)
            self.return_queue.extend(self.episode_returns[ended].tolist())
            self.length_queue.extend(self.episode_lengths[ended].tolist())
            self.time_queue.extend(seconds[ended].tolist())
            self.episode_count += len(ended)
            # vector envs reset ended copies in the same step, so their next episode starts now
            self.episode_returns[ended] = 0.0
            self.episode_lengths[ended] = 0
            self.episode_start_times[ended] = now
        return obs, reward, terminated, truncated, info


class ClipAction(ActionWrapper):
    """Clips continuous actions into the action space's bounds, so a Gaussian policy may propose any real number.

    The wrapper's action space is therefore unbounded (as in Gymnasium).
    """

    def __init__(self, env):
        super().__init__(env)
        space = env.single_action_space if env.is_vector_env else env.action_space
        if not isinstance(space, Box):
            raise TypeError(f"ClipAction needs a Box action space, got {space}")
        self._low, self._high = space.low, space.high
        self.set_spaces(action_space=Box(-np.inf, np.inf, shape=space.shape, dtype=space.dtype))

    def action(self, action):
        return np.clip(action, self._low, self._high)


class TransformObservation(ObservationWrapper):
    """Applies `func` to every observation (to the whole batch for a vector env, and to info["final_obs"]).

    Give `observation_space` (one copy's) when `func` changes the shape, dtype or bounds.
    """

    def __init__(self, env, func, observation_space=None):
        super().__init__(env)
        self.func = func
        if observation_space is not None:
            self.set_spaces(observation_space=observation_space)

    def observation(self, obs):
        return self.func(obs)


class TransformReward(RewardWrapper):
    """Applies `func` to every reward (to the rewards array for a vector env), e.g. ``lambda r: 0.1 * r``."""

    def __init__(self, env, func):
        super().__init__(env)
        self.func = func

    def reward(self, reward):
        return self.func(reward)
