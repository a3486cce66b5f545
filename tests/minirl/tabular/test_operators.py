"""Bellman operators (book 2.3.4, 2.4.1-2.4.2) on random MDPs: contraction (2.44), (2.47), monotonicity,
unique fixed points, and agreement of the V and Q forms."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.tabular.mdp import random_mdp, uniform_policy
from minirl.tabular.operators import (bellman_error, bellman_expectation, bellman_expectation_q, bellman_optimality,
                                      bellman_optimality_q, greedy, q_from_v, v_from_q)

mdps = st.builds(random_mdp, st.integers(1, 5), st.integers(1, 3), st.floats(0.0, 0.95),
                 st.integers(0, 2**32 - 1), reward_depends_on_next_state=st.booleans(),
                 sparsity=st.sampled_from([0.0, 0.7]))
seeds = st.integers(0, 2**32 - 1)


def _draws(mdp, seed):
    """Two value tables, two Q tables and a stochastic policy for `mdp`."""
    rng = np.random.default_rng(seed)
    S, A = mdp.num_states, mdp.num_actions
    V, W = rng.normal(0, 10, (2, S))
    Q, Z = rng.normal(0, 10, (2, S, A))
    return V, W, Q, Z, rng.dirichlet(np.ones(A), size=S)


def _sup(x):
    return np.max(np.abs(x))


@given(mdps, seeds)
def test_bellman_operators_are_gamma_contractions_in_the_sup_norm(mdp, seed):
    V, W, Q, Z, pi = _draws(mdp, seed)
    g, slack = mdp.gamma, 1e-9
    assert _sup(bellman_expectation(mdp, pi, V) - bellman_expectation(mdp, pi, W)) <= g * _sup(V - W) + slack
    assert _sup(bellman_optimality(mdp, V) - bellman_optimality(mdp, W)) <= g * _sup(V - W) + slack
    assert _sup(bellman_expectation_q(mdp, pi, Q) - bellman_expectation_q(mdp, pi, Z)) <= g * _sup(Q - Z) + slack
    assert _sup(bellman_optimality_q(mdp, Q) - bellman_optimality_q(mdp, Z)) <= g * _sup(Q - Z) + slack


@given(mdps, seeds)
def test_bellman_operators_are_monotone(mdp, seed):
    V, W, Q, _, pi = _draws(mdp, seed)
    W = V + np.abs(W)  # W >= V everywhere
    assert np.all(bellman_expectation(mdp, pi, V) <= bellman_expectation(mdp, pi, W) + 1e-9)
    assert np.all(bellman_optimality(mdp, V) <= bellman_optimality(mdp, W) + 1e-9)
    assert np.all(bellman_optimality_q(mdp, Q) <= bellman_optimality_q(mdp, Q + 1.0) + 1e-9)


@given(mdps, seeds)
def test_v_pi_is_the_fixed_point_of_t_pi_and_equals_the_closed_form(mdp, seed):
    *_, pi = _draws(mdp, seed)
    mrp = mdp.induced_mrp(pi)
    V_pi = np.linalg.solve(np.eye(mdp.num_states) - mdp.gamma * mrp.P, mrp.R)  # (2.29)
    np.testing.assert_allclose(bellman_expectation(mdp, pi, V_pi), V_pi, atol=1e-8)
    # T^π is a contraction, so iterating it from anywhere lands on the same point
    V = np.full(mdp.num_states, 100.0)
    for _ in range(400):
        V = bellman_expectation(mdp, pi, V)
    np.testing.assert_allclose(V, V_pi, atol=1e-6)
    # its Q form: Q^π = T^π Q^π and V^π = Σ_a π Q^π (2.23)
    Q_pi = q_from_v(mdp, V_pi)
    np.testing.assert_allclose(bellman_expectation_q(mdp, pi, Q_pi), Q_pi, atol=1e-8)
    np.testing.assert_allclose(v_from_q(pi, Q_pi), V_pi, atol=1e-8)


@given(mdps)
def test_v_star_is_the_fixed_point_of_t_star_and_q_star_of_its_q_form(mdp):
    V = np.zeros(mdp.num_states)
    for _ in range(600):
        V = bellman_optimality(mdp, V)
    np.testing.assert_allclose(bellman_optimality(mdp, V), V, atol=1e-9)
    assert _sup(bellman_error(mdp, V)) < 1e-9
    Q = q_from_v(mdp, V)
    np.testing.assert_allclose(bellman_optimality_q(mdp, Q), Q, atol=1e-9)
    np.testing.assert_allclose(Q.max(axis=1), V, atol=1e-12)  # v* = max_a q* (2.32)


@given(mdps, seeds)
def test_t_star_dominates_every_t_pi_and_equals_t_of_the_greedy_policy(mdp, seed):
    V, _, _, _, pi = _draws(mdp, seed)
    assert np.all(bellman_expectation(mdp, pi, V) <= bellman_optimality(mdp, V) + 1e-9)
    np.testing.assert_allclose(bellman_expectation(mdp, greedy(mdp, V), V), bellman_optimality(mdp, V), atol=1e-9)


def test_greedy_breaks_ties_by_lowest_index_or_splits_them():
    mdp = random_mdp(3, 4, seed=1)
    mdp.expected_reward[:] = 0.0  # every action equally good under V = 0
    np.testing.assert_array_equal(greedy(mdp, np.zeros(3)), np.eye(4)[[0, 0, 0]])
    np.testing.assert_allclose(greedy(mdp, np.zeros(3), ties="split"), 0.25)


def test_operators_reject_tables_of_the_wrong_shape():
    mdp = random_mdp(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"V must have shape \(S,\) = \(3,\), got \(4,\)"):
        bellman_optimality(mdp, np.zeros(4))
    with pytest.raises(ValueError, match=r"Q must have shape \(S, A\) = \(3, 2\), got \(2, 3\)"):
        bellman_optimality_q(mdp, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"policy must have shape"):
        bellman_expectation(mdp, uniform_policy(random_mdp(3, 3, seed=0)), np.zeros(3))
