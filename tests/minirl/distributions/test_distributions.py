"""Property tests of the action distributions: normalisation, KL, reparameterisation, the EGLP lemma."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from minirl.distributions import Bernoulli, Categorical, DiagGaussian, GumbelSoftmax, TanhGaussian

logit_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)),
                        elements=st.floats(-6, 6))
gauss_params = hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3)), elements=st.floats(-1.5, 1.5))


# -- probabilities sum (or integrate) to one --------------------------------------------------------------
@given(logits=logit_rows)
def test_categorical_probabilities_sum_to_one(logits):
    d = Categorical(logits)
    total = sum(np.exp(d.log_prob(np.full(logits.shape[0], a)).numpy()) for a in range(logits.shape[1]))
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


@given(logits=hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-30, 30)))
def test_bernoulli_probabilities_sum_to_one_and_are_finite(logits):
    d = Bernoulli(logits)
    p0, p1 = np.exp(d.log_prob(np.zeros_like(logits)).numpy()), np.exp(d.log_prob(np.ones_like(logits)).numpy())
    np.testing.assert_allclose(p0 + p1, 1.0, atol=1e-12)
    assert np.all(np.isfinite(d.entropy().numpy()))


@pytest.mark.parametrize("mean,log_std", [(0.3, -0.2), (-1.0, 0.5)])
def test_gaussian_and_tanh_gaussian_densities_integrate_to_one(mean, log_std):
    u = np.linspace(-12, 12, 200_001)[:, None]
    g = DiagGaussian(np.full_like(u, mean), np.full_like(u, log_std))
    assert abs(np.trapezoid(np.exp(g.log_prob(u).numpy()), u[:, 0]) - 1) < 1e-6
    # ∫ π(a) da over (−1, 1), computed in u = atanh(a) where the grid resolves the mass near ±1:
    # ∫ π(tanh u) (1 − tanh²u) du
    u = np.linspace(-12, 12, 200_001)[:, None]
    t = TanhGaussian(np.full_like(u, mean), np.full_like(u, log_std))
    density = np.exp(t.log_prob(np.tanh(u), eps=0).numpy()) * (1 - np.tanh(u[:, 0]) ** 2)
    assert abs(np.trapezoid(density, u[:, 0]) - 1) < 1e-4


def test_tanh_gaussian_log_prob_agrees_with_its_reparameterised_form():
    t = TanhGaussian(np.array([[0.2, -3.0]]), np.array([0.1, -0.5]))
    a, log_p = t.rsample_and_log_prob(np.random.default_rng(0))
    np.testing.assert_allclose(t.log_prob(a.numpy(), eps=0).numpy(), log_p.numpy(), rtol=1e-6)


# -- KL divergence -----------------------------------------------------------------------------------------
@given(p=logit_rows, seed=st.integers(0, 1000))
def test_categorical_kl_nonnegative_zero_iff_equal(p, seed):
    q = p + np.random.default_rng(seed).normal(size=p.shape)
    assert np.all(Categorical(p).kl(Categorical(q)).numpy() >= -1e-12)
    np.testing.assert_allclose(Categorical(p).kl(Categorical(p + 3.0)).numpy(), 0, atol=1e-12)


@given(m1=gauss_params, seed=st.integers(0, 1000))
def test_gaussian_kl_nonnegative_and_zero_on_itself(m1, seed):
    rng = np.random.default_rng(seed)
    s1, m2, s2 = (rng.uniform(-1, 1, m1.shape) for _ in range(3))
    assert np.all(DiagGaussian(m1, s1).kl(DiagGaussian(m2, s2)).numpy() >= -1e-12)
    np.testing.assert_allclose(DiagGaussian(m1, s1).kl(DiagGaussian(m1, s1)).numpy(), 0, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda: (Categorical(np.array([[0.5, -1.0, 2.0]])), Categorical(np.array([[0.0, 0.3, 1.0]]))),
    lambda: (Bernoulli(np.array([0.7, -2.0])), Bernoulli(np.array([-0.4, 1.0]))),
    lambda: (DiagGaussian(np.array([[0.3, -0.5]]), np.array([-0.2, 0.4])),
             DiagGaussian(np.array([[0.0, 0.5]]), np.array([0.1, -0.3]))),
    lambda: (TanhGaussian(np.array([[0.3, -0.5]]), np.array([-0.2, 0.4])),
             TanhGaussian(np.array([[0.0, 0.5]]), np.array([0.1, -0.3]))),
])
def test_kl_equals_its_monte_carlo_estimate(make):
    p, q = make()
    rng = np.random.default_rng(0)
    n = 100_000
    samples = [p.sample(rng) for _ in range(1)]
    batch = samples[0].shape
    draws = np.stack([p.sample(rng) for _ in range(n // 100)])  # (draws, *batch)
    log_ratio = np.array([(p.log_prob(x).numpy() - q.log_prob(x).numpy()) for x in draws])
    estimate, stderr = log_ratio.mean(axis=0), log_ratio.std(axis=0) / math.sqrt(len(draws))
    exact = p.kl(q).numpy()
    assert estimate.shape == exact.shape == batch[: len(exact.shape)]
    assert np.all(np.abs(estimate - exact) < 5 * stderr + 1e-3)


# -- gradients ---------------------------------------------------------------------------------------------
def test_score_function_has_zero_mean_categorical_exactly():
    # E_a[∇ log π(a)] = Σ_a π(a) ∇ log π(a) = ∇ Σ_a π(a) = 0   (EGLP lemma, eqs. 2.121-2.127)
    logits = ad.tensor(np.array([[0.2, -1.0, 0.7, 1.5]]), requires_grad=True)
    d = Categorical(logits)
    probs = d.probs.numpy()[0]
    total = np.zeros(4)
    for a in range(4):
        (g,) = ad.grad(d.log_prob(np.array([a])).sum(), [logits], retain_graph=True)
        total += probs[a] * g.numpy()[0]
    np.testing.assert_allclose(total, 0, atol=1e-12)


def test_score_function_has_zero_mean_gaussian_by_sampling():
    mean = ad.tensor(np.array([[0.4, -0.3]]), requires_grad=True)
    log_std = ad.tensor(np.array([0.2, -0.1]), requires_grad=True)
    rng = np.random.default_rng(1)
    actions = np.concatenate([DiagGaussian(mean.detach(), log_std.detach()).sample(rng) for _ in range(20_000)])
    d = DiagGaussian(ad.broadcast_to(mean, actions.shape), log_std)
    g_mean, g_std = ad.grad(d.log_prob(actions).mean(), [mean, log_std])
    assert np.all(np.abs(g_mean.numpy()) < 0.05) and np.all(np.abs(g_std.numpy()) < 0.05)


def test_reparameterised_gradient_equals_score_function_gradient_in_expectation():
    # ∇_μ E[f(a)] for f(a) = (a - 1)²: pathwise (rsample) and score-function estimates agree with 2(μ - 1)
    rng = np.random.default_rng(2)
    n = 50_000
    mean = ad.tensor(np.full((n, 1), 0.3), requires_grad=True)
    log_std = ad.tensor(np.array([-0.5]), requires_grad=True)
    d = DiagGaussian(mean, log_std)
    a = d.rsample(rng)
    (pathwise,) = ad.grad((((a - 1) ** 2).sum()) * (1.0 / n), [mean])
    actions = a.numpy()
    f = (actions - 1) ** 2
    d2 = DiagGaussian(mean, log_std)
    (score,) = ad.grad((d2.log_prob(actions) * ad.tensor((f - f.mean())[:, 0])).sum() * (1.0 / n), [mean])
    exact = 2 * (0.3 - 1)
    assert abs(pathwise.numpy().sum() - exact) < 0.02
    assert abs(score.numpy().sum() - exact) < 0.05


def test_gumbel_softmax_samples_match_probabilities_and_relaxation_is_differentiable():
    logits = ad.tensor(np.array([[1.0, 0.0, -1.0]]), requires_grad=True)
    d = GumbelSoftmax(logits, temperature=0.5)
    rng = np.random.default_rng(3)
    counts = np.bincount(np.concatenate([d.sample(rng) for _ in range(20_000)]), minlength=3)
    np.testing.assert_allclose(counts / counts.sum(), d.probs.numpy()[0], atol=0.015)
    y = d.rsample(rng)
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0)
    (g,) = ad.grad((y * ad.tensor(np.array([[1.0, 2.0, 3.0]]))).sum(), [logits])
    assert np.all(np.isfinite(g.numpy())) and np.abs(g.numpy()).sum() > 0
    hard = d.rsample(rng, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0} and hard.numpy().sum() == 1.0


@pytest.mark.parametrize("dist", [
    lambda t: Categorical(t), lambda t: Bernoulli(t), lambda t: DiagGaussian(t, t * 0.5),
])
def test_log_prob_entropy_kl_pass_gradcheck(dist):
    rng = np.random.default_rng(4)
    x = ad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    sample = dist(x.detach()).sample(rng)
    assert ad.gradcheck(lambda t: dist(t).log_prob(sample), [x])
    assert ad.gradcheck(lambda t: dist(t).entropy(), [x])
    other = dist(ad.tensor(rng.normal(size=(2, 3))))
    assert ad.gradcheck(lambda t: dist(t).kl(other), [x])


def test_modes_and_errors():
    assert Categorical(np.array([[0.0, 3.0, 1.0]])).mode().tolist() == [1]
    assert Bernoulli(np.array([-1.0, 2.0])).mode().tolist() == [0.0, 1.0]
    np.testing.assert_allclose(TanhGaussian(np.array([[0.5]]), np.array([0.0])).mode(), np.tanh([[0.5]]))
    with pytest.raises(ValueError, match="exactly one of logits= or probs="):
        Categorical()
    with pytest.raises(ValueError, match=r"actions of shape \(3,\) for a batch of shape \(2,\)"):
        Categorical(np.zeros((2, 4))).log_prob(np.zeros(3))
    with pytest.raises(ValueError, match="temperature must be positive"):
        GumbelSoftmax(np.zeros(3), temperature=0)
