"""The cross-entropy method: policy search without gradients (book ch. 2.7.3, eqs. 2.167–2.170, L16983–17075).

The policy's parameters θ are searched for directly, S(θ) being the return an episode of the policy π_θ earns:

    θ* = argmax_θ S(θ)                                                          (2.167)

The search distribution is a Gaussian with independent coordinates, θ ~ N(µ_t, σ_t²). One iteration t:

    draw θ_1, ..., θ_n ~ N(µ_t, σ_t²), and play one episode with each: S(θ_1), ..., S(θ_n)      `_train`
    keep the ⌊ρ n⌋ best, the elite set I (0 < ρ < 1, the selection ratio)                       `cem_update`
    µ_{t+1} = Σ_{i∈I} θ_i / |I|                                                                 (2.168)
    σ²_{t+1} = Σ_{i∈I} (θ_i − µ_{t+1})² / |I|  + Z_{t+1}                                       (2.169), (2.170)

Without the added noise Z the distribution shrinks onto a point within a few iterations, often a poor one;
Szita & Lőrincz (2006) add Z_t = max(Z_0 − t·ΔZ, 0), with Z_0 = 5 and ΔZ = 1/10 (`noise`).

The policy is linear in the observation s: for |A| discrete actions θ holds W (|A| × d) and b (|A|), and the
action is argmax_a (W s + b)_a; for a Box of actions it is W s + b, clipped to the bounds. The agent's policy
is the mean µ (`act`); with `deterministic=False` it plays a θ drawn from the search distribution.
"""

from __future__ import annotations

import numpy as np

from minirl.algos.base import EpisodicAgent, Hyperparameter, env_rng_state, restore_env_rng
from minirl.envs import spaces
from minirl.errors import IncompatibleEnvironmentError


def noise(iteration: int, start: float, decay: float) -> float:
    """Z_t = max(Z_0 − t ΔZ, 0), the variance added to the elites' (2.170)."""
    return max(start - iteration * decay, 0.0)


def cem_update(samples: np.ndarray, scores: np.ndarray, elite_fraction: float, added_noise: float = 0.0):
    """The new mean and variance of the search distribution from `samples` (n, d) and their `scores` (n,):
    the mean (2.168) and the variance (2.169) of the ⌊ρ n⌋ best, plus the noise Z (2.170). Ties keep the
    earlier sample."""
    num_elites = int(elite_fraction * len(samples))
    if num_elites < 1:
        raise ValueError(f"cem: ⌊ρ n⌋ = ⌊{elite_fraction} × {len(samples)}⌋ = 0 elites; raise the population or ρ")
    elites = samples[np.argsort(-np.asarray(scores), kind="stable")[:num_elites]]
    mean = elites.mean(axis=0)                                                    # (2.168)
    variance = ((elites - mean) ** 2).mean(axis=0) + added_noise                  # (2.169) + Z  (2.170)
    return mean, variance


class LinearPolicy:
    """a = argmax (W s + b) for discrete actions, clip(W s + b) for a Box; θ = [W.ravel(), b]."""

    def __init__(self, observation_space, action_space):
        if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 1:
            raise IncompatibleEnvironmentError(
                f"cem: the linear policy needs a flat Box observation space, got {observation_space}")
        if isinstance(action_space, spaces.Discrete):
            self.discrete, outputs = True, int(action_space.n)
        elif isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
            self.discrete, outputs = False, action_space.shape[0]
            self.low, self.high = action_space.low, action_space.high
        else:
            raise IncompatibleEnvironmentError(f"cem: needs a Discrete or a flat Box action space, got {action_space}")
        self.inputs, self.outputs = observation_space.shape[0], outputs
        self.size = outputs * (self.inputs + 1)  # the length of θ

    def __call__(self, theta: np.ndarray, obs):
        weight = theta[: self.outputs * self.inputs].reshape(self.outputs, self.inputs)
        out = weight @ np.asarray(obs, dtype=np.float64) + theta[self.outputs * self.inputs:]
        return int(np.argmax(out)) if self.discrete else np.clip(out, self.low, self.high).astype(np.float32)


