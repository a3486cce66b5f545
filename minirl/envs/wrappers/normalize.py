"""Running normalization of observations and rewards (book ch. 18's practical tips; PPO's usual setup).

`RunningMeanStd` keeps the exact mean and (population) variance of everything it has seen, merging each new
batch with Chan, Golub & LeVeque's (1979) parallel update, Welford's algorithm one batch at a time:

    n = n_a + n_b,   δ = mean_b - mean_a
    mean = mean_a + δ n_b / n
    M2 = var_a n_a + var_b n_b + δ² n_a n_b / n,   var = M2 / n

It starts from count 0, so after any data its mean and var equal ``np.mean`` / ``np.var`` of all of it (Gymnasium
starts from a pseudo-count of 1e-4 instead). Both wrappers work on single and vector envs, take
``update_running_mean=False`` to freeze their statistics (evaluation), and save them with `state_dict()` /
`load_state_dict()`, e.g. in a checkpoint.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.spaces import Box
from minirl.envs.wrappers.core import Wrapper


class RunningMeanStd:
    """Mean and variance of a stream of arrays of shape `shape`, updated a batch at a time."""

    def __init__(self, shape=(), dtype=np.float64):
        self.mean = np.zeros(shape, dtype=dtype)
        self.var = np.ones(shape, dtype=dtype)  # never used before data arrives: then it is replaced
        self.count = 0

    def update(self, batch) -> None:
        """Add a batch of samples stacked along axis 0."""
        batch = np.asarray(batch, dtype=self.mean.dtype)
        self.update_from_moments(batch.mean(axis=0), batch.var(axis=0), batch.shape[0])

    def update_from_moments(self, batch_mean, batch_var, batch_count: int) -> None:
        if batch_count == 0:
            return
        total = self.count + batch_count
        delta = batch_mean - self.mean
        m2 = self.var * self.count + batch_var * batch_count + np.square(delta) * self.count * batch_count / total
        self.mean = self.mean + delta * batch_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count}

    def load_state_dict(self, state: dict) -> None:
        mean, var = np.asarray(state["mean"], dtype=self.mean.dtype), np.asarray(state["var"], dtype=self.var.dtype)
        if mean.shape != self.mean.shape or var.shape != self.var.shape:
            raise ValueError(f"RunningMeanStd.load_state_dict: expected shape {self.mean.shape}, got {mean.shape}")
        self.mean, self.var, self.count = mean.copy(), var.copy(), state["count"]


class NormalizeObservation(Wrapper):
    """Returns ``(obs - mean) / sqrt(var + epsilon)`` (float32), with mean and var over all observations seen.

    The statistics are updated with each returned observation (the batch of them for a vector env) before it
    is normalized; a vector env's ``info["final_obs"]`` is normalized with the same statistics.
    """

    def __init__(self, env, epsilon: float = 1e-8, update_running_mean: bool = True):
        super().__init__(env)
        space = env.single_observation_space if env.is_vector_env else env.observation_space
        if not isinstance(space, Box):
            raise TypeError(f"NormalizeObservation needs a Box observation space, got {space}")
        if epsilon <= 0:
            raise ValueError(f"NormalizeObservation: epsilon must be positive, got {epsilon}")
        self.epsilon = epsilon
        self.update_running_mean = update_running_mean
        self.obs_rms = RunningMeanStd(shape=space.shape)
        self.set_spaces(observation_space=Box(-np.inf, np.inf, shape=space.shape, dtype=np.float32))

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self._update_and_normalize(obs), info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        obs = self._update_and_normalize(obs)
        if "final_obs" in info:
            info = {**info, "final_obs": self.normalize(info["final_obs"])}
        return obs, reward, terminated, truncated, info

    def _update_and_normalize(self, obs):
        if self.update_running_mean:
            self.obs_rms.update(obs if self.is_vector_env else np.asarray(obs)[None])
        return self.normalize(obs)

    def normalize(self, obs) -> np.ndarray:
        return ((obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon)).astype(np.float32)

    def state_dict(self) -> dict:
        return self.obs_rms.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.obs_rms.load_state_dict(state)


class NormalizeReward(Wrapper):
    """Divides rewards by the standard deviation of the discounted return, as Gymnasium's NormalizeReward and
    baselines' VecNormalize do: it keeps the scale of value targets near 1 without shifting the rewards
    (a shift would change which policy is optimal when episodes have different lengths).

    Each copy accumulates ``G <- gamma * G + r``; the statistics are updated with G at every step, and G is set
    back to 0 when the copy's episode ends.
    """

    def __init__(self, env, gamma: float = 0.99, epsilon: float = 1e-8, update_running_mean: bool = True):
        super().__init__(env)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"NormalizeReward: gamma must be in [0, 1], got {gamma}")
        if epsilon <= 0:
            raise ValueError(f"NormalizeReward: epsilon must be positive, got {epsilon}")
        self.gamma, self.epsilon = gamma, epsilon
        self.update_running_mean = update_running_mean
        self.return_rms = RunningMeanStd(shape=())
        self.discounted_return = np.zeros(env.num_envs if env.is_vector_env else 1)

    def reset(self, *, seed=None, options=None):
        self.discounted_return[:] = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.discounted_return = self.gamma * self.discounted_return + reward
        if self.update_running_mean:
            self.return_rms.update(self.discounted_return)
        self.discounted_return[np.logical_or(terminated, truncated)] = 0.0
        scaled = np.asarray(reward) / np.sqrt(self.return_rms.var + self.epsilon)
        return obs, (scaled if self.is_vector_env else float(scaled)), terminated, truncated, info

    def state_dict(self) -> dict:
        return self.return_rms.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.return_rms.load_state_dict(state)
