"""Reductions and the softmax family: sum, mean, var, max/min (ties split evenly), logsumexp, softmax,
log-softmax.

The softmax family runs through the kernel registry (`kernels.softmax`, ...): its forward passes, and on arrays
its two backward rules, are kernels that a GPU implementation can replace (one pass over each row instead of
a chain of ufuncs). Each rule writes its derivative below the kernel's call; that line runs when the backward
pass is recorded, and tests/autodiff/test_kernels_match_rules.py checks that the kernels compute it.
"""

from __future__ import annotations

import numpy as np

import kernels
from autodiff.creation import as_tensor
from autodiff.function import Function
from autodiff.ops.elementwise import exp, where
from autodiff.ops.shape import broadcast_to
from autodiff.tensor import Tensor
from kernels.registry import array_module


def normalize_axis(axis, ndim: int):
    """`axis` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(out))


def kept_shape(shape, axes):
    """The shape of a reduction over `axes` with keepdims=True."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    """Sum over axes; with ``mean=True`` the mean (the sum times count(out)/count(in)), in one node."""

    def forward(self, x, axis=None, keepdims=False, mean=False):
        self.in_shape = x.shape
        self.kept = kept_shape(x.shape, normalize_axis(axis, x.ndim))
        out = x.sum(axis=axis, keepdims=keepdims)
        self.scale = None
        if mean:
            self.scale = (out.size / x.size) if x.size else float("nan")
            out = out * self.scale
        return out

    def backward(self, g):
        # every input element contributes once (times 1/n for a mean): g broadcast back over the summed axes
        g = g.reshape(self.kept)
        if self.scale is not None:
            g = g * self.scale
        return broadcast_to(g, self.in_shape)


class Extremum(Function):
    """max or min along axes; where several elements tie for the extremum, the gradient is split evenly."""

    def forward(self, x, axis=None, keepdims=False, largest=True):
        axes = normalize_axis(axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{'max' if largest else 'min'}: cannot reduce an empty tensor of shape {x.shape}")
        y = x.max(axis=axes, keepdims=True) if largest else x.min(axis=axes, keepdims=True)
        ties = x == y
        self.weight = (ties / ties.sum(axis=axes, keepdims=True)).astype(x.dtype)
        self.kept = y.shape
        return y if keepdims else y.reshape([s for i, s in enumerate(x.shape) if i not in axes])

    def backward(self, g):
        return g.reshape(self.kept) * self.weight


class LogSumExp(Function):
    def forward(self, x, axis=-1, keepdims=False):
        self.kept = kept_shape(x.shape, normalize_axis(axis, x.ndim))
        return kernels.logsumexp(x, axis=axis, keepdims=keepdims)

    def backward(self, g):
        (x,) = self.args
        lse = self.result.reshape(self.kept)
        finite = array_module(self.out).isfinite(self.out)
        if not finite.all():  # a row of −∞ (all masked out) gets exp(−∞ − 0) = 0, not exp(−∞ + ∞) = NaN
            lse = where(finite.reshape(self.kept), lse, 0)
        # ∂/∂x_i log Σ_j exp(x_j) = exp(x_i − logsumexp(x)) = softmax(x)_i
        return g.reshape(self.kept) * exp(x - lse)


class Softmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        return kernels.softmax(x, axis=axis)

    def backward(self, g):
        y = self.result
        if not isinstance(g, Tensor):
            return kernels.softmax_backward(g, y, self.axis)  # the line below, fused
        return y * (g - (g * y).sum(axis=self.axis, keepdims=True))  # ∂L/∂x = y ⊙ (g − Σ_j g_j y_j)


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        return kernels.log_softmax(x, axis=axis)

    def backward(self, g):
        y = self.result
        if not isinstance(g, Tensor):
            return kernels.log_softmax_backward(g, y, self.axis)  # the line below, fused
        return g - exp(y) * g.sum(axis=self.axis, keepdims=True)  # ∂L/∂x = g − softmax(x) Σ_j g_j, softmax = e^y


def mean(x, axis=None, keepdims=False):
    return Sum.apply(as_tensor(x), axis=axis, keepdims=keepdims, mean=True)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance Σ(x − x̄)² / (n − ddof); ddof=0 as NumPy (biased), ddof=1 for the unbiased estimate."""
    x = as_tensor(x)
    count = int(np.prod([x.shape[a] for a in normalize_axis(axis, x.ndim)]))
    centered = x - mean(x, axis, keepdims=True)
    # as NumPy: with count ≤ ddof the sum is divided by 0 (NaN or inf), not a ZeroDivisionError
    return (centered * centered).sum(axis=axis, keepdims=keepdims) * (1.0 / (count - ddof) if count > ddof else np.inf)
