"""Elementwise functions and their derivatives (book ch. 1.4: activations; ch. 1.6.1: backpropagation).

Rules that use the output (exp, tanh, sigmoid, sqrt) read `self.result`; non-differentiable constants
(signs, masks, tie weights) are computed in the forward pass and used as constants in both passes.

`exp`, `log`, `sigmoid` and `where` at the end of the file are what backward rules call: each takes an
array (and computes) or a Tensor (and records the op), so a rule written with them is differentiable too.
"""

from __future__ import annotations

import numpy as np

from autodiff.function import Function
from autodiff.tensor import Tensor
from kernels import registry
from kernels.registry import array_module


def constant_like(constant, like):
    """A non-differentiable constant (a mask, an index array) on the device of the array `like`: a NumPy mask
    given for a GPU tensor is copied to the GPU, as PyTorch does with index tensors."""
    if isinstance(constant, np.ndarray) and registry.backend_of(like) == "cupy":
        return registry.load_cupy().asarray(constant)
    return constant


class Exp(Function):
    def forward(self, x):
        return array_module(x).exp(x)

    def backward(self, g):
        return g * self.result  # (eˣ)' = eˣ


class Log(Function):
    def forward(self, x):
        return array_module(x).log(x)

    def backward(self, g):
        (x,) = self.args
        return g / x  # (ln x)' = 1/x


class Sqrt(Function):
    def forward(self, x):
        return array_module(x).sqrt(x)

    def backward(self, g):
        return g / (2 * self.result)  # (√x)' = 1 / (2√x)


class Abs(Function):
    def forward(self, x):
        xp = array_module(x)
        self.sign = xp.sign(x)  # |x|' = sign(x), and 0 at x = 0
        return xp.abs(x)

    def backward(self, g):
        return g * self.sign


# The three activations of book §1.4. Each writes its derivative with its output y = f(x), in `chain`:
# g ⊙ f'(x) from g and y. Their own backward rule calls it, and so does the dense stack (autodiff/ops/dense.py)
# when it differentiates its layers with create_graph=True.
class Tanh(Function):
    def forward(self, x):
        return array_module(x).tanh(x)

    @staticmethod
    def chain(g, y):
        return g * (1 - y * y)  # tanh' = 1 − tanh² = 1 − y²   (book eq. 1.9)

    def backward(self, g):
        return self.chain(g, self.result)


class Sigmoid(Function):
    def forward(self, x):
        return sigmoid(x)

    @staticmethod
    def chain(g, y):
        return g * y * (1 - y)  # σ' = σ (1 − σ) = y (1 − y)   (book eq. 1.8)

    def backward(self, g):
        return self.chain(g, self.result)


class Relu(Function):
    def forward(self, x):
        return array_module(x).maximum(x, 0)  # not x · [x > 0]: relu(−∞) = 0, not −∞ · 0 = NaN

    @staticmethod
    def chain(g, y):
        return g * (y > 0)  # relu' = [x > 0] = [y > 0], 0 at the kink   (book eq. 1.10)

    def backward(self, g):
        return self.chain(g, self.result)


class Softplus(Function):
    def forward(self, x):
        return array_module(x).logaddexp(0, x)  # log(1 + eˣ) without overflow

    def backward(self, g):
        (x,) = self.args
        return g * sigmoid(x)  # softplus' = σ


class Clip(Function):
    def forward(self, x, low=None, high=None):
        xp = array_module(x)
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
        return array_module(a).maximum(a, b)

    def backward(self, g):
        w = self.weight.astype(self.out.dtype, copy=False)
        return g * w, g * (1 - w)


class Minimum(Function):
    broadcasts = True

    def forward(self, a, b):
        self.weight = (a < b) + 0.5 * (a == b)
        return array_module(a).minimum(a, b)

    def backward(self, g):
        w = self.weight.astype(self.out.dtype, copy=False)
        return g * w, g * (1 - w)


class Where(Function):
    broadcasts = True

    def forward(self, condition, a, b):
        like = a if hasattr(a, "shape") else b
        self.condition = condition = constant_like(condition, like)
        return array_module(like).where(condition, a, b)

    def backward(self, g):
        return None, where(self.condition, g, 0), where(self.condition, 0, g)


# -- for backward rules: on an array, the array's function; on a Tensor, the recorded op -----------------------
def exp(x):
    return Exp.apply(x) if isinstance(x, Tensor) else array_module(x).exp(x)


def log(x):
    return Log.apply(x) if isinstance(x, Tensor) else array_module(x).log(x)


def sigmoid(x):
    if isinstance(x, Tensor):
        return Sigmoid.apply(x)
    xp = array_module(x)
    return xp.exp(-xp.logaddexp(0, -x))  # σ(x) = 1 / (1 + e⁻ˣ) = exp(−log(1 + e⁻ˣ)): no overflow   (book eq. 1.8)


def where(condition, a, b):
    """`a` where `condition` holds, else `b`; recorded when `a` or `b` is a Tensor (the condition is a constant)."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return Where.apply(condition, a, b)
    return array_module(a if hasattr(a, "shape") else b).where(condition, a, b)
