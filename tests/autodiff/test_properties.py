"""Properties of the whole system rather than of one op: sum_to is the adjoint of broadcast_to, backward is
linear in the upstream gradient, random programs with shared intermediates (fan-out, diamonds) pass
gradcheck, dtypes are preserved end to end, the softmax family is stable and shift-invariant."""

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import REAL, arrays, expanded_shapes, make_leaf, shapes

# -- sum_to and broadcast_to are adjoint -------------------------------------------------------------------


@st.composite
def adjoint_pair(draw):
    small = draw(shapes(max_dims=3))
    big = draw(expanded_shapes(small))
    return draw(arrays(small)), draw(arrays(big))


@given(pair=adjoint_pair())
def test_sum_to_is_the_adjoint_of_broadcast_to(pair):
    """⟨broadcast_to(x), y⟩ = ⟨x, sum_to(y)⟩, and the gradient of broadcast_to is sum_to."""
    x, y = pair
    broadcast = ad.broadcast_to(ad.tensor(x), y.shape).data
    summed = ad.sum_to(ad.tensor(y), x.shape).data
    assert summed.shape == x.shape
    np.testing.assert_allclose(np.sum(broadcast * y), np.sum(x * summed), rtol=1e-12, atol=1e-12)
    t = ad.tensor(x, requires_grad=True)
    (g,) = ad.grad(ad.dot(ad.broadcast_to(t, y.shape), ad.tensor(y)), t)
    np.testing.assert_allclose(g.data, summed, rtol=1e-12, atol=1e-12)


# -- random programs --------------------------------------------------------------------------------------
# every shape broadcasts to (2, 3), so any two values of a program combine
PROGRAM_SHAPES = [(2, 3), (2, 1), (3,), ()]
UNARY = {
    "tanh": ad.tanh, "sigmoid": ad.sigmoid, "softplus": ad.softplus, "neg": lambda x: -x,
    "square": lambda x: x * x, "scale": lambda x: 0.7 * x, "exp-tanh": lambda x: ad.exp(ad.tanh(x)),
    "softmax": lambda x: ad.softmax(x, axis=-1) if x.ndim else x,
    "sum-keep": lambda x: x.sum(axis=-1, keepdims=True) if x.ndim else x,
    "cube": lambda x: x**3, "smooth-abs": lambda x: ad.sqrt(x * x + 1.0),
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.5 + b * b), "logaddexp": lambda a, b: ad.log(ad.exp(a) + ad.exp(b)),
}


@st.composite
def programs(draw):
    """A few inputs and a few steps, each an op on earlier values (inputs or results): reuse makes fan-out
    and diamonds. Returns (inputs as arrays, the program as a function of tensors, its text)."""
    n_inputs = draw(st.integers(1, 3))
    inputs = [draw(arrays(draw(st.sampled_from(PROGRAM_SHAPES)), st.floats(-1.5, 1.5))) for _ in range(n_inputs)]
    steps = []
    for k in range(draw(st.integers(1, 6))):
        available = n_inputs + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, available - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, available - 1)),
                          draw(st.integers(0, available - 1))))
    outputs = sorted(set(draw(st.lists(st.integers(0, n_inputs + len(steps) - 1), max_size=2))) |
                     {n_inputs + len(steps) - 1})

    def run(*xs):
        values = list(xs)
        for name, *args in steps:
            op = UNARY.get(name) or BINARY[name]
            values.append(op(*(values[i] for i in args)))
        out = values[outputs[0]]
        for i in outputs[1:]:
            out = out + values[i] * 0.5
        return ad.broadcast_to(out, (2, 3))  # a vector output, whatever the shapes met on the way

    text = f"inputs {[x.shape for x in inputs]}; steps {steps}; outputs {outputs}"
    return inputs, run, text


@given(program=programs(), layout=st.sampled_from(["contiguous", "transposed", "reversed"]))
def test_random_programs_pass_gradcheck_and_gradgradcheck(program, layout):
    arrays_, run, text = program
    note(text)
    inputs = [make_leaf(a, layout) for a in arrays_]
    assert ad.gradcheck(run, inputs)
    assert ad.gradgradcheck(run, inputs)


