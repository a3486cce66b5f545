"""Hypothesis strategies and checking helpers shared by the autodiff tests.

- Element strategies keep inputs away from the kinks where finite differences fail (|x| at 0, ties of max,
  the bounds of clip, log and sqrt at 0); the kinks themselves are tested by exact values in the family files.
- `make_leaf` builds a leaf whose `.data` is a *non-contiguous view* (transposed, strided or reversed) with the
  same values as a given array: `Tensor()` copies its input, so the view is put in place afterwards.
- A `Case` is one op applied to drawn arrays; `check_gradients` runs `gradcheck` and `gradgradcheck` on it in
  float64 and `check_grad_dtypes` checks that float32 and float64 gradients have their input's shape and dtype.

Budget: shapes have at most 4 axes of at most 4 (most examples far smaller); gradients are checked in full
up to `gradcheck`'s `full_jacobian_limit` and along random directions above it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad

MAX_DIMS = 4
MAX_SIDE = 4

# -- elements --------------------------------------------------------------------------------------------
# no subnormals: they become 0 in float32, and the float32/float64 comparison would meet 0 · ∞
REAL = st.floats(-2.0, 2.0, allow_subnormal=False)
POSITIVE = st.floats(0.2, 3.0)  # log, sqrt, the base of a power: away from 0
NONZERO = st.floats(0.3, 2.0) | st.floats(-2.0, -0.3)  # denominators, abs, relu: away from the kink at 0


def away_from(*kinks, gap=0.05, low=-2.0, high=2.0):
    """Floats in [low, high] at least `gap` from every kink (clip bounds, ...)."""
    return st.floats(low, high, allow_subnormal=False).filter(lambda v: all(abs(v - k) > gap for k in kinks))


# two interleaved grids: a value from GRID_A never ties with one from GRID_B (they differ by ≥ 0.125)
GRID_A = st.integers(-8, 8).map(lambda k: k * 0.25)
GRID_B = st.integers(-8, 8).map(lambda k: k * 0.25 + 0.125)
# distinct values at least 0.1 apart (with unique=True): max/min never tie
DISTINCT = st.integers(-300, 300).map(lambda k: k / 10)


# -- shapes ----------------------------------------------------------------------------------------------
def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_shapes(num_shapes=2, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """Mutually broadcastable shapes (ranks may differ, as (3, 1, 4) with (5, 1)): a tuple of shapes."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=0, max_dims=max_dims,
                                             max_side=max_side).map(lambda s: s.input_shapes)


def arrays(shape, elements=REAL, unique=False):
    return hnp.arrays(np.float64, shape, elements=elements, unique=unique)


def axes(ndim):
    """Anything a reduction accepts as `axis`: None, an int (negative too) or a tuple of distinct axes."""
    options = st.none() | hnp.valid_tuple_axes(ndim)
    if ndim:
        options = options | st.integers(-ndim, ndim - 1)
    return options


@st.composite
def expanded_shapes(draw, shape, allow_minus_one=False):
    """A shape that `shape` broadcasts to: new leading axes, and size-1 axes grown (-1 keeps a size)."""
    lead = draw(st.lists(st.integers(1, 3), max_size=max(0, MAX_DIMS - len(shape))))
    rest = []
    for s in shape:
        if s == 1:
            rest.append(draw(st.integers(1, 3)))
        else:
            rest.append(-1 if allow_minus_one and draw(st.booleans()) else s)
    return tuple(lead) + tuple(rest)


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@st.composite
def reshape_targets(draw, shape):
    """A shape with as many elements as `shape`, possibly with one -1."""
    n = math.prod(shape)
    factors = _prime_factors(n)
    k = draw(st.integers(0 if n == 1 else 1, MAX_DIMS))
    dims = [1] * k
    for f in factors:
        dims[draw(st.integers(0, k - 1))] *= f
    if k and draw(st.booleans()):
        dims[draw(st.integers(0, k - 1))] = -1
    return tuple(dims)


