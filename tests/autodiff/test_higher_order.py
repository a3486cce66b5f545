"""`autodiff.grad` and gradients of gradients: Hessian-vector products against analytic Hessians (a quadratic
form, the KL divergence between two softmax distributions) and finite differences of the gradient; third
derivatives; the grad() API (grad_outputs, non-leaf inputs, allow_unused)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import arrays


def leaf(values):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def hvp(f, x, v):
    """H v = ∇ₓ ⟨∇ₓ f, v⟩, with the inner gradient recorded (create_graph=True)."""
    (g,) = ad.grad(f(x), x, create_graph=True)
    (hv,) = ad.grad(ad.dot(g, ad.tensor(v)), x)
    return hv.data


def numerical_hvp(f, x0, v, eps=1e-5):
    """(∇f(x + εv) − ∇f(x − εv)) / 2ε."""
    def gradient(x):
        t = leaf(x)
        f(t).backward()
        return t.grad.data
    return (gradient(x0 + eps * v) - gradient(x0 - eps * v)) / (2 * eps)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 5))
def test_hvp_of_a_quadratic_form_is_the_symmetrised_matrix(seed, n):
    rng = np.random.default_rng(seed)
    a, x0, v = rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n)
    A = ad.tensor(a)
    f = lambda x: x @ (A @ x)  # noqa: E731  xᵀAx: H = A + Aᵀ
    np.testing.assert_allclose(hvp(f, leaf(x0), v), (a + a.T) @ v, rtol=1e-12, atol=1e-12)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5))
def test_hvp_of_kl_between_softmax_distributions_is_the_fisher(seed, n):
    """KL(p ‖ softmax(x)) for a fixed p has Hessian diag(q) − q qᵀ, q = softmax(x) (the Fisher of TRPO)."""
    rng = np.random.default_rng(seed)
    logits_p, x0, v = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
    p = np.exp(logits_p) / np.exp(logits_p).sum()
    P = ad.tensor(p)

    def kl(x):
        return (P * (ad.log(P) - ad.log_softmax(x))).sum()

    q = np.exp(x0) / np.exp(x0).sum()
    fisher = np.diag(q) - np.outer(q, q)
    np.testing.assert_allclose(hvp(kl, leaf(x0), v), fisher @ v, rtol=1e-10, atol=1e-12)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 5))
def test_hvp_of_kl_from_softmax_matches_finite_differences(seed, n):
    """KL(softmax(x) ‖ p), the other direction, through softmax, log_softmax, exp and a batch of rows."""
    rng = np.random.default_rng(seed)
    log_p = np.log(rng.dirichlet(np.ones(n), size=2))
    x0, v = rng.standard_normal((2, n)), rng.standard_normal((2, n))
    LOG_P = ad.tensor(log_p)

    def kl(x):
        return (ad.softmax(x) * (ad.log_softmax(x) - LOG_P)).sum()

    np.testing.assert_allclose(hvp(kl, leaf(x0), v), numerical_hvp(kl, x0, v), rtol=1e-6, atol=1e-8)


@given(x0=arrays((3,), st.floats(-1.5, 1.5)), v=arrays((3,), st.floats(-1, 1)))
def test_hvp_of_a_network_like_function_matches_finite_differences(x0, v):
    w = ad.tensor(np.array([[0.5, -1.0, 0.3], [1.2, 0.1, -0.7]]))

    def f(x):
        h = ad.tanh(w @ x)
        return ad.logsumexp(ad.concatenate([h, ad.sigmoid(x) * x]), axis=-1) + (ad.softplus(x) ** 2).mean()

    np.testing.assert_allclose(hvp(f, leaf(x0), v), numerical_hvp(f, x0, v), rtol=1e-6, atol=1e-8)


def test_third_derivative():
    x = leaf([0.5, 2.0])
    (g,) = ad.grad((x**4).sum(), x, create_graph=True)  # 4x³
    (h,) = ad.grad(g.sum(), x, create_graph=True)  # 12x²
    (t,) = ad.grad(h.sum(), x)  # 24x
    np.testing.assert_allclose(g.data, 4 * x.data**3)
    np.testing.assert_allclose(h.data, 12 * x.data**2)
    np.testing.assert_allclose(t.data, 24 * x.data)


def test_create_graph_gradients_require_grad_and_others_do_not():
    x = leaf([1.0, 2.0])
    (g,) = ad.grad((x * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (g2,) = ad.grad((x * x).sum(), x)
    assert not g2.requires_grad and g2.grad_fn is None


def test_backward_with_create_graph_accumulates_differentiable_grads():
    x = leaf([3.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, [27.0])
    (g,) = ad.grad(x.grad.sum(), x)  # d(3x²)/dx = 6x
    np.testing.assert_allclose(g.data, [18.0])


# -- the grad() API --------------------------------------------------------------------------------------------
def test_grad_returns_and_does_not_accumulate():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = ad.grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, y.data)
    np.testing.assert_array_equal(gy.data, x.data)
    assert x.grad is None and y.grad is None


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 2, x * x
    (g,) = ad.grad([a, b], x, grad_outputs=[np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    np.testing.assert_array_equal(g.data, [2.0, 4.0])


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    gh, gx = ad.grad(y, [h, x])
    np.testing.assert_array_equal(gh.data, 2 * h.data)
    np.testing.assert_array_equal(gx.data, 6 * h.data)


def test_grad_of_an_unused_input_needs_allow_unused():
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(1,\)\) was not used.*allow_unused=True"):
        ad.grad(y, [x, unused], retain_graph=True)
    gx, gu = ad.grad(y, [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0])
    assert gu is None


def test_grad_of_an_input_that_does_not_require_grad_is_an_error():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="grad: input 1 does not require grad"):
        ad.grad((x * 2).sum(), [x, ad.tensor([1.0])])


def test_gradgradcheck_of_a_composed_function():
    x, w = leaf([[0.3, -0.2], [0.1, 0.5]]), leaf([[1.0, -0.5], [0.2, 0.4]])
    fn = lambda x, w: ad.log_softmax(ad.tanh(x @ w) * ad.sigmoid(x), axis=0)  # noqa: E731
    assert ad.gradcheck(fn, [x, w])
    assert ad.gradgradcheck(fn, [x, w])
