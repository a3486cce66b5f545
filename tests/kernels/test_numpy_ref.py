"""Every numpy_ref kernel against an independent, straightforward computation: loops, Python's math, finite
differences, textbook optimizer updates, brute-force sums. Inputs include non-contiguous views and float32."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels import numpy_ref as ref

SEEDS = st.integers(0, 2**32 - 1)


def strided(a):
    """The same values in a non-contiguous view (every other column of a wider array)."""
    base = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    base[..., ::2] = a
    return base[..., ::2]


# -- matmul --------------------------------------------------------------------------------------------------
def loop_matmul(a, b):
    n, k = a.shape
    m = b.shape[1]
    return np.array([[math.fsum(a[i, p] * b[p, j] for p in range(k)) for j in range(m)] for i in range(n)])


@given(seed=SEEDS, n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), transposed=st.booleans())
def test_matmul_against_a_loop(seed, n, k, m, transposed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    if transposed:
        a = np.ascontiguousarray(a.T).T
    np.testing.assert_allclose(ref.matmul(a, b), loop_matmul(a, b), rtol=1e-12, atol=1e-12)


def test_matmul_batched_with_broadcast_batch_axes():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    out = ref.matmul(a, b)
    assert out.shape == (2, 5, 3, 2)
    for i in range(2):
        for j in range(5):
            np.testing.assert_allclose(out[i, j], loop_matmul(a[i, 0], b[j]), rtol=1e-12, atol=1e-12)


def test_matmul_keeps_float32():
    a = np.ones((2, 3), np.float32)
    assert ref.matmul(a, a.T).dtype == np.float32


# -- logsumexp, softmax, log_softmax ------------------------------------------------------------------------
def math_logsumexp(row):
    finite = [v for v in row if v != -math.inf]
    if not finite:
        return -math.inf
    m = max(finite)
    return m + math.log(math.fsum(math.exp(v - m) for v in finite))


rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                  elements=st.floats(-30, 30) | st.just(-math.inf))


@given(x=rows, keepdims=st.booleans())
def test_logsumexp_against_math_including_minus_infinity_rows(x, keepdims):
    with np.errstate(divide="ignore"):  # log 0 for a row of −∞
        out = ref.logsumexp(x, axis=1, keepdims=keepdims)
    expected = np.array([math_logsumexp(r) for r in x])
    np.testing.assert_allclose(out.reshape(-1), expected, rtol=1e-12, atol=1e-12)
    assert out.shape == ((x.shape[0], 1) if keepdims else (x.shape[0],))


def test_logsumexp_of_large_values_axes_and_0d():
    x = np.array([[1e4, 1e4], [-1e4, 0.0]])
    np.testing.assert_allclose(ref.logsumexp(x, axis=-1), [1e4 + math.log(2), 0.0], rtol=1e-15)
    np.testing.assert_allclose(ref.logsumexp(x, axis=0), [1e4 + math.log(1 + math.exp(-2e4)), 1e4])
    assert ref.logsumexp(x, axis=None).shape == ()
    np.testing.assert_allclose(ref.logsumexp(x, axis=None), 1e4 + math.log(2), rtol=1e-15)
    np.testing.assert_allclose(ref.logsumexp(strided(x), axis=(0, 1), keepdims=True), [[1e4 + math.log(2)]])
    assert ref.logsumexp(np.array(3.0), axis=None) == 3.0
    assert ref.logsumexp(np.zeros(3, np.float32)).dtype == np.float32


def math_softmax(row):
    m = max(row)
    e = [math.exp(v - m) for v in row]
    s = math.fsum(e)
    return [v / s for v in e]


@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=st.floats(-1e4, 1e4)),
       axis=st.sampled_from([0, 1, -1]))
def test_softmax_and_log_softmax_against_math(x, axis):
    rows_ = x if axis != 0 else x.T
    expected = np.array([math_softmax(list(r)) for r in rows_])
    expected_log = np.array([[v - math_logsumexp(r) for v in r] for r in rows_])
    if axis == 0:
        expected, expected_log = expected.T, expected_log.T
    np.testing.assert_allclose(ref.softmax(strided(x), axis=axis), expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ref.log_softmax(x, axis=axis), expected_log, rtol=1e-12, atol=1e-12)


def numerical_vjp(f, x, g, eps=1e-6):
    """gᵀ J for f at x by central differences, one input element at a time."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        out[i] = np.sum(g * (f(x + step) - f(x - step))) / (2 * eps)
    return out


@given(seed=SEEDS, shape=st.tuples(st.integers(1, 3), st.integers(1, 4)), axis=st.sampled_from([0, -1]))
def test_softmax_backward_against_finite_differences(seed, shape, axis):
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    y = ref.softmax(x, axis=axis)
    expected = numerical_vjp(lambda z: ref.softmax(z, axis=axis), x, g)
    np.testing.assert_allclose(ref.softmax_backward(g, y, axis=axis), expected, rtol=1e-6, atol=1e-8)
    log_y = ref.log_softmax(x, axis=axis)
    expected = numerical_vjp(lambda z: ref.log_softmax(z, axis=axis), x, g)
    np.testing.assert_allclose(ref.log_softmax_backward(g, log_y, axis=axis), expected, rtol=1e-6, atol=1e-8)


