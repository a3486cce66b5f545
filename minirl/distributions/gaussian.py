"""Continuous policies: the diagonal Gaussian and the tanh-squashed Gaussian (book ch. 2.7.3: diagonal
Gaussian policy, eq. 2.97 reparameterisation; eq. 2.163 tanh squashing, used by SAC in ch. 6.4).

The last axis holds the action dimensions: `log_prob`, `entropy` and `kl` sum over it and keep the batch axes.
"""

from __future__ import annotations

import math

import numpy as np

import autodiff as ad
from minirl.distributions.base import Distribution, as_param, default_rng, noise_like

LOG_2PI = math.log(2 * math.pi)


class DiagGaussian(Distribution):
    """N(μ, diag(σ²)) with σ = exp(log_std); `log_std` broadcasts against `mean` (a state-independent std is
    a parameter of shape (action_dim,))."""

    def __init__(self, mean, log_std):
        self.mean = as_param(mean)
        log_std = as_param(log_std)
        self.log_std = log_std if log_std.shape == self.mean.shape else ad.broadcast_to(log_std, self.mean.shape)
        if self.mean.ndim < 1:
            raise ValueError(f"DiagGaussian: mean needs a last axis of action dimensions, got shape {self.mean.shape}")
        self.batch_shape = self.mean.shape[:-1]
        self.std = ad.exp(self.log_std)

    def sample(self, rng=None):
        z = default_rng(rng).standard_normal(self.mean.shape)
        return self.mean.numpy() + self.std.numpy() * z

    def rsample(self, rng=None):
        z = noise_like(default_rng(rng).standard_normal(self.mean.shape), self.mean)
        return self.mean + self.std * z  # a = μ_θ + σ_θ ⊙ z, z ~ N(0, I)   (eq. 2.97)

    def log_prob(self, actions):
        a = actions if isinstance(actions, ad.Tensor) else ad.tensor(np.asarray(actions, dtype=self.mean.dtype))
        if a.shape != self.mean.shape:
            raise ValueError(f"DiagGaussian.log_prob: actions of shape {a.shape}, expected {self.mean.shape}")
        z = (a - self.mean) / self.std
        # log N(a; μ, σ²) = Σ_i −½ z_i² − log σ_i − ½ log 2π
        return (-0.5 * z * z - self.log_std - 0.5 * LOG_2PI).sum(axis=-1)

    def entropy(self):
        return (self.log_std + 0.5 * (LOG_2PI + 1)).sum(axis=-1)  # Σ_i log σ_i + ½ log(2πe)

    def kl(self, other: "DiagGaussian"):
        if not isinstance(other, DiagGaussian) or other.mean.shape != self.mean.shape:
            raise ValueError("kl: expected a DiagGaussian with the same shape")
        var_ratio = ad.exp(2 * (self.log_std - other.log_std))
        diff = (self.mean - other.mean) / other.std
        # KL(p‖q) = Σ_i log σ_q − log σ_p + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − ½
        return (0.5 * (var_ratio + diff * diff - 1) - (self.log_std - other.log_std)).sum(axis=-1)

    def mode(self):
        return self.mean.numpy()


def log1m_tanh_squared(u):
    """log(1 − tanh²u) = 2 (log 2 − u − softplus(−2u)), exact and finite for large |u|."""
    return 2 * (math.log(2) - u - ad.softplus(-2 * u))


class TanhGaussian(Distribution):
    """a = tanh(u), u ~ N(μ, σ²): bounded actions in (−1, 1) (eq. 2.163). By the change of variables
    log π(a) = log N(u; μ, σ²) − Σ_i log(1 − tanh² u_i)."""

    def __init__(self, mean, log_std):
        self.base = DiagGaussian(mean, log_std)
        self.batch_shape = self.base.batch_shape

    def sample(self, rng=None):
        return np.tanh(self.base.sample(rng))

    def rsample(self, rng=None):
        return ad.tanh(self.base.rsample(rng))

    def rsample_and_log_prob(self, rng=None):
        """A reparameterised action and its log-probability, computed from u (stable near |a| = 1)."""
        u = self.base.rsample(rng)
        return ad.tanh(u), self.base.log_prob(u) - log1m_tanh_squared(u).sum(axis=-1)

    def log_prob(self, actions, eps: float = 1e-6):
        a = np.clip(np.asarray(actions.numpy() if hasattr(actions, "numpy") else actions, dtype=np.float64),
                    -1 + eps, 1 - eps)
        u = ad.tensor(np.arctanh(a).astype(self.base.mean.dtype))
        return self.base.log_prob(u) - log1m_tanh_squared(u).sum(axis=-1)

    def entropy(self, rng=None, samples: int = 64):
        """No closed form: a Monte Carlo estimate −E[log π(a)] from `samples` reparameterised draws."""
        rng = default_rng(rng)
        total = None
        for _ in range(samples):
            _, log_p = self.rsample_and_log_prob(rng)
            total = -log_p if total is None else total - log_p
        return total * (1.0 / samples)

    def kl(self, other: "TanhGaussian"):
        # KL is invariant under the same invertible map applied to both: KL(tanh p ‖ tanh q) = KL(p ‖ q)
        return self.base.kl(other.base)

    def mode(self):
        return np.tanh(self.base.mode())
