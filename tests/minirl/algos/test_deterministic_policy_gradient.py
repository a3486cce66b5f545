"""The deterministic policy gradient as the limit of the stochastic one (book §2.7, Theorem 2.4, (2.159),
L16731–16805; Silver et al. 2014), on a one-step problem: states s ~ p(s), a linear deterministic policy
μ_θ(s) = θ₀ + θ₁s, and the Gaussian policy π_σ(a|s) = N(μ_θ(s), σ²) around it.

    SPG(σ) = E_s E_{a ~ π_σ}[∇_θ log π_σ(a|s) Q(s, a)],   ∇_θ log π_σ(a|s) = (a − μ_θ(s))/σ² · ∇_θ μ_θ(s)
    DPG    = E_s[∇_θ μ_θ(s) ∂_a Q(s, a)|_{a = μ_θ(s)}]                                          (the DPG theorem)

The inner expectation over a is computed by Gauss–Hermite quadrature (exact for polynomials up to degree 2n−1),
the outer one over fixed samples of s: the comparison has no Monte Carlo noise in a.
"""

import numpy as np
import pytest


def gradients(q, dq_da, sigma, theta=(0.3, -0.7), samples=200, nodes=60):
    s = np.random.default_rng(0).normal(size=samples)
    mu = theta[0] + theta[1] * s
    grad_mu = np.stack([np.ones_like(s), s], axis=1)                                    # ∇_θ μ_θ(s)
    z, w = np.polynomial.hermite_e.hermegauss(nodes)                                    # ∫ f(z) N(z; 0, 1) dz
    w = w / w.sum()
    a = mu[:, None] + sigma * z[None, :]                                                # a = μ + σz
    score = (a - mu[:, None]) / sigma ** 2                                              # ∂ log π / ∂μ
    spg = ((score * q(s[:, None], a)) @ w)[:, None] * grad_mu                           # E_a[score · Q] ∇_θμ
    dpg = dq_da(s, mu)[:, None] * grad_mu
    return spg.mean(axis=0), dpg.mean(axis=0)


def quadratic(s, a):
    return -(a - 1.5 * s) ** 2 + 0.4 * s


def quadratic_da(s, a):
    return -2 * (a - 1.5 * s)


@pytest.mark.parametrize("sigma", [1.0, 0.3, 0.01])
def test_on_a_quadratic_q_the_gaussian_policy_gradient_is_the_deterministic_one_at_every_sigma(sigma):
    # E_a[(a − μ) Q(a)]/σ² = E_a[∂_a Q(a)] (Stein) = ∂_a Q(μ) when ∂_a Q is linear: the limit is reached at once
    spg, dpg = gradients(quadratic, quadratic_da, sigma)
    np.testing.assert_allclose(spg, dpg, rtol=1e-9, atol=1e-12)


def test_the_stochastic_gradient_tends_to_the_deterministic_one_as_sigma_goes_to_zero():
    # with a curved ∂_a Q (Q = quadratic + sin a), E_a[∂_a sin a] = e^{−σ²/2} cos μ: the gap SPG(σ) − DPG is
    # exactly (e^{−σ²/2} − 1) E_s[cos μ_θ(s) ∇_θ μ_θ(s)], of order σ²/2, and vanishes as σ ↓ 0
    q = lambda s, a: quadratic(s, a) + np.sin(a)  # noqa: E731
    dq = lambda s, a: quadratic_da(s, a) + np.cos(a)  # noqa: E731
    s = np.random.default_rng(0).normal(size=200)
    mu = 0.3 - 0.7 * s
    curvature_term = np.mean(np.cos(mu)[:, None] * np.stack([np.ones_like(s), s], axis=1), axis=0)
    gaps = []
    for sigma in (0.8, 0.4, 0.2, 0.1, 0.01):
        spg, dpg = gradients(q, dq, sigma)
        np.testing.assert_allclose(spg - dpg, (np.exp(-sigma ** 2 / 2) - 1) * curvature_term, rtol=1e-8, atol=1e-12)
        gaps.append(np.abs(spg - dpg).max())
    assert gaps[0] > 0.05 and all(a > b for a, b in zip(gaps, gaps[1:])) and gaps[-1] < 1e-4   # (2.159)
