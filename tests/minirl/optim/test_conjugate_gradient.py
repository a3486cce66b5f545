"""Conjugate gradient solves SPD systems; the Fisher-vector product (double backward of the KL) equals the
explicit Fisher matrix times v (book §5.7: the Hessian of KL(π_old ‖ π_θ) at θ = θ_old is the Fisher)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from minirl import optim


def _spd(n, seed, condition=50.0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(np.geomspace(1.0, condition, n)) @ q.T


@given(n=st.integers(1, 30), seed=st.integers(0, 10_000))
def test_solves_random_spd_systems(n, seed):
    A = _spd(n, seed)
    b = np.random.default_rng(seed + 1).standard_normal(n)
    x = optim.conjugate_gradient(lambda v: A @ v, b, iters=n + 5, residual_tol=1e-20)
    np.testing.assert_allclose(A @ x, b, atol=1e-8 * max(1.0, np.linalg.norm(b)))


def test_stops_on_tolerance_and_improves_with_iterations():
    A, b = _spd(40, 0, condition=100.0), np.random.default_rng(1).standard_normal(40)
    calls = []
    x_few = optim.conjugate_gradient(lambda v: calls.append(1) or A @ v, b, iters=3)
    assert len(calls) == 3
    x_many = optim.conjugate_gradient(lambda v: A @ v, b, iters=40, residual_tol=1e-20)
    assert np.linalg.norm(A @ x_many - b) < 1e-3 * np.linalg.norm(A @ x_few - b)
    calls.clear()
    optim.conjugate_gradient(lambda v: calls.append(1) or np.eye(40) @ v, b, iters=10)
    assert len(calls) == 1  # the identity is solved in one step, then the residual is 0


# -- a small softmax policy: explicit Fisher matrix by brute force --------------------------------------------
S, A_N, N = 3, 4, 6


def _linear_policy(seed=0):
    rng = np.random.default_rng(seed)
    W = ad.tensor(rng.standard_normal((A_N, S)), requires_grad=True)  # float64 throughout
    b = ad.tensor(rng.standard_normal(A_N), requires_grad=True)
    states = rng.standard_normal((N, S))
    return W, b, states


def _kl(logits_fn, states, old_probs):
    log_p = ad.log_softmax(logits_fn(states), axis=-1)
    return (ad.as_tensor(old_probs) * (np.log(old_probs) - log_p)).sum(axis=-1).mean()


def test_fvp_equals_explicit_fisher_of_linear_softmax_policy():
    W, b, states = _linear_policy()

    def logits(s):
        return ad.as_tensor(s) @ W.T + b

    probs = ad.softmax(logits(states), axis=-1).numpy().copy()
    # F = mean_s Jᵀ (diag p − p pᵀ) J with J = ∂logits/∂(vec W, b): ∂z_k/∂W_kj = s_j, ∂z_k/∂b_k = 1
    P = A_N * S + A_N
    F = np.zeros((P, P))
    for s, p in zip(states, probs):
        J = np.zeros((A_N, P))
        for k in range(A_N):
            J[k, k * S:(k + 1) * S] = s
            J[k, A_N * S + k] = 1.0
        F += J.T @ (np.diag(p) - np.outer(p, p)) @ J / N
    damping = 0.05
    fvp = optim.fisher_vector_product(lambda: _kl(logits, states, probs), [W, b], damping=damping)
    rng = np.random.default_rng(3)
    for _ in range(3):
        v = rng.standard_normal(P)
        np.testing.assert_allclose(fvp(v), F @ v + damping * v, rtol=1e-9, atol=1e-11)
    # TRPO's solve: x = (F + λI)⁻¹ g by conjugate gradient, with products only
    g = rng.standard_normal(P)
    x = optim.conjugate_gradient(fvp, g, iters=P, residual_tol=1e-24)
    np.testing.assert_allclose(x, np.linalg.solve(F + damping * np.eye(P), g), rtol=1e-6, atol=1e-8)


def test_fvp_equals_fisher_of_mlp_policy_built_from_score_outer_products():
    """F = E_s Σ_a π(a|s) ∇log π(a|s) ∇log π(a|s)ᵀ, from first-order gradients only."""
    rng = np.random.default_rng(1)
    W1 = ad.tensor(rng.standard_normal((5, S)), requires_grad=True)
    b1 = ad.tensor(rng.standard_normal(5) * 0.1, requires_grad=True)
    W2 = ad.tensor(rng.standard_normal((A_N, 5)), requires_grad=True)
    params = [W1, b1, W2]
    states = rng.standard_normal((N, S))

    def logits(s):
        return ad.tanh(ad.as_tensor(s) @ W1.T + b1) @ W2.T

    probs = ad.softmax(logits(states), axis=-1).numpy().copy()
    P = sum(p.numel() for p in params)
    F = np.zeros((P, P))
    for i in range(N):
        for a in range(A_N):
            log_p = ad.log_softmax(logits(states[i:i + 1]), axis=-1)[0, a]
            score = optim.flat_grad(log_p, params)
            F += probs[i, a] * np.outer(score, score) / N
    fvp = optim.fisher_vector_product(_kl(logits, states, probs), params, damping=0.0)
    v = rng.standard_normal(P)
    np.testing.assert_allclose(fvp(v), F @ v, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fvp(2 * v), 2 * (F @ v), rtol=1e-8, atol=1e-10)  # the graph is reusable


def test_parameters_to_vector_round_trip():
    W, b, _ = _linear_policy()
    vec = optim.parameters_to_vector([W, b])
    assert vec.shape == (A_N * S + A_N,)
    optim.vector_to_parameters(vec * 2, [W, b])
    np.testing.assert_allclose(optim.parameters_to_vector([W, b]), vec * 2)
    with pytest.raises(ValueError, match="entries"):
        optim.vector_to_parameters(np.zeros(3), [W, b])
