"""Noisy linear layer: exploration by learned parameter noise (book §4.7, eq. 4.19; Fortunato et al. 2018).

A noisy network replaces ε-greedy: each weight has a mean and a learned noise scale, and the greedy action
of a perturbed network explores. The book's layer (4.19) is

    y = (W x + b) + ((W_noisy ⊙ ε_w) x + b_noisy ⊙ ε_b),

i.e. weights μ_W + σ_W ⊙ ε_w and bias μ_b + σ_b ⊙ ε_b, with σ (W_noisy, b_noisy) learned by gradient descent
like μ. Factorised Gaussian noise draws one vector per side instead of one number per weight:

    ε_w = f(ε_out) f(ε_in)ᵀ,   ε_b = f(ε_out),   f(x) = sgn(x) √|x|,   ε_in, ε_out ~ N(0, I).

Initialisation (Fortunato et al., factorised case): μ ~ U(−1/√p, 1/√p), σ = σ_0/√p with σ_0 = 0.5, for p inputs.
Where σ grows the agent explores, where it shrinks to 0 it has become sure: the noise is state-independent but
its effect on the greedy action is not. In `eval()` mode the layer is the mean network (σ ignored), which is the
deterministic policy evaluated at the end of training.
"""

from __future__ import annotations

import math

import numpy as np

from minirl.nn import functional as F
from minirl.nn import init
from minirl.nn.module import Module, Parameter


def scaled_noise(size: int, rng: np.random.Generator) -> np.ndarray:
    """f(ε) = sgn(ε) √|ε| for ε ~ N(0, I): the factorised noise of one side of the layer."""
    epsilon = rng.standard_normal(size)
    return np.sign(epsilon) * np.sqrt(np.abs(epsilon))


class NoisyLinear(Module):
    """y = (μ_W + σ_W ⊙ ε_w) x + μ_b + σ_b ⊙ ε_b (4.19), factorised Gaussian ε; the mean layer in eval mode.

    `reset_noise(rng)` draws a new ε (it is kept in buffers, so a checkpoint resumes with the same noise)."""

    def __init__(self, in_features: int, out_features: int, sigma_0: float = 0.5, dtype=np.float32, rng=None):
        super().__init__()
        self.in_features, self.out_features, self.sigma_0 = in_features, out_features, sigma_0
        rng = np.random.default_rng() if rng is None else rng
        bound = 1 / math.sqrt(in_features)
        self.weight_mu = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.weight_sigma = Parameter(np.full((out_features, in_features), sigma_0 * bound, dtype=dtype))
        self.bias_mu = Parameter(np.empty(out_features, dtype=dtype))
        self.bias_sigma = Parameter(np.full(out_features, sigma_0 * bound, dtype=dtype))
        init.uniform_(self.weight_mu, -bound, bound, rng=rng)
        init.uniform_(self.bias_mu, -bound, bound, rng=rng)
        self.register_buffer("weight_epsilon", np.zeros((out_features, in_features), dtype=dtype))
        self.register_buffer("bias_epsilon", np.zeros(out_features, dtype=dtype))
        self.reset_noise(rng)

    def reset_noise(self, rng: np.random.Generator) -> None:
        """New factorised noise: ε_w = f(ε_out) f(ε_in)ᵀ, ε_b = f(ε_out)."""
        noise_in, noise_out = scaled_noise(self.in_features, rng), scaled_noise(self.out_features, rng)
        dtype = self.weight_mu.dtype
        self.weight_epsilon = np.outer(noise_out, noise_in).astype(dtype)
        self.bias_epsilon = noise_out.astype(dtype)

    def forward(self, input):
        if not self.training:  # the mean network: what the agent believes without exploring
            return F.linear(input, self.weight_mu, self.bias_mu)
        weight = self.weight_mu + self.weight_sigma * self.weight_epsilon  # W + W_noisy ⊙ ε_w
        bias = self.bias_mu + self.bias_sigma * self.bias_epsilon          # b + b_noisy ⊙ ε_b
        return F.linear(input, weight, bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, sigma_0={self.sigma_0}"
