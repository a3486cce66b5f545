"""Reductions and the softmax family: sum, max/min (ties split evenly), logsumexp, softmax, log-softmax.

The softmax family calls the kernel registry (`kernels.softmax`, ...) so that a GPU kernel can replace the
NumPy reference; under ``create_graph=True`` their backward rules are compositions of differentiable ops.
"""

from __future__ import annotations

import kernels
from autodiff.function import Function
from autodiff.ops.elementwise import _xp


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
        return self.ops.broadcast_to(g, self.in_shape)


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
        finite = _xp(self.out).isfinite(self.out)
        if not finite.all():  # a row of −∞ (all masked out) gets exp(−∞ − 0) = 0, not exp(−∞ + ∞) = NaN
            lse = self.ops.where(finite.reshape(self.kept), lse, 0)
        # ∂/∂x_i log Σ_j exp(x_j) = exp(x_i − logsumexp(x)) = softmax(x)_i
        return g.reshape(self.kept) * self.ops.exp(x - lse)


class Softmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        return kernels.softmax(x, axis=axis)

    def backward(self, g):
        return self.ops.softmax_backward(g, self.result, self.axis)


class LogSoftmax(Function):
    def forward(self, x, axis=-1):
        self.axis = axis
        return kernels.log_softmax(x, axis=axis)

    def backward(self, g):
        return self.ops.log_softmax_backward(g, self.result, self.axis)


# compositions used by the rules above when the backward pass is itself recorded (create_graph=True)
def softmax_backward(g, y, axis=-1):
    return y * (g - (g * y).sum(axis=axis, keepdims=True))  # y ⊙ (g − Σ g y)


def log_softmax_backward(g, y, axis=-1):
    from autodiff.ops.elementwise import Exp

    return g - Exp.apply(y) * g.sum(axis=axis, keepdims=True)  # g − softmax · Σ g
