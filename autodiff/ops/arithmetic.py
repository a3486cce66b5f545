"""Arithmetic and matrix product: the chain-rule table for + − × ÷ ** and @ (book ch. 1.6.1).

Each backward rule returns ∂L/∂input for every input, given g = ∂L/∂output. Broadcasting never appears
here: `Function.broadcasts` routes broadcast inputs through explicit `broadcast_to` nodes first.
"""

from __future__ import annotations

import numbers

import numpy as np

import kernels
from autodiff.creation import as_tensor
from autodiff.function import Function
from autodiff.ops.elementwise import log, where
from autodiff.ops.shape import cast, sum_to
from autodiff.tensor import Tensor


class Add(Function):
    broadcasts = True

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g  # ∂(a + b)/∂a = ∂(a + b)/∂b = 1


class Sub(Function):
    broadcasts = True

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, -g


class Mul(Function):
    broadcasts = True

    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.args
        return g * b, g * a  # ∂(ab)/∂a = b, ∂(ab)/∂b = a


class Div(Function):
    broadcasts = True

    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.args
        ga = g / b if self.needs[0] else None  # ∂(a/b)/∂a = 1/b
        gb = -g * self.result / b if self.needs[1] else None  # ∂(a/b)/∂b = −a/b² = −(a/b)/b
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    broadcasts = True

    def forward(self, a, b):
        return a**b

    def backward(self, g):
        a, b = self.args
        constant_b = isinstance(b, numbers.Number)
        if not self.needs[0]:
            ga = None
        elif constant_b and b == 0:
            ga = g * 0  # a⁰ = 1, also where a⁻¹ overflows (b a⁻¹ would give 0 · ∞ = NaN)
        else:
            ga = g * b * a ** (b - 1)  # ∂aᵇ/∂a = b aᵇ⁻¹
            if not constant_b:
                ga = where((b == 0) & (a == 0), 0, ga)  # at 0⁰ the limit 0, not NaN
        gb = None
        if self.needs[1]:
            # ln of a Python-number base as a Python float: a NumPy float64 would upcast float32
            log_a = float(np.log(a)) if isinstance(a, numbers.Number) else log(a)
            gb = g * self.result * log_a  # ∂aᵇ/∂b = aᵇ ln a
        return ga, gb


class MatMul(Function):
    """a @ b for arrays of rank ≥ 2 whose leading (batch) axes broadcast; 1-D operands are promoted by
    `matmul` before reaching here, as NumPy does."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return kernels.matmul(a, b)

    def backward(self, g):
        a, b = self.args
        product = matmul if isinstance(g, Tensor) else kernels.matmul  # recorded, or the chosen kernel
        # z = a b:  ∂L/∂a = g bᵀ,  ∂L/∂b = aᵀ g  (summed over broadcast batch axes)
        ga = sum_to(product(g, b.swapaxes(-1, -2)), self.shapes[0]) if self.needs[0] else None
        gb = sum_to(product(a.swapaxes(-1, -2), g), self.shapes[1]) if self.needs[1] else None
        return ga, gb

    @staticmethod
    def explain_error(arrays):
        a, b = (np.shape(x) for x in arrays)
        return f"matmul: shapes {tuple(a)} and {tuple(b)} are not aligned"


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D operands are promoted to matrices and the added axis removed."""
    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim >= 2 and b.data.ndim >= 2 and a.data.dtype == b.data.dtype:
        return MatMul.apply(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:  # name the shapes given, not the promoted ones
        raise ValueError(MatMul.explain_error([a.data, b.data]))
    if a.dtype != b.dtype:  # promote through cast nodes, so that each gradient comes back in its input's dtype
        dtype = np.result_type(a.dtype, b.dtype)
        a, b = cast(a, dtype), cast(b, dtype)
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul.apply(a, b)
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    out = MatMul.apply(a2, b2)
    if a.ndim == 1:  # drop the added row axis first, then the added column axis: 1-D @ 1-D is 0-d
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = out.reshape(out.shape[:-1])
    return out
