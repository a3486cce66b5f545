"""+ − × ÷ **, negation and @: forward values, gradients and second derivatives against finite differences,
over random, 0-d, size-1, broadcast (rank-changing) and non-contiguous inputs, with scalars on either side."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import (
    NONZERO, POSITIVE, REAL, Case, arrays, broadcast_shapes, check_op, make_leaf, shapes, with_layouts,
)

# name -> (function of two tensors or arrays, elements of a, elements of b)
BINARY = {
    "add": (lambda a, b: a + b, REAL, REAL),
    "sub": (lambda a, b: a - b, REAL, REAL),
    "mul": (lambda a, b: a * b, REAL, REAL),
    "div": (lambda a, b: a / b, REAL, NONZERO),
    "pow": (lambda a, b: a**b, POSITIVE, REAL),  # a > 0: ∂aᵇ/∂b = aᵇ ln a exists
}


@st.composite
def binary_case(draw, name):
    fn, elements_a, elements_b = BINARY[name]
    shape_a, shape_b = draw(broadcast_shapes(2))
    a, b = draw(arrays(shape_a, elements_a)), draw(arrays(shape_b, elements_b))
    return Case(fn, [a, b], ref=fn, label=name)


# name -> (function of a tensor and a Python scalar, elements of x, the scalar)
SCALAR = {
    "x+s": (lambda x, s: x + s, REAL, REAL),
    "s+x": (lambda x, s: s + x, REAL, REAL),
    "x-s": (lambda x, s: x - s, REAL, REAL),
    "s-x": (lambda x, s: s - x, REAL, REAL),
    "x*s": (lambda x, s: x * s, REAL, REAL),
    "s*x": (lambda x, s: s * x, REAL, REAL),
    "x/s": (lambda x, s: x / s, REAL, NONZERO),
    "s/x": (lambda x, s: s / x, NONZERO, REAL),
    "x**s": (lambda x, s: x**s, POSITIVE, REAL),
    "s**x": (lambda x, s: s**x, REAL, POSITIVE),
    "x**int": (lambda x, s: x ** int(round(s)), REAL, st.integers(0, 3).map(float)),  # any sign of x
    "-x": (lambda x, s: -x, REAL, REAL),
}


@st.composite
def scalar_case(draw, name):
    fn, elements_x, elements_s = SCALAR[name]
    x = draw(arrays(draw(shapes()), elements_x))
    s = draw(elements_s)
    return Case(lambda t: fn(t, s), [x], ref=lambda a: fn(a, s), label=f"{name} with s={s}")


@st.composite
def matmul_case(draw):
    """2-D, 1-D on either side or both, and batched operands whose batch axes broadcast (ranks may differ)."""
    kind = draw(st.sampled_from(["mat-mat", "vec-vec", "vec-mat", "mat-vec", "batched", "vec-batched",
                                 "batched-vec"]))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(broadcast_shapes(2, max_dims=2, max_side=3))
    shape_a = {"vec-vec": (k,), "vec-mat": (k,), "vec-batched": (k,), "batched": batch_a + (n, k),
               "batched-vec": batch_a + (n, k)}.get(kind, (n, k))
    shape_b = {"vec-vec": (k,), "mat-vec": (k,), "batched-vec": (k,), "batched": batch_b + (k, m),
               "vec-batched": batch_b + (k, m)}.get(kind, (k, m))
    a, b = draw(arrays(shape_a)), draw(arrays(shape_b))
    return Case(lambda x, y: x @ y, [a, b], ref=np.matmul, label=f"matmul {kind}")


@st.composite
def linear_case(draw):
    """linear(x, W, b) = x Wᵀ + b: one node for 2-D x (with or without bias), a composition for other ranks."""
    lead = draw(st.sampled_from([(), (2,), (3,), (2, 3)]))
    n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x, w = draw(arrays(lead + (n_in,))), draw(arrays((n_out, n_in)))
    bias = draw(st.sampled_from(["none", "vector", "one"]))
    if bias == "none":
        return Case(lambda x_, w_: ad.linear(x_, w_), [x, w], ref=lambda a, b: a @ b.T, label=f"linear {lead}")
    b = draw(arrays((n_out,) if bias == "vector" else (1,)))
    return Case(lambda x_, w_, b_: ad.linear(x_, w_, b_), [x, w, b], ref=lambda a, c, d: a @ c.T + d,
                label=f"linear {lead} bias {b.shape}")


CASES = {**{name: binary_case(name) for name in BINARY}, **{name: scalar_case(name) for name in SCALAR},
         "matmul": matmul_case(), "linear": linear_case()}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_values_and_gradients(name, data):
    check_op(data.draw(with_layouts(CASES[name])))


@pytest.mark.parametrize("shape_a, shape_b", [((3, 1, 4), (5, 1)), ((), (2, 3)), ((2, 1), (1,)), ((1,), ()),
                                              ((4,), (3, 1)), ((1, 1, 1), (2,))])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_rank_changing_broadcasts(name, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 1.5, shape_a)
    b = rng.uniform(0.5, 1.5, shape_b)
    check_op(Case(BINARY[name][0], [a, b], ref=BINARY[name][0], label=name))


def test_broadcast_gradient_is_summed_over_broadcast_axes():
    a = ad.tensor(np.ones((3, 1, 4)), requires_grad=True)
    b = ad.tensor(np.arange(5.0).reshape(5, 1), requires_grad=True)
    (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1, 4), 10.0))  # Σ b = 10, once per output column
    np.testing.assert_array_equal(b.grad.data, np.full((5, 1), 12.0))  # 3 · 4 ones


def test_operand_appearing_twice():
    x = make_leaf(np.array([1.0, -2.0, 3.0]))
    (x * x + x / x - x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data - 1)


def test_matmul_of_two_vectors_is_a_scalar():
    a = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = ad.tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    out = a @ b
    assert out.shape == ()
    assert out.item() == 32.0
    out.backward()
    np.testing.assert_array_equal(a.grad.data, b.data)
    np.testing.assert_array_equal(b.grad.data, a.data)


def test_matmul_mixed_dtypes_promote_and_give_gradients_of_each_dtype():
    a = ad.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = ad.tensor(np.full((3, 4), 2.0), requires_grad=True)
    out = a @ b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, np.full((2, 3), 8.0))
    np.testing.assert_array_equal(b.grad.data, np.full((3, 4), 2.0))


@pytest.mark.parametrize("bias_shape", [(4,), (1,), ()])
def test_linear_bias_that_broadcasts(bias_shape):
    x = ad.tensor(np.ones((2, 3)), requires_grad=True)
    w = ad.tensor(np.ones((4, 3)), requires_grad=True)
    b = ad.tensor(np.ones(bias_shape), requires_grad=True)
    out = ad.linear(x, w, b)
    np.testing.assert_array_equal(out.data, np.full((2, 4), 4.0))
    out.sum().backward()
    np.testing.assert_array_equal(b.grad.data, np.full(bias_shape, 8.0 / np.prod(bias_shape or (1,))))
    np.testing.assert_array_equal(w.grad.data, np.full((4, 3), 2.0))


def test_linear_with_mixed_dtypes_gives_each_input_its_dtype():
    x = ad.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = ad.tensor(np.ones((4, 3)), requires_grad=True)
    b = ad.tensor(np.ones(4, np.float32), requires_grad=True)
    out = ad.linear(x, w, b)
    assert out.dtype == np.float64
    out.sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float32, np.float64, np.float32)
    np.testing.assert_array_equal(b.grad.data, [2.0, 2.0, 2.0, 2.0])


def test_matmul_with_arrays_on_either_side():
    w = ad.tensor(np.eye(2) * 3, requires_grad=True)
    x = np.array([[1.0, 2.0]])
    (x @ w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1.0, 1.0], [2.0, 2.0]])
    w.grad = None
    (w @ x.T).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [[1.0, 2.0], [1.0, 2.0]])


def test_pow_by_scalar_base_keeps_float32():
    x = ad.tensor(np.array([0.5, 1.0, 2.0], np.float32), requires_grad=True)
    y = 2.0**x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, np.log(2.0) * 2.0 ** x.data, rtol=1e-6)


def test_python_scalars_never_upcast_float32():
    x = ad.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    for out in (x + 1.5, 1.5 + x, x - 2, 2 - x, x * 0.1, 0.1 * x, x / 3.0, 3.0 / x, x**2, x**0.5, 2**x, -x):
        assert out.dtype == np.float32
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == np.float32


def test_division_values_and_gradients():
    a = ad.tensor(np.array([1.0, 6.0]), requires_grad=True)
    b = ad.tensor(np.array([2.0, -3.0]), requires_grad=True)
    (a / b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, -1 / 3])
    np.testing.assert_allclose(b.grad.data, [-1 / 4, -6 / 9])
