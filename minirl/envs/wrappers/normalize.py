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


class ObservationNormalizer:
    """(obs − mean) / sqrt(var + ε) as float32, optionally clipped to [−clip, clip], with the mean and variance of
    every observation it was updated with. The `NormalizeObservation` wrapper is one around an environment; an
    agent that keeps raw observations itself (PPO) holds one directly."""

    def __init__(self, shape, epsilon: float = 1e-8, clip: float | None = None):
        if epsilon <= 0:
            raise ValueError(f"ObservationNormalizer: epsilon must be positive, got {epsilon}")
        self.rms = RunningMeanStd(shape=shape)
        self.epsilon, self.clip = epsilon, clip

    def update(self, batch) -> None:
        """Add a batch of observations stacked along axis 0."""
        self.rms.update(batch)

    def __call__(self, obs) -> np.ndarray:
        normalized = (obs - self.rms.mean) / np.sqrt(self.rms.var + self.epsilon)
        if self.clip is not None:
            normalized = np.clip(normalized, -self.clip, self.clip)
        return normalized.astype(np.float32)

    def state_dict(self) -> dict:
        return self.rms.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.rms.load_state_dict(state)


class ReturnScaler:
    """Rewards divided by the standard deviation of the discounted return, as Gymnasium's NormalizeReward and
    baselines' VecNormalize do: it keeps the scale of value targets near 1 without shifting the rewards (a shift
    would change which policy is optimal when episodes have different lengths).

    Each of `num_envs` copies accumulates G ← γ G + r; the statistics take in G at every step, and G goes back to 0
    where the copy's episode ends."""

    def __init__(self, num_envs: int, gamma: float = 0.99, epsilon: float = 1e-8):
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"ReturnScaler: gamma must be in [0, 1], got {gamma}")
        if epsilon <= 0:
            raise ValueError(f"ReturnScaler: epsilon must be positive, got {epsilon}")
        self.gamma, self.epsilon = gamma, epsilon
        self.rms = RunningMeanStd(shape=())
        self.discounted_return = np.zeros(num_envs)

    def __call__(self, rewards, done, update: bool = True) -> np.ndarray:
        """The scaled rewards of one step of every copy; `done` marks the copies whose episode ended."""
        self.discounted_return = self.gamma * self.discounted_return + rewards
        if update:
            self.rms.update(self.discounted_return)
        self.discounted_return[done] = 0.0
        return np.asarray(rewards) / np.sqrt(self.rms.var + self.epsilon)

    def state_dict(self) -> dict:
        return self.rms.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.rms.load_state_dict(state)


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
        self.normalize = ObservationNormalizer(space.shape, epsilon)
        self.update_running_mean = update_running_mean
        self.set_spaces(observation_space=Box(-np.inf, np.inf, shape=space.shape, dtype=np.float32))

    @property
    def obs_rms(self) -> RunningMeanStd:
        return self.normalize.rms

    @property
    def epsilon(self) -> float:
        return self.normalize.epsilon

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
            self.normalize.update(obs if self.is_vector_env else np.asarray(obs)[None])
        return self.normalize(obs)

    def state_dict(self) -> dict:
        return self.normalize.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.normalize.load_state_dict(state)


class NormalizeReward(Wrapper):
    """Rewards divided by the standard deviation of the discounted return (`ReturnScaler`), for single and vector
    envs; the discounted returns start again at every reset."""

    def __init__(self, env, gamma: float = 0.99, epsilon: float = 1e-8, update_running_mean: bool = True):
        super().__init__(env)
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"NormalizeReward: gamma must be in [0, 1], got {gamma}")
        if epsilon <= 0:
            raise ValueError(f"NormalizeReward: epsilon must be positive, got {epsilon}")
        self.scale = ReturnScaler(env.num_envs if env.is_vector_env else 1, gamma, epsilon)
        self.update_running_mean = update_running_mean

    @property
    def return_rms(self) -> RunningMeanStd:
        return self.scale.rms

    @property
    def discounted_return(self) -> np.ndarray:
        return self.scale.discounted_return

    @property
    def gamma(self) -> float:
        return self.scale.gamma

    @property
    def epsilon(self) -> float:
        return self.scale.epsilon

    def reset(self, *, seed=None, options=None):
        self.scale.discounted_return[:] = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        scaled = self.scale(reward, np.logical_or(terminated, truncated), self.update_running_mean)
        return obs, (scaled if self.is_vector_env else float(scaled)), terminated, truncated, info

    def state_dict(self) -> dict:
        return self.scale.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scale.load_state_dict(state)
