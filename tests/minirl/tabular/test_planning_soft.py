"""Tabular soft policy iteration (book ch. 6.4.1, eqs. 6.18-6.23, Theorem 6.1)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.tabular.mdp import random_mdp, uniform_policy
from minirl.tabular.operators import bellman_optimality_q
from minirl.tabular.soft import (entropy, soft_bellman_backup, soft_policy_evaluation, soft_policy_improvement,
                                 soft_policy_iteration, soft_value)


def optimal_q(mdp, sweeps=2000):
    Q = np.zeros((mdp.num_states, mdp.num_actions))
    for _ in range(sweeps):
        Q = bellman_optimality_q(mdp, Q)
    return Q


def logsumexp(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("alpha", [0.1, 1.0])
def test_soft_policy_iteration_reaches_the_soft_bellman_optimality_fixed_point(seed, alpha):
    mdp = random_mdp(6, 3, gamma=0.9, seed=seed)
    policy, Q, V = soft_policy_iteration(mdp, alpha)
    assert np.allclose(V, alpha * logsumexp(Q / alpha, axis=1), atol=1e-6)  # V*(s) = α log Σ_a exp(Q*/α)
    assert np.allclose(Q, mdp.expected_reward + 0.9 * mdp.P @ V, atol=1e-6)  # (6.19)
    log_ratio = np.log(policy) - Q / alpha  # π ∝ exp(Q/α): log π - Q/α = -log Z(s), the same for every a
    assert np.allclose(log_ratio, log_ratio[:, :1], atol=1e-6)


@given(st.integers(0, 1000), st.floats(0.05, 2.0))
def test_soft_policy_evaluation_matches_the_closed_form(seed, alpha):
    """Soft values solve v = r^π + αH(π) + γP^π v (6.18): a linear system like (2.29)."""
    mdp = random_mdp(5, 3, gamma=0.8, seed=seed)
    policy = np.random.default_rng(seed).dirichlet(np.ones(3), size=5)
    Q = soft_policy_evaluation(mdp, policy, alpha)
    P_pi = np.einsum("sa,sat->st", policy, mdp.P)
    r_pi = (policy * mdp.expected_reward).sum(axis=1) + alpha * entropy(policy)
    V = np.linalg.solve(np.eye(5) - 0.8 * P_pi, r_pi)
    assert np.allclose(soft_value(Q, policy, alpha), V, atol=1e-7)


@given(st.integers(0, 1000), st.floats(0.05, 2.0))
def test_soft_backup_is_a_gamma_contraction(seed, alpha):
    mdp = random_mdp(4, 3, gamma=0.7, seed=seed)
    rng = np.random.default_rng(seed)
    policy = rng.dirichlet(np.ones(3), size=4)
    Q1, Q2 = rng.normal(size=(2, 4, 3)) * 5
    gap = np.abs(soft_bellman_backup(mdp, Q1, policy, alpha) - soft_bellman_backup(mdp, Q2, policy, alpha)).max()
    assert gap <= 0.7 * np.abs(Q1 - Q2).max() + 1e-12


@given(st.integers(0, 1000), st.floats(0.05, 2.0))
def test_soft_policy_improvement_never_lowers_the_soft_values(seed, alpha):
    """(6.22) and Theorem 6.1: Q^{π_new} >= Q^{π_old} everywhere."""
    mdp = random_mdp(5, 3, gamma=0.9, seed=seed)
    policy = np.random.default_rng(seed).dirichlet(np.ones(3), size=5)
    Q_old = soft_policy_evaluation(mdp, policy, alpha)
    Q_new = soft_policy_evaluation(mdp, soft_policy_improvement(Q_old, alpha), alpha)
    assert np.all(Q_new >= Q_old - 1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_small_temperature_approaches_the_optimal_values_from_above(seed):
    mdp = random_mdp(6, 3, gamma=0.9, seed=seed)
    V_star = optimal_q(mdp).max(axis=1)
    for alpha in [0.3, 0.03]:
        _, _, V = soft_policy_iteration(mdp, alpha)
        # the greedy optimal policy has no entropy, so V* <= V_soft <= V* + α log|A| / (1 - γ)
        assert np.all(V >= V_star - 1e-6)
        assert np.all(V <= V_star + alpha * np.log(3) / (1 - 0.9) + 1e-6)


def test_large_temperature_gives_a_nearly_uniform_policy():
    mdp = random_mdp(5, 4, gamma=0.9, seed=0)
    policy, _, _ = soft_policy_iteration(mdp, 1000.0)
    assert np.allclose(policy, uniform_policy(mdp), atol=0.01)
    with pytest.raises(ValueError, match="alpha"):
        soft_policy_iteration(mdp, 0.0)
