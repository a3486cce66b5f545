"""Discrete policies: Categorical (softmax over logits), Bernoulli, and the Gumbel-softmax relaxation
(book ch. 2.7.3: policy parameterisations; eq. 2.95 Gumbel-max, eq. 2.96 Gumbel-softmax).

Every distribution takes autodiff Tensors (or arrays) of parameters with any leading batch shape, so that
`log_prob`, `entropy` and `kl` are differentiable with respect to the network that produced them.
`sample(rng)` returns plain arrays (sampling is not differentiable); `rsample(rng)`, where it exists, returns a
Tensor through which gradients flow (the reparameterisation trick).
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.distributions.base import Distribution, as_param, default_rng, noise_like


def gumbel(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard Gumbel noise g = −log(−log u), u ~ U(0, 1)."""
    u = rng.uniform(np.finfo(np.float64).tiny, 1.0, size=shape)
    return -np.log(-np.log(u))


class Categorical(Distribution):
    """π(a|s) = softmax(logits)_a over the last axis."""

    def __init__(self, logits=None, probs=None):
        if (logits is None) == (probs is None):
            raise ValueError("Categorical: pass exactly one of logits= or probs=")
        logits = as_param(logits) if logits is not None else ad.log(as_param(probs))
        if logits.ndim < 1:
            raise ValueError(f"Categorical: logits need a last axis of categories, got shape {logits.shape}")
        self.log_probs = ad.log_softmax(logits, axis=-1)  # normalised: log π(a) = z_a − logsumexp(z)
        self.batch_shape = logits.shape[:-1]
        self.num_categories = logits.shape[-1]

    @property
    def probs(self):
        return ad.exp(self.log_probs)

    def sample(self, rng=None):
        # Gumbel-max (eq. 2.95): argmax_i (log π_i + g_i) is distributed as π
        rng = default_rng(rng)
        return np.argmax(self.log_probs.numpy() + gumbel(rng, self.log_probs.shape), axis=-1)

    def log_prob(self, actions):
        actions = np.asarray(actions.numpy() if hasattr(actions, "numpy") else actions)
        if actions.shape != self.batch_shape:
            raise ValueError(f"Categorical.log_prob: actions of shape {actions.shape} for a batch of shape "
                             f"{self.batch_shape}")
        index = actions.astype(np.int64)[..., None]
        return ad.take_along_axis(self.log_probs, index, axis=-1).reshape(self.batch_shape)

    def entropy(self):
        return -(self.probs * self.log_probs).sum(axis=-1)  # H = −Σ π log π

    def kl(self, other: "Categorical"):
        _check_same(self, other)
        return (self.probs * (self.log_probs - other.log_probs)).sum(axis=-1)  # Σ π (log π − log π')

    def mode(self):
        return np.argmax(self.log_probs.numpy(), axis=-1)


class GumbelSoftmax(Categorical):
    """The Categorical with a differentiable relaxed sample (eq. 2.96):

        y_i = exp((log π_i + g_i) / τ) / Σ_j exp((log π_j + g_j) / τ)

    As the temperature τ → 0 the samples approach one-hot vectors. With ``hard=True`` the forward value is the
    one-hot argmax and the gradient is the relaxed sample's (the straight-through estimator)."""

    def __init__(self, logits=None, probs=None, temperature: float = 1.0):
        super().__init__(logits, probs)
        if temperature <= 0:
            raise ValueError(f"GumbelSoftmax: temperature must be positive, got {temperature}")
        self.temperature = float(temperature)

    def rsample(self, rng=None, hard: bool = False):
        g = noise_like(gumbel(default_rng(rng), self.log_probs.shape), self.log_probs)
        y = ad.softmax((self.log_probs + g) * (1.0 / self.temperature), axis=-1)
        if not hard:
            return y
        one_hot = np.eye(self.num_categories, dtype=y.dtype)[np.argmax(y.numpy(), axis=-1)]
        return y + noise_like(one_hot, y) - y.detach()  # value one_hot, gradient of y


class Bernoulli(Distribution):
    """p(x) = θ^x (1 − θ)^(1−x) with θ = σ(logit), for x ∈ {0, 1}, elementwise."""

    def __init__(self, logits=None, probs=None):
        if (logits is None) == (probs is None):
            raise ValueError("Bernoulli: pass exactly one of logits= or probs=")
        if logits is None:
            p = as_param(probs)
            logits = ad.log(p) - ad.log(1 - p)
        self.logits = as_param(logits)
        self.batch_shape = self.logits.shape

    @property
    def probs(self):
        return ad.sigmoid(self.logits)

    def sample(self, rng=None):
        return (default_rng(rng).random(self.batch_shape) < self.probs.numpy()).astype(np.float64)

    def log_prob(self, x):
        x = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=self.logits.dtype)
        # log θ^x (1−θ)^(1−x) = x·l − log(1 + e^l), with l the logit (no log of 0 for extreme logits)
        return self.logits * x - ad.softplus(self.logits)

    def entropy(self):
        return ad.softplus(self.logits) - self.logits * self.probs

    def kl(self, other: "Bernoulli"):
        _check_same(self, other)
        p = self.probs
        # p (log p − log q) + (1 − p)(log(1 − p) − log(1 − q)), with log σ(l) = −softplus(−l)
        return (p * (ad.softplus(-other.logits) - ad.softplus(-self.logits))
                + (1 - p) * (ad.softplus(other.logits) - ad.softplus(self.logits)))

    def mode(self):
        return (self.logits.numpy() > 0).astype(np.float64)


def _check_same(a, b):
    if type(a) is not type(b) and not (isinstance(a, Categorical) and isinstance(b, Categorical)):
        raise TypeError(f"kl: both distributions must be {type(a).__name__}, got {type(b).__name__}")
    if a.batch_shape != b.batch_shape:
        raise ValueError(f"kl: batch shapes {a.batch_shape} and {b.batch_shape} differ")
