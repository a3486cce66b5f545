"""Elementwise functions and their derivatives (book ch. 1.4: activations; ch. 1.6.1: backpropagation).

Rules that use the output (exp, tanh, sigmoid, sqrt) read `self.result`; non-differentiable constants
(signs, masks, tie weights) are computed in the forward pass and used as constants in both passes.
"""

from __future__ import annotations

import numpy as np

import kernels
from autodiff.function import Function
from kernels import registry


def _xp(a):
    """The array module of `a`: NumPy, or CuPy for CuPy arrays."""
    return registry.array_module(a)


def constant_like(constant, like):
    """A non-differentiable constant (a mask, an index array) on the device of the array `like`: a NumPy mask
    given for a GPU tensor is copied to the GPU, as PyTorch does with index tensors."""
    if isinstance(constant, np.ndarray) and registry.backend_of(like) == "cupy":
        return registry.load_cupy().asarray(constant)
    return constant


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


# The three activations of book §1.4 run through the kernel registry (kernels.tanh, kernels.tanh_backward, ...),
# so that on the GPU a learner can swap the ufunc chain for a fused kernel and time the difference.
class Tanh(Function):
    def forward(self, x):
        return kernels.tanh(x)

    def backward(self, g):
        return self.ops.tanh_backward(g, self.result)  # tanh' = 1 − tanh² = 1 − y²   (book eq. 1.9)


class Sigmoid(Function):
    def forward(self, x):
        return kernels.sigmoid(x)

    def backward(self, g):
        return self.ops.sigmoid_backward(g, self.result)  # σ' = σ (1 − σ) = y (1 − y)   (book eq. 1.8)


class Relu(Function):
    def forward(self, x):
        return kernels.relu(x)  # max(x, 0), and relu(−∞) = 0

    def backward(self, g):
        return self.ops.relu_backward(g, self.result)  # relu' = [y > 0], 0 at the kink   (book eq. 1.10)


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
        like = a if hasattr(a, "shape") else b
        self.condition = condition = constant_like(condition, like)
        return _xp(like).where(condition, a, b)

    def backward(self, g):
        where = self.ops.where
        return None, where(self.condition, g, 0), where(self.condition, 0, g)