def test_softmax_backward_equals_the_autodiff_composition():
    import autodiff as ad

    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    t = ad.tensor(x, requires_grad=True)
    (ad.exp(t - ad.logsumexp(t, axis=-1, keepdims=True)) * ad.tensor(w)).sum().backward()  # softmax by hand
    np.testing.assert_allclose(ref.softmax_backward(w, ref.softmax(x)), t.grad.data, rtol=1e-12, atol=1e-14)


@given(seed=SEEDS, n=st.integers(1, 4), c=st.integers(1, 5))
def test_softmax_cross_entropy_loss_and_gradient(seed, n, c):
    rng = np.random.default_rng(seed)
    logits, targets = rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)
    loss, grad = ref.softmax_cross_entropy(logits, targets)
    expected = [math_logsumexp(list(row)) - row[t] for row, t in zip(logits, targets)]
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)
    total = lambda z: np.sum(ref.softmax_cross_entropy(z, targets)[0])  # noqa: E731
    numerical = numerical_vjp(lambda z: np.array(total(z)), logits, np.array(1.0))
    np.testing.assert_allclose(grad, numerical, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-12)  # softmax − onehot sums to 0


# -- optimizers, against textbook loops ---------------------------------------------------------------------------
def textbook_adam(theta, grads, lr, beta1, beta2, eps, weight_decay, decoupled):
    theta = [float(v) for v in theta]
    m, v = [0.0] * len(theta), [0.0] * len(theta)
    for t, g in enumerate(grads, start=1):
        for i in range(len(theta)):
            gi = float(g[i])
            if weight_decay and decoupled:
                theta[i] -= lr * weight_decay * theta[i]
            elif weight_decay:
                gi += weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            m_hat, v_hat = m[i] / (1 - beta1**t), v[i] / (1 - beta2**t)
            theta[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return np.array(theta), np.array(m), np.array(v)


@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)],
                         ids=["adam", "adam-l2", "adamw"])
@given(seed=SEEDS, steps=st.integers(1, 5))
def test_adam_against_the_textbook_over_several_steps(weight_decay, decoupled, seed, steps):
    rng = np.random.default_rng(seed)
    theta0, grads = rng.standard_normal(4), rng.standard_normal((steps, 4))
    param, m, v = theta0.copy(), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        out = ref.adam(param, g, m, v, t, 1e-2, beta1=0.8, beta2=0.95, eps=1e-6, weight_decay=weight_decay,
                       decoupled=decoupled)
        assert out is param  # in place
    expected, m_expected, v_expected = textbook_adam(theta0, grads, 1e-2, 0.8, 0.95, 1e-6, weight_decay, decoupled)
    np.testing.assert_allclose(param, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m, m_expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(v, v_expected, rtol=1e-12, atol=1e-14)


def test_adam_leaves_the_gradient_alone_and_keeps_float32():
    param, grad = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
    m, v = np.zeros(3, np.float32), np.zeros(3, np.float32)
    ref.adam(param, grad, m, v, 1, 0.1, weight_decay=0.1)
    np.testing.assert_array_equal(grad, 0.5)
    assert param.dtype == m.dtype == v.dtype == np.float32
    np.testing.assert_allclose(param, 1 - 0.1, rtol=1e-6)  # the first step moves by lr · sign(g)


def textbook_sgd(theta, grads, lr, momentum, dampening, nesterov, weight_decay):
    theta = [float(v) for v in theta]
    buf = None
    for t, g in enumerate(grads):
        d = [float(g[i]) + weight_decay * theta[i] for i in range(len(theta))]
        if momentum:
            buf = list(d) if t == 0 else [momentum * b + (1 - dampening) * di for b, di in zip(buf, d)]
            d = [di + momentum * b for di, b in zip(d, buf)] if nesterov else buf
        theta = [th - lr * di for th, di in zip(theta, d)]
    return np.array(theta), (np.array(buf) if buf is not None else None)


@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay", [
    (0.0, 0.0, False, 0.0), (0.0, 0.0, False, 0.1), (0.9, 0.0, False, 0.0), (0.9, 0.3, False, 0.0),
    (0.9, 0.0, True, 0.0), (0.8, 0.0, True, 0.05), (0.5, 0.2, False, 0.05)],
    ids=["plain", "weight-decay", "momentum", "dampening", "nesterov", "nesterov-wd", "all"])