@given(program=programs(), a=REAL, b=REAL, seed=st.integers(0, 2**32 - 1))
def test_backward_is_linear_in_the_upstream_gradient(program, a, b, seed):
    arrays_, run, text = program
    note(text)
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def grads(upstream):
        inputs = [ad.tensor(x, requires_grad=True) for x in arrays_]
        got = ad.grad(run(*inputs), inputs, grad_outputs=upstream, allow_unused=True)
        return [np.zeros(x.shape) if g is None else g.data for g, x in zip(got, arrays_)]

    for combined, gu, gv in zip(grads(a * u + b * v), grads(u), grads(v)):
        np.testing.assert_allclose(combined, a * gu + b * gv, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(program=programs())
def test_dtype_is_preserved_end_to_end(dtype, program):
    """Every intermediate value, the output and every gradient keep the inputs' dtype (Python scalars never
    upcast float32; float64 is never rounded down)."""
    arrays_, run, text = program
    note(text)
    inputs = [ad.tensor(x.astype(dtype), requires_grad=True) for x in arrays_]
    seen = []
    original = ad.Function.apply.__func__

    def recording_apply(cls, *args, **params):
        out = original(cls, *args, **params)
        seen.append((cls.__name__, out.dtype))
        return out

    ad.Function.apply = classmethod(recording_apply)
    try:
        out = run(*inputs)
    finally:
        ad.Function.apply = classmethod(original)
    assert all(d == dtype for _, d in seen), seen
    out.backward(np.ones((2, 3), dtype))
    for t in inputs:
        assert t.grad is None or (t.grad.dtype == dtype and t.grad.shape == t.shape)


# -- the softmax family: stable and shift-invariant ----------------------------------------------------------
def test_softmax_family_at_1e4_is_finite_and_correct():
    x = ad.tensor(np.array([1e4, 0.0, -1e4]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        np.testing.assert_array_equal(ad.softmax(x).data, [1.0, 0.0, 0.0])
        np.testing.assert_array_equal(ad.log_softmax(x).data, [0.0, -1e4, -2e4])
        assert ad.logsumexp(x).item() == 1e4
        assert ad.logsumexp(ad.tensor(np.array([1e4, 1e4]))).item() == pytest.approx(1e4 + np.log(2.0), rel=1e-15)
        assert ad.logsumexp(ad.tensor(np.array([-1e4, -1e4]))).item() == pytest.approx(-1e4 + np.log(2.0))
        (ad.log_softmax(x) * ad.tensor(np.array([0.0, 1.0, 0.0]))).sum().backward()  # −log p₁ ... gradient
        np.testing.assert_array_equal(x.grad.data, [-1.0, 1.0, 0.0])  # onehot − softmax
        x.grad = None
        (ad.softmax(x) * ad.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])  # saturated
        x.grad = None
        ad.logsumexp(-x).backward()
        np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, -1.0])


@given(x=arrays(st.integers(1, 5).map(lambda n: (2, n)), st.floats(-1e4, 1e4)))
def test_softmax_family_stays_finite_for_large_logits(x):
    t = ad.tensor(x, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        y = ad.softmax(t, axis=1)
        ls = ad.log_softmax(t, axis=1)
        lse = ad.logsumexp(t, axis=1)
        (y.sum() + ls.sum() + lse.sum()).backward()
    for v in (y, ls, lse, t.grad):
        assert np.all(np.isfinite(v.data))
    np.testing.assert_allclose(y.data.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(ls.data), y.data, atol=1e-300)
    np.testing.assert_allclose(lse.data, x.max(axis=1) + np.log(np.exp(x - x.max(axis=1, keepdims=True)).sum(1)))


@given(x=arrays(st.integers(1, 5).map(lambda n: (3, n))), c=st.floats(-1e3, 1e3), w=arrays((3, 5)))
def test_softmax_family_is_shift_invariant(x, c, w):
    weights = ad.tensor(w[:, : x.shape[1]])
    results = []
    for shift in (0.0, c):
        t = ad.tensor(x + shift, requires_grad=True)
        y, ls, lse = ad.softmax(t), ad.log_softmax(t), ad.logsumexp(t)
        ((y * weights).sum() + (ls * weights).sum()).backward()
        results.append((y.data, ls.data, lse.data - shift, t.grad.data))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * (1 + abs(c)))
