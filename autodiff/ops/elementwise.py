"""Elementwise functions and their derivatives (book ch. 1.4: activations; ch. 1.6.1: backpropagation).

Rules that use the output (exp, tanh, sigmoid, sqrt) read `self.result`; non-differentiable constants
(signs, masks, tie weights) are computed in the forward pass and used as constants in both passes.
"""

from __future__ import annotations

import numpy as np

from autodiff.function import Function
from kernels import registry


def _xp(a):
    """The array module of `a`: NumPy, or CuPy for CuPy arrays."""
    cupy_ndarray = registry._cupy_ndarray
    return registry.load_cupy() if cupy_ndarray is not None and type(a) is cupy_ndarray else np


def stable_sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ), computed as exp(−log(1 + e⁻ˣ)) so no exp overflows (book eq. 1.8)."""
    xp = _xp(x)
    return xp.exp(-xp.logaddexp(0, -x))


class Exp(Function):
    def forward(self, x):
        return _xp(x).exp(x)

    def backward(self, g):
        return g * self.result  # (eˣ)' = eˣ


class Log(Function):
    def forward(self, x):
        return _xp(x).log(x)

    def backward(self, g):
        (x,) = self.args
        return g / x  # (ln x)' = 1/x


class Sqrt(Function):
    def forward(self, x):
        return _xp(x).sqrt(x)

    def backward(self, g):
        return g / (2 * self.result)  # (√x)' = 1 / (2√x)


class Abs(Function):
    def forward(self, x):
        xp = _xp(x)
        self.sign = xp.sign(x)  # |x|' = sign(x), and 0 at x = 0
        return xp.abs(x)

    def backward(self, g):
        return g * self.sign


class Tanh(Function):
    def forward(self, x):
        return _xp(x).tanh(x)

    def backward(self, g):
        y = self.result
        return g * (1 - y * y)  # tanh' = 1 − tanh²   (book eq. 1.9)


class Sigmoid(Function):
    def forward(self, x):
        return stable_sigmoid(x)

    def backward(self, g):
        y = self.result
        return g * y * (1 - y)  # σ' = σ (1 − σ)   (book eq. 1.8)


class Relu(Function):
    def forward(self, x):
        self.mask = x > 0  # relu'(0) = 0
        return _xp(x).maximum(x, 0)  # not x * mask: relu(−∞) = 0, not −∞ · 0 = NaN

    def backward(self, g):
        return g * self.mask  # (book eq. 1.10)


class Softplus(Function):
    def forward(self, x):
        return _xp(x).logaddexp(0, x)  # log(1 + eˣ) without overflow

    def backward(self, g):
        (x,) = self.args
        return g * self.ops.sigmoid(x)  # softplus' = σ


class Clip(Function):
    def forward(self, x, low=None, high=None):
        xp = _xp(x)
        self.mask = xp.ones(x.shape, dtype=bool)  # the gradient passes where low ≤ x ≤ high
        if low is not None:
            self.mask &= x >= low
        if high is not None:
            self.mask &= x <= high
        return xp.clip(x, low, high)

    def backward(self, g):
        return g * self.mask


class Maximum(Function):
    broadcasts = True

    def forward(self, a, b):
        self.weight = (a > b) + 0.5 * (a == b)  # where a = b the gradient is split evenly
        return _xp(a).maximum(a, b)

    def backward(self, g):
        w = self.weight.astype(self.out.dtype, copy=False)
        return g * w, g * (1 - w)


class Minimum(Function):
    broadcasts = True

    def forward(self, a, b):
        self.weight = (a < b) + 0.5 * (a == b)
        return _xp(a).minimum(a, b)

    def backward(self, g):
        w = self.weight.astype(self.out.dtype, copy=False)
        return g * w, g * (1 - w)


class Where(Function):
    broadcasts = True

    def forward(self, condition, a, b):
        self.condition = condition
        return _xp(a if hasattr(a, "shape") else b).where(condition, a, b)

    def backward(self, g):
        where = self.ops.where
        return None, where(self.condition, g, 0), where(self.condition, 0, g)