@given(seed=SEEDS, steps=st.integers(1, 5))
def test_sgd_against_the_textbook_over_several_steps(momentum, dampening, nesterov, weight_decay, seed, steps):
    rng = np.random.default_rng(seed)
    theta0, grads = rng.standard_normal(3), rng.standard_normal((steps, 3))
    param, buf = theta0.copy(), np.zeros(3)
    for t, g in enumerate(grads):
        assert ref.sgd(param, g, buf, 0.1, momentum=momentum, dampening=dampening, nesterov=nesterov,
                       weight_decay=weight_decay, first=t == 0) is param
    expected, expected_buf = textbook_sgd(theta0, grads, 0.1, momentum, dampening, nesterov, weight_decay)
    np.testing.assert_allclose(param, expected, rtol=1e-12, atol=1e-14)
    if momentum:
        np.testing.assert_allclose(buf, expected_buf, rtol=1e-12, atol=1e-14)


# -- K-FAC, im2col / col2im ------------------------------------------------------------------------------------
@given(seed=SEEDS, n=st.integers(1, 5), d=st.integers(1, 4))
def test_kfac_factor_is_the_mean_outer_product(seed, n, d):
    a = np.random.default_rng(seed).standard_normal((n, d))
    expected = sum(np.outer(row, row) for row in a) / n
    out = ref.kfac_factor(strided(a))
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out, out.T)


@st.composite
def conv_settings(draw):
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, padding = draw(st.integers(1, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, kh - 2 * padding), 5))
    w = draw(st.integers(max(1, kw - 2 * padding), 5))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return (n, c, h, w), kh, kw, stride, padding


def loop_convolution(x, weight, stride, padding):
    """out[n, f, i, j] = Σ_c Σ_p Σ_q x_padded[n, c, i·s + p, j·s + q] · w[f, c, p, q], element by element."""
    n, c, h, w = x.shape
    f, _, kh, kw = weight.shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    padded[:, :, padding:padding + h, padding:padding + w] = x
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for b in range(n):
        for o in range(f):
            for i in range(oh):
                for j in range(ow):
                    out[b, o, i, j] = math.fsum(padded[b, ch, i * stride + p, j * stride + q] * weight[o, ch, p, q]
                                                for ch in range(c) for p in range(kh) for q in range(kw))
    return out


@given(settings=conv_settings(), seed=SEEDS)
def test_convolution_via_im2col_equals_a_direct_loop(settings, seed):
    shape, kh, kw, stride, padding = settings
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal(shape), rng.standard_normal((3, shape[1], kh, kw))
    cols = ref.im2col(x, kh, kw, stride=stride, padding=padding)
    expected = loop_convolution(x, weight, stride, padding)
    assert cols.shape == (shape[0], shape[1] * kh * kw, expected.shape[2] * expected.shape[3])
    out = (weight.reshape(3, -1) @ cols).reshape(expected.shape)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@given(settings=conv_settings(), seed=SEEDS)
def test_col2im_is_the_adjoint_of_im2col(settings, seed):
    """⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for random x and c."""
    shape, kh, kw, stride, padding = settings
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    cols = ref.im2col(x, kh, kw, stride=stride, padding=padding)
    c = rng.standard_normal(cols.shape)
    back = ref.col2im(c, shape, kh, kw, stride=stride, padding=padding)
    assert back.shape == shape
    np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12, atol=1e-12)


def test_im2col_of_a_strided_float32_image():
    x = strided(np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4))
    cols = ref.im2col(x, 2, 2)
    assert cols.dtype == np.float32 and cols.shape == (1, 8, 2 * 3)
    np.testing.assert_array_equal(cols[0, :4, 0], [0.0, 1.0, 4.0, 5.0])  # channel 0, first 2×2 patch


# -- activations and the Huber TD loss, against Python's math and finite differences --------------------------------
ACTIVATIONS = {"tanh": math.tanh, "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x >= 0 else
               math.exp(x) / (1 + math.exp(x)), "relu": lambda x: max(x, 0.0)}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3), elements=st.floats(-30, 30)))
def test_activations_against_math(name, x):
    expected = np.vectorize(ACTIVATIONS[name], otypes=[np.float64])(x)
    np.testing.assert_allclose(getattr(ref, name)(x), expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_is_the_derivative_written_with_the_output(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)) * 2
    x[np.abs(x) < 1e-3] = 0.5  # relu's kink
    g = rng.standard_normal((3, 4))
    fn, h = getattr(ref, name), 1e-6
    numeric = g * (fn(x + h) - fn(x - h)) / (2 * h)
    np.testing.assert_allclose(getattr(ref, f"{name}_backward")(g, fn(x)), numeric, rtol=1e-6, atol=1e-8)


def test_activations_keep_float32_and_saturate_without_overflow():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=np.float32)
    with np.errstate(over="raise"):
        for name in ACTIVATIONS:
            y = getattr(ref, name)(x)
            assert y.dtype == np.float32 and np.isfinite(y).all()
            assert getattr(ref, f"{name}_backward")(np.ones_like(x), y).dtype == np.float32
    np.testing.assert_array_equal(ref.sigmoid(x)[[0, -1]], [0.0, 1.0])
    np.testing.assert_array_equal(ref.relu_backward(np.ones(3), ref.relu(np.array([-1.0, 0.0, 2.0]))), [0, 0, 1])
