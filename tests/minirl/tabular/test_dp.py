"""Dynamic programming (book 2.4): policy evaluation, improvement (2.42), policy iteration (Alg 2.6), value
iteration (Alg 2.7) and its stopping rule, asynchronous DP (2.49)-(2.51), all checked on random MDPs."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minirl.tabular.dp import (exact_policy_evaluation, policy_evaluation, policy_improvement, policy_iteration,
                               prioritized_sweeping, real_time_dp, value_iteration)
from minirl.tabular.examples import gridworld_4x4
from minirl.tabular.mdp import MDP, deterministic_policy, random_mdp, uniform_policy

mdps = st.builds(random_mdp, st.integers(1, 5), st.integers(1, 3), st.floats(0.0, 0.9),
                 st.integers(0, 2**32 - 1), reward_depends_on_next_state=st.booleans(),
                 sparsity=st.sampled_from([0.0, 0.7]))
seeds = st.integers(0, 2**32 - 1)


def _random_policy(mdp, seed):
    return np.random.default_rng(seed).dirichlet(np.ones(mdp.num_actions), size=mdp.num_states)


@given(mdps, seeds, st.booleans())
def test_policy_evaluation_matches_the_closed_form(mdp, seed, in_place):
    pi = _random_policy(mdp, seed)
    V = policy_evaluation(mdp, pi, tol=1e-11, in_place=in_place)
    np.testing.assert_allclose(V, exact_policy_evaluation(mdp, pi), atol=1e-8)


@given(mdps, seeds)
def test_policy_improvement_never_lowers_any_value(mdp, seed):
    pi = _random_policy(mdp, seed)
    V = exact_policy_evaluation(mdp, pi)
    improved = policy_improvement(mdp, V)
    assert np.all(exact_policy_evaluation(mdp, improved) >= V - 1e-9)  # (2.42)


@given(mdps)
def test_policy_iteration_and_value_iteration_agree_on_v_star(mdp):
    pi_policy, V_pi = policy_iteration(mdp, exact=True)
    _, V_iterative = policy_iteration(mdp, tol=1e-12)
    vi_policy, V_vi = value_iteration(mdp, tol=1e-12)
    np.testing.assert_allclose(V_pi, V_vi, atol=1e-8)
    np.testing.assert_allclose(V_iterative, V_vi, atol=1e-8)
    np.testing.assert_allclose(exact_policy_evaluation(mdp, vi_policy), V_vi, atol=1e-8)


@settings(max_examples=20)
@given(mdps)
def test_greedy_policy_of_v_star_beats_every_deterministic_policy(mdp):
    policy, V_star = value_iteration(mdp, tol=1e-12)
    np.testing.assert_allclose(exact_policy_evaluation(mdp, policy), V_star, atol=1e-8)
    for actions in itertools.product(range(mdp.num_actions), repeat=mdp.num_states):  # at most 3^5 policies
        V = exact_policy_evaluation(mdp, deterministic_policy(actions, mdp.num_actions))
        assert np.all(V <= V_star + 1e-8)


@given(mdps, st.sampled_from([1e-1, 1e-2, 1e-3]))
def test_value_iteration_stopping_rule_bounds_the_loss_of_the_greedy_policy(mdp, eps):
    V_star = value_iteration(mdp, tol=1e-12)[1]
    policy, _ = value_iteration(mdp, tol=eps)
    loss = V_star - exact_policy_evaluation(mdp, policy)
    assert np.all(loss <= 2 * eps * mdp.gamma / (1 - mdp.gamma) + 1e-9)  # book 2.4.2, L12829-12835


@given(mdps)
def test_asynchronous_dp_reaches_v_star(mdp):
    V_star = value_iteration(mdp, tol=1e-12)[1]
    np.testing.assert_allclose(value_iteration(mdp, tol=1e-12, in_place=True)[1], V_star, atol=1e-8)
    policy, V = prioritized_sweeping(mdp, tol=1e-12)
    np.testing.assert_allclose(V, V_star, atol=1e-8)
    np.testing.assert_allclose(exact_policy_evaluation(mdp, policy), V_star, atol=1e-8)


@settings(max_examples=10)
@given(mdps, seeds)
def test_real_time_dp_reaches_v_star_on_the_states_it_visits(mdp, seed):
    V_star = value_iteration(mdp, tol=1e-12)[1]
    _, V = real_time_dp(mdp, episodes=300, max_steps=60, epsilon=0.2, seed=seed)
    np.testing.assert_allclose(V, V_star, atol=1e-4)


def test_real_time_dp_backs_up_only_visited_states():
    # state 2 is unreachable from the start state 0; RTDP never touches it
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 0] = P[2, 0, 2] = 1.0
    mdp = MDP(P, np.ones((3, 1)), 0.5, initial_distribution=[1, 0, 0])
    _, V = real_time_dp(mdp, episodes=1, max_steps=200, V0=[0.0, 0.0, 7.0], seed=0)
    np.testing.assert_allclose(V, [2.0, 2.0, 7.0])


def test_in_place_sweeps_converge_in_fewer_sweeps_than_two_arrays():
    # the 4x4 gridworld with the random policy: Gauss-Seidel spreads values within a sweep
    mdp = gridworld_4x4()
    counts = {}
    for in_place in (False, True):
        sweeps = []
        value_iteration(mdp, tol=1e-10, in_place=in_place, callback=lambda k, V: sweeps.append(k))
        counts[in_place] = len(sweeps)
    assert counts[True] <= counts[False]
    V = policy_evaluation(mdp, uniform_policy(mdp), tol=1e-10, in_place=True)
    np.testing.assert_allclose(V, exact_policy_evaluation(mdp, uniform_policy(mdp)), atol=1e-7)


def test_policy_iteration_stops_on_ties_instead_of_cycling():
    # two identical actions: Algorithm 2.6 as printed could switch between them forever
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    mdp = MDP(P, np.zeros((2, 2)), 0.9)
    calls = []
    policy, V = policy_iteration(mdp, callback=lambda k, pi, V: calls.append(k))
    assert len(calls) <= 2
    np.testing.assert_allclose(V, 0.0)


def test_non_terminating_undiscounted_policy_gives_a_clear_error():
    mdp = gridworld_4x4()
    always_up = deterministic_policy(np.zeros(16, dtype=int), 4)  # the top row bumps into the wall forever
    with pytest.raises(RuntimeError, match="never terminates"):
        policy_evaluation(mdp, always_up, max_iters=200)
