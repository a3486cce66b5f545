"""Elementwise functions: exp, log, sqrt, abs, tanh, sigmoid, relu, softplus, clip, maximum, minimum, where.

Random inputs stay away from the kinks (finite differences are wrong there); the kinks are checked by exact
values below: relu'(0) = 0, |x|'(0) = 0, clip passes the gradient on its bounds, ties split evenly.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import (
    GRID_A, GRID_B, NONZERO, POSITIVE, REAL, Case, arrays, away_from, broadcast_shapes, check_op, shapes,
    with_layouts,
)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# name -> (autodiff function, NumPy reference, elements)
UNARY = {
    "exp": (ad.exp, np.exp, REAL),
    "log": (ad.log, np.log, POSITIVE),
    "sqrt": (ad.sqrt, np.sqrt, POSITIVE),
    "abs": (ad.abs, np.abs, NONZERO),
    "tanh": (ad.tanh, np.tanh, st.floats(-4, 4)),
    "sigmoid": (ad.sigmoid, _sigmoid, st.floats(-6, 6)),
    "relu": (ad.relu, lambda x: np.maximum(x, 0), NONZERO),
    "softplus": (ad.softplus, lambda x: np.log1p(np.exp(x)), st.floats(-6, 6)),
    "clip": (lambda x: ad.clip(x, -0.5, 0.75), lambda x: np.clip(x, -0.5, 0.75), away_from(-0.5, 0.75)),
    "clip-low": (lambda x: x.clip(low=-0.5), lambda x: np.maximum(x, -0.5), away_from(-0.5)),
    "clip-high": (lambda x: x.clamp(high=0.25), lambda x: np.minimum(x, 0.25), away_from(0.25)),
}


@st.composite
def unary_case(draw, name):
    fn, ref, elements = UNARY[name]
    return Case(fn, [draw(arrays(draw(shapes()), elements))], ref=ref, label=name)


# maximum/minimum: a from one grid and b from the other never tie; where: a random condition
BINARY = {
    "maximum": (ad.maximum, np.maximum),
    "minimum": (ad.minimum, np.minimum),
}


@st.composite
def extremum_case(draw, name):
    fn, ref = BINARY[name]
    shape_a, shape_b = draw(broadcast_shapes(2))
    a, b = draw(arrays(shape_a, GRID_A)), draw(arrays(shape_b, GRID_B))
    if draw(st.booleans()):
        a, b = b, a
    return Case(fn, [a, b], ref=ref, label=name)


@st.composite
def extremum_scalar_case(draw, name):
    fn, ref = BINARY[name]
    x, s = draw(arrays(draw(shapes()), GRID_A)), draw(GRID_B)
    if draw(st.booleans()):
        return Case(lambda t: fn(t, s), [x], ref=lambda a: ref(a, s), label=f"{name}(x, {s})")
    return Case(lambda t: fn(s, t), [x], ref=lambda a: ref(s, a), label=f"{name}({s}, x)")


@st.composite
def where_case(draw):
    shape_c, shape_a, shape_b = draw(broadcast_shapes(3))
    condition = draw(arrays(shape_c, st.booleans()).map(lambda c: c.astype(bool)))
    a, b = draw(arrays(shape_a)), draw(arrays(shape_b))
    return Case(lambda x, y: ad.where(condition, x, y), [a, b], ref=lambda x, y: np.where(condition, x, y),
                label="where")


@st.composite
def where_scalar_case(draw):
    x = draw(arrays(draw(shapes())))
    condition = x > 0.5
    s = draw(REAL)
    if draw(st.booleans()):
        return Case(lambda t: ad.where(condition, t, s), [x], ref=lambda a: np.where(condition, a, s),
                    label="where(c, x, s)")
    return Case(lambda t: ad.where(ad.tensor(condition), s, t), [x], ref=lambda a: np.where(condition, s, a),
                label="where(c, s, x)")


CASES = {**{name: unary_case(name) for name in UNARY},
         **{name: extremum_case(name) for name in BINARY},
         **{f"{name}-scalar": extremum_scalar_case(name) for name in BINARY},
         "where": where_case(), "where-scalar": where_scalar_case()}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_values_and_gradients(name, data):
    check_op(data.draw(with_layouts(CASES[name])))


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus"])
def test_methods_equal_functions(name):
    x = ad.tensor(np.array([0.3, 1.7, 2.5]), requires_grad=True)
    np.testing.assert_array_equal(getattr(x, name)().data, getattr(ad, name)(x).data)


# -- the kinks, by exact values ----------------------------------------------------------------------------
def _grad(fn, values, dtype=np.float64):
    x = ad.tensor(np.array(values, dtype=dtype), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.data


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(ad.relu, [-1.0, 0.0, -0.0, 2.0]), [0.0, 0.0, 0.0, 1.0])


def test_relu_of_infinities():
    np.testing.assert_array_equal(ad.relu(ad.tensor([-np.inf, np.inf])).data, [0.0, np.inf])


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(ad.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])


def test_clip_passes_the_gradient_on_its_bounds_and_stops_it_outside():
    grad = _grad(lambda x: ad.clip(x, -1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(grad, [0.0, 1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("fn", [ad.maximum, ad.minimum])
def test_maximum_and_minimum_split_ties_evenly(fn):
    a = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = ad.tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    fn(a, b).sum().backward()
    first = [0.5, 0.0, 1.0] if fn is ad.maximum else [0.5, 1.0, 0.0]
    np.testing.assert_array_equal(a.grad.data, first)
    np.testing.assert_array_equal(b.grad.data, 1 - np.array(first))


def test_maximum_of_a_tensor_with_itself_gives_the_whole_gradient():
    x = ad.tensor(np.array([1.0, -2.0]), requires_grad=True)
    ad.maximum(x, x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_maximum_ties_with_a_broadcast_scalar_sum_the_halves():
    x = ad.tensor(np.array([2.0, 2.0, 1.0]), requires_grad=True)
    s = ad.tensor(np.array(2.0), requires_grad=True)
    ad.maximum(x, s).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.5, 0.0])
    assert s.grad.shape == () and s.grad.item() == 2.0


def test_sqrt_and_log_at_zero():
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(_grad(ad.sqrt, [0.0, 4.0]), [np.inf, 0.25])
        assert ad.log(ad.tensor([0.0])).data[0] == -np.inf


def test_sigmoid_and_softplus_do_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        x = ad.tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
        np.testing.assert_array_equal(ad.sigmoid(x).data, [0.0, 0.5, 1.0])
        np.testing.assert_array_equal(ad.softplus(x).data, [0.0, np.log(2.0), 1000.0])
        (ad.sigmoid(x) + ad.softplus(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.75, 1.0])


def test_where_sends_the_gradient_to_the_chosen_side_only():
    a = ad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = ad.tensor(np.array(10.0), requires_grad=True)
    condition = ad.tensor(np.array([True, False, True]))
    out = ad.where(condition, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 10.0, 3.0])
    (out * ad.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 3.0])
    assert b.grad.shape == () and b.grad.item() == 2.0


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "softplus", "relu", "abs"])
def test_float32_stays_float32(name):
    x = ad.tensor(np.array([-1.5, 0.5, 2.0], np.float32), requires_grad=True)
    out = getattr(ad, name)(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_clip_and_where_with_python_numbers_keep_float32():
    x = ad.tensor(np.array([-1.5, 0.5, 2.0], np.float32), requires_grad=True)
    for out in (ad.clip(x, -1.0, 1.0), ad.where(x.data > 0, x, 0.0), ad.maximum(x, 0.0), ad.minimum(1, x)):
        assert out.dtype == np.float32
        x.grad = None
        out.sum().backward()
        assert x.grad.dtype == np.float32
