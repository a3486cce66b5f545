"""Dropout (book ch. 1.7.3; the MNIST MLP of §1.10.4 drops 20 % of inputs and 50 % of hidden units).

During training every element is zeroed independently with probability p, so no unit can rely on one
particular other unit being present; the network behaves like an ensemble of the thinned networks that share
weights. At test time nothing is dropped. "Inverted" scaling multiplies the kept elements by 1/(1 − p) during
training, so each element's expected value is unchanged and evaluation needs no rescaling:

    y = x ⊙ m / (1 − p),   m_i ~ Bernoulli(1 − p)   (training);     y = x   (evaluation).

(TensorLayer, used by the book, speaks of the keep probability 1 − p instead of the drop probability p.)
"""

from __future__ import annotations

import numpy as np

from autodiff import Tensor, as_tensor
from autodiff.ops.shape import move_array
from minirl.nn.module import Module


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")


def dropout(x, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p); the identity if not training."""
    _check_p(p)
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:  # every unit dropped (1/(1 − p) would be 0/0)
        return x * 0.0
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    # the mask and its scale are one constant array of x's dtype, so the gradient is masked the same way
    return x * move_array((keep * (1.0 / (1.0 - p))).astype(x.dtype), x.device)


class Dropout(Module):
    """Drops each element with probability p in training mode (inverted scaling); identity in eval mode.
    Masks are drawn from `rng` (a NumPy Generator), so a seeded rng makes them reproducible."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        super().__init__()
        _check_p(p)
        self.p = p
        self.rng = np.random.default_rng() if rng is None else rng

    def forward(self, x):
        return dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