# -- leaves, contiguous or not ------------------------------------------------------------------------------
LAYOUTS = ("contiguous", "transposed", "strided", "reversed")
layouts = st.sampled_from(LAYOUTS)


def as_layout(array, layout):
    """A view with `array`'s values in the given memory layout (non-contiguous unless "contiguous" or the
    array is too small to be anything else)."""
    array = np.asarray(array)
    if layout == "transposed" and array.ndim >= 2:
        return np.ascontiguousarray(array.T).T
    if layout == "strided" and array.ndim >= 1:
        base = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
        base[..., ::2] = array
        return base[..., ::2]
    if layout == "reversed" and array.ndim >= 1:
        return array[::-1].copy()[::-1]
    return array.copy()


def make_leaf(array, layout="contiguous", requires_grad=True, dtype=None):
    """A leaf tensor whose `.data` is `array` (cast to `dtype`) in the given layout, not a contiguous copy."""
    array = np.asarray(array, dtype=dtype)
    view = as_layout(array, layout)
    t = ad.tensor(view, requires_grad=requires_grad)  # Tensor() copies: put the view in place afterwards
    t.data = view
    return t


# -- cases: an op applied to drawn inputs -------------------------------------------------------------------
@dataclass
class Case:
    """`fn` applied to leaves holding `arrays`; `ref` computes the same forward value with NumPy alone."""

    fn: Callable
    arrays: list
    ref: Callable | None = None
    label: str = ""
    layouts: list = field(default_factory=list)

    def leaves(self, dtype=np.float64):
        lays = self.layouts or ["contiguous"] * len(self.arrays)
        return [make_leaf(a, lay, dtype=dtype) for a, lay in zip(self.arrays, lays)]


@st.composite
def with_layouts(draw, case_strategy):
    case = draw(case_strategy)
    case.layouts = [draw(layouts) for _ in case.arrays]
    note(f"case {case.label}: shapes {[a.shape for a in case.arrays]}, layouts {case.layouts}")
    return case


def check_forward(case):
    """The forward value equals the NumPy reference (float64)."""
    out = case.fn(*case.leaves())
    expected = np.asarray(case.ref(*case.arrays))
    assert out.shape == expected.shape, f"{case.label}: shape {out.shape}, NumPy gives {expected.shape}"
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def check_op(case, second_order=True, **tolerances):
    """Everything one op must satisfy on one drawn case: forward value, first and second derivatives against
    finite differences, gradient shapes and dtypes in float32 and float64."""
    if case.ref is not None:
        check_forward(case)
    check_gradients(case, second_order, **tolerances)
    check_grad_dtypes(case)


def check_gradients(case, second_order=True, **tolerances):
    """gradcheck (and gradgradcheck) of the case in float64, on its (possibly non-contiguous) leaves."""
    inputs = case.leaves()
    before = [t.data.copy() for t in inputs]
    assert ad.gradcheck(case.fn, inputs, **tolerances)
    if second_order:
        assert ad.gradgradcheck(case.fn, inputs, **tolerances)
    for t, b in zip(inputs, before):  # gradcheck restores what it perturbed
        np.testing.assert_array_equal(t.data, b)


def backward_grads(case, dtype, upstream_seed=0):
    inputs = case.leaves(dtype)
    out = case.fn(*inputs)
    upstream = np.random.default_rng(upstream_seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(upstream)
    return inputs, out


def check_grad_dtypes(case):
    """Each input's gradient has the input's shape and dtype in float32 and float64, and they agree."""
    results = {}
    for dtype in (np.float32, np.float64):
        inputs, out = backward_grads(case, dtype)
        assert out.dtype == dtype, f"{case.label}: output dtype {out.dtype} for {np.dtype(dtype)} inputs"
        for t in inputs:
            assert t.grad is not None
            assert type(t.grad.data) is np.ndarray
            assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
        results[dtype] = [t.grad.data for t in inputs]
    for g32, g64 in zip(results[np.float32], results[np.float64]):
        scale = 1.0 + float(np.max(np.abs(g64), initial=0.0))
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3 * scale)
