"""Reductions and the softmax family: sum, mean, max, min, var (axis None / int / negative / tuple, keepdims),
logsumexp, softmax, log_softmax. Max and min draw distinct values (no ties: finite differences are wrong
there); ties are checked by exact values below."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import DISTINCT, Case, arrays, axes, check_op, shapes, with_layouts


def _np_logsumexp(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _np_softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _count(shape, axis):
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in ((axis,) if isinstance(axis, int) else axis))


@st.composite
def reduction_case(draw, name):
    distinct = name in ("max", "min")
    shape = draw(shapes(max_dims=3)) if distinct else draw(shapes())
    x = draw(arrays(shape, DISTINCT, unique=True)) if distinct else draw(arrays(shape))
    axis = draw(axes(len(shape)))
    keepdims = draw(st.booleans())
    label = f"{name}(axis={axis}, keepdims={keepdims})"
    if name == "var":
        ddof = draw(st.sampled_from([0, 1])) if _count(shape, axis) > 1 else 0
        return Case(lambda t: t.var(axis=axis, keepdims=keepdims, ddof=ddof), [x],
                    ref=lambda a: np.var(a, axis=axis, keepdims=keepdims, ddof=ddof), label=f"{label} ddof={ddof}")
    if name == "logsumexp":
        return Case(lambda t: ad.logsumexp(t, axis=axis, keepdims=keepdims), [x],
                    ref=lambda a: _np_logsumexp(a, axis, keepdims), label=label)
    fn = {"sum": ad.sum, "max": ad.max, "min": ad.min, "mean": ad.mean}[name]
    ref = {"sum": np.sum, "max": np.max, "min": np.min, "mean": np.mean}[name]
    return Case(lambda t: fn(t, axis=axis, keepdims=keepdims), [x],
                ref=lambda a: ref(a, axis=axis, keepdims=keepdims), label=label)


@st.composite
def softmax_case(draw, name):
    shape = draw(shapes(min_dims=1))
    x = draw(arrays(shape, st.floats(-5, 5)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    if name == "softmax":
        return Case(lambda t: ad.softmax(t, axis=axis), [x], ref=lambda a: _np_softmax(a, axis),
                    label=f"softmax(axis={axis})")
    return Case(lambda t: t.log_softmax(axis=axis), [x], ref=lambda a: np.log(_np_softmax(a, axis)),
                label=f"log_softmax(axis={axis})")


@st.composite
def method_case(draw, name):
    """The Tensor methods (x.sum(...), x.max(...), ...) agree with NumPy's methods and have gradients."""
    shape = draw(shapes(max_dims=3))
    x = draw(arrays(shape, DISTINCT, unique=True))
    axis = draw(axes(len(shape)))
    if name == "std" and _count(shape, axis) < 2:
        axis = None  # the std of one element is 0, where √ has its kink
        x = np.append(x.ravel(), 100.0) if x.size == 1 else x
    return Case(lambda t: getattr(t, name)(axis=axis), [x], ref=lambda a: getattr(a, name)(axis=axis),
                label=f"x.{name}(axis={axis})")


CASES = {**{name: reduction_case(name) for name in ("sum", "mean", "max", "min", "var", "logsumexp")},
         **{name: softmax_case(name) for name in ("softmax", "log_softmax")},
         **{f"method-{name}": method_case(name) for name in ("sum", "mean", "max", "min", "std")}}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_values_and_gradients(name, data):
    check_op(data.draw(with_layouts(CASES[name])))


# -- exact values -----------------------------------------------------------------------------------------
def test_max_ties_split_the_gradient_evenly():
    x = ad.tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    out = x.max()
    assert out.item() == 3.0
    out.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


def test_min_ties_split_the_gradient_evenly_per_row():
    x = ad.tensor(np.array([[2.0, 1.0, 1.0, 1.0], [0.0, 4.0, 0.0, 5.0]]), requires_grad=True)
    out = ad.min(x, axis=1)
    np.testing.assert_array_equal(out.data, [1.0, 0.0])
    (out * ad.tensor(np.array([3.0, 1.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 1.0, 1.0], [0.5, 0.0, 0.5, 0.0]])


def test_max_over_several_axes_with_keepdims():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = x.max(axis=(0, 2), keepdims=True)
    assert out.shape == (1, 3, 1)
    np.testing.assert_array_equal(out.data.ravel(), [15.0, 19.0, 23.0])
    out.sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[1, :, 3] = 1.0
    np.testing.assert_array_equal(x.grad.data, expected)


def test_max_of_an_empty_tensor_is_an_error():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        ad.max(ad.tensor(np.zeros(0)))


def test_mean_and_var_gradients():
    x = ad.tensor(np.array([1.0, 2.0, 6.0]), requires_grad=True)
    x.mean().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(3, 1 / 3))
    x.grad = None
    v = x.var(ddof=1)
    assert v.item() == pytest.approx(7.0)  # mean 3, squares 4 + 1 + 9 = 14, / (3 − 1)
    v.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (x.data - 3.0) / 2)


def test_var_with_no_degrees_of_freedom_is_nan_or_inf_as_in_numpy():
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(ad.tensor([1.0]).var(ddof=1).item())  # 0 / 0
        assert ad.tensor([1.0, 2.0]).var(ddof=2).item() == np.inf  # 0.5 / 0


def test_logsumexp_with_minus_infinity():
    x = ad.tensor(np.array([[-np.inf, 0.0], [-np.inf, -np.inf]]), requires_grad=True)
    with np.errstate(divide="ignore"):  # log 0 = −∞ for the row with nothing in it
        out = ad.logsumexp(x, axis=1)
    np.testing.assert_array_equal(out.data, [0.0, -np.inf])
    out[0].backward(retain_graph=True)  # the empty row gets gradient 0 and makes nothing NaN
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0], [0.0, 0.0]])
    x.grad = None
    out.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0], [0.0, 0.0]])


def test_logsumexp_over_all_axes_is_a_scalar():
    x = ad.tensor(np.log(np.array([[1.0, 2.0], [3.0, 4.0]])), requires_grad=True)
    out = ad.logsumexp(x, axis=None)
    assert out.shape == () and out.item() == pytest.approx(np.log(10.0))
    out.backward()
    np.testing.assert_allclose(x.grad.data, [[0.1, 0.2], [0.3, 0.4]])


def test_softmax_rows_sum_to_one_and_gradient_of_their_sum_is_zero():
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    y = ad.softmax(x, axis=0)
    np.testing.assert_allclose(y.data.sum(axis=0), np.ones(4))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.zeros((3, 4)), atol=1e-15)


def test_reductions_keep_float32():
    x = ad.tensor(np.array([[1.0, 2.0], [3.0, 5.0]], np.float32), requires_grad=True)
    for out in (x.sum(), x.mean(axis=0), x.var(), x.std(axis=1), x.max(), x.min(axis=1), ad.logsumexp(x),
                ad.softmax(x), ad.log_softmax(x, axis=0)):
        assert out.dtype == np.float32
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == np.float32
