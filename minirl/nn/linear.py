"""Dense (fully connected) layers: `Linear`, plus the shape helpers `Identity` and `Flatten` (book §1.2).

A layer of m neurons on n inputs computes z = Wx + b with W ∈ R^{m×n} (book eqs. 1.4–1.6): each row of W
is one neuron's weights (eq. 1.2: z = Σ_i w_i x_i + b). PyTorch stores W the same way, (out, in), and so do we.
"""

from __future__ import annotations

import math

import numpy as np

from minirl.nn import functional as F
from minirl.nn import init
from minirl.nn.module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b for x of shape (..., in_features); weight (out_features, in_features), bias (out_features,).

    Initialised as PyTorch does: W ~ kaiming_uniform(a = √5), i.e. U(−1/√in, 1/√in); b ~ U(−1/√in, 1/√in).
    `rng` (a NumPy Generator) makes the initialisation reproducible; weight is drawn before bias."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=np.float32,
                 device: str = "cpu", rng=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype), device=device)
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=dtype), device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        rng = np.random.default_rng() if rng is None else rng
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=rng)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, rng=rng)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input: a placeholder where an architecture has an optional layer."""

    def __init__(self, *args, **kwargs):  # accepts (and ignores) arguments, as PyTorch's does
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merges axes start_dim..end_dim into one: (N, C, H, W) → (N, C·H·W) by default, between a CNN's
    convolutions and its dense layers (book §1.8, fig. 1.20; the DQN torso's 7·7·64 = 3136)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        ndim = input.ndim
        start, end = self.start_dim % max(ndim, 1), self.end_dim % max(ndim, 1)
        shape = input.shape
        return input.reshape(shape[:start] + (-1,) + shape[end + 1:]) if ndim else input.reshape(1)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
