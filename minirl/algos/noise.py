"""Exploration noise for deterministic policies (book ch. 6.1): a = μ(s) + N_t, clipped to the action bounds.

    Ornstein–Uhlenbeck (6.1):  X_{t+dt} = X_t + θ(µ − X_t)dt + σ√dt ε,  ε ~ N(0, I)
        (the book prints the drift as θ(π − X_t); it is θ(µ − X_t), the pull back toward the mean µ)
    Gaussian:                  N_t = σ ε,  ε ~ N(0, I), independent at every step

OU noise is correlated in time (a random walk pulled back to µ), which DDPG's authors chose for physical control
with inertia; TD3's authors found independent Gaussian noise as good. Both restart at µ when an episode ends
(`reset`), and keep their state in `state_dict` so that a resumed run continues exactly.
"""

from __future__ import annotations

import numpy as np


class GaussianNoise:
    def __init__(self, size, sigma: float, rng: np.random.Generator):
        if sigma < 0:
            raise ValueError(f"GaussianNoise: expected σ ≥ 0, got {sigma}")
        self.size, self.sigma, self.rng = size, float(sigma), rng

    def __call__(self) -> np.ndarray:
        return self.sigma * self.rng.standard_normal(self.size)

    def reset(self, index=None) -> None:
        """Nothing to forget: each draw is independent."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class OrnsteinUhlenbeckNoise:
    def __init__(self, size, sigma: float, rng: np.random.Generator, theta: float = 0.15, mu: float = 0.0,
                 dt: float = 1e-2):
        if sigma < 0 or theta < 0 or dt <= 0:
            raise ValueError(f"OrnsteinUhlenbeckNoise: expected σ ≥ 0, θ ≥ 0 and dt > 0, got σ={sigma}, θ={theta}, "
                             f"dt={dt}")
        self.size, self.sigma, self.theta, self.mu, self.dt, self.rng = size, float(sigma), theta, mu, dt, rng
        self.x = np.full(size, mu, dtype=np.float64)

    def __call__(self) -> np.ndarray:
        drift = self.theta * (self.mu - self.x) * self.dt                                   # θ(µ − X_t)dt
        self.x = self.x + drift + self.sigma * np.sqrt(self.dt) * self.rng.standard_normal(self.size)   # (6.1)
        return self.x.copy()

    def reset(self, index=None) -> None:
        """Back to µ: all of it, or the rows `index` (the copies of a vector env whose episode ended)."""
        if index is None:
            self.x[...] = self.mu
        else:
            self.x[index] = self.mu

    def state_dict(self) -> dict:
        return {"x": self.x.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.x = np.array(state["x"], dtype=np.float64)


NOISE = {"gaussian": GaussianNoise, "ou": OrnsteinUhlenbeckNoise}