class CEM(EpisodicAgent):
    """The cross-entropy method with added noise on a linear policy (book ch. 2.7.3, eqs. 2.167–2.170)."""

    name = "cem"
    hyperparameters = {
        "population": Hyperparameter(20, "n, the parameter vectors drawn and played each iteration", low=2),
        "elite_fraction": Hyperparameter(0.2, "ρ, the fraction of them kept as elites", low=0.0, high=1.0),
        "initial_std": Hyperparameter(1.0, "σ_0 of every coordinate of θ", low=0.0),
        "noise_start": Hyperparameter(5.0, "Z_0, the variance added to the elites' at the first update (2.170)",
                                      low=0.0),
        "noise_decay": Hyperparameter(0.1, "ΔZ: Z_t = max(Z_0 − t ΔZ, 0)", low=0.0),
    }
    default_steps = {"CartPole-v1": 100_000}

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        if int(values["elite_fraction"] * values["population"]) < 1:
            raise ValueError(f"cem.elite_fraction: ⌊ρ n⌋ = ⌊{values['elite_fraction']} × {values['population']}⌋ "
                             f"keeps no elite; raise elite_fraction or population")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        self.policy = LinearPolicy(self.env.observation_space, self.env.action_space)
        self.mean = np.zeros(self.policy.size)
        self.variance = np.full(self.policy.size, self.hp["initial_std"] ** 2)
        self.iteration = 0  # t
        self.last_scores = np.zeros(0)

    def act(self, obs, deterministic: bool = True):
        theta = self.mean if deterministic else self.rng.normal(self.mean, np.sqrt(self.variance))
        return self.policy(theta, obs)

    def _train(self, total_steps, hooks):
        hp = self.hp
        while self.num_timesteps < total_steps:
            samples = self.rng.normal(self.mean, np.sqrt(self.variance), size=(hp["population"], self.policy.size))
            scores = np.zeros(hp["population"])
            for i, theta in enumerate(samples):  # S(θ_i): the return of one episode
                scores[i], stopped = self._play_episode(theta, total_steps, hooks)
                if stopped:  # out of steps (or a hook said stop) mid-iteration: µ, σ² stay as they are
                    return
            self.iteration += 1
            added = noise(self.iteration, hp["noise_start"], hp["noise_decay"])
            self.mean, self.variance = cem_update(samples, scores, hp["elite_fraction"], added)
            self.last_scores = scores
            hooks.on_boundary(self)

    def _play_episode(self, theta, total_steps, hooks) -> tuple[float, bool]:
        """One episode of π_θ from a fresh reset (only the first reset is seeded): its return, and whether
        training must stop before the episode ended."""
        obs, _ = self.env.reset(seed=self.seed if self.num_episodes == 0 else None)
        episode_return, length, done = 0.0, 0, False
        while not done:
            if self.num_timesteps >= total_steps:
                return episode_return, True
            obs, reward, terminated, truncated, _ = self.env.step(self.policy(theta, obs))
            episode_return += float(reward)
            length += 1
            done = terminated or truncated
            self.num_timesteps += 1
            if hooks.on_step(self) is False:
                return episode_return, True
        self.num_episodes += 1
        hooks.on_episode(self, episode_return, length)
        return episode_return, False

    def state_dict(self) -> dict:
        return {**super().state_dict(), "mean": self.mean, "variance": self.variance, "iteration": self.iteration,
                "env_rng": env_rng_state(self.env)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if np.shape(state["mean"]) != self.mean.shape:
            raise ValueError(f"cem: the checkpoint's θ has {np.size(state['mean'])} parameters, this environment's "
                             f"linear policy {self.mean.size}")
        self.mean = np.array(state["mean"], dtype=np.float64)
        self.variance = np.array(state["variance"], dtype=np.float64)
        self.iteration = int(state["iteration"])
        restore_env_rng(self.env, state["env_rng"])


__all__ = ["CEM", "LinearPolicy", "cem_update", "noise"]
