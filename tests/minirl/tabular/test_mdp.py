"""MRP / MDP models (book 2.3): validation, the student MRP's numbers (BOOK_MAP §2.2), induced MRPs, outcome
tables and policy helpers."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.tabular.examples import student_mrp
from minirl.tabular.mdp import (MDP, MRP, deterministic_policy, greedy_policy_from, random_mdp,
                                uniform_policy)

mdps = st.builds(random_mdp, st.integers(1, 5), st.integers(1, 3), st.floats(0.0, 0.95),
                 st.integers(0, 2**32 - 1), reward_depends_on_next_state=st.booleans(),
                 sparsity=st.sampled_from([0.0, 0.7]))

G, T1, T2, REST, PASS, BED = range(6)


# --- the student MRP of figs 2.4-2.8 ---------------------------------------------------------------------------

def test_student_mrp_exact_values_by_inverse_matrix_method():
    V = student_mrp(0.9).solve()  # (2.29)
    expected = np.array([-8909920, -1848620, 5730280, 6001660]) / 1526509
    np.testing.assert_allclose(V[:4], expected, rtol=1e-12)
    np.testing.assert_allclose(V[4:], [10.0, 0.0])


def test_student_mrp_undiscounted_values_use_bed_as_the_end():
    np.testing.assert_allclose(student_mrp(1.0).solve(), [-38 / 3, -8 / 3, 94 / 21, 100 / 21, 10, 0])


def test_student_mrp_iterative_evaluation_matches_closed_form():
    mrp = student_mrp(0.9)
    np.testing.assert_allclose(mrp.evaluate(tol=1e-12), mrp.solve(), atol=1e-10)


@pytest.mark.parametrize("trajectory, gamma, expected", [
    ([G, T1, T2, PASS, BED], 1.0, 5.0),      # (2.12), L11263
    ([G, T1, T2, PASS, BED], 0.9, 2.87),     # (2.13), L11295
    ([T2, BED], 0.9, -2.0),                  # the four Monte-Carlo samples of V(t2), L11357-11373
    ([T2, PASS, BED], 0.9, 7.0),
    ([T2, REST, T2, PASS, BED], 0.9, 4.57),
    ([T2, REST, T1, T2, BED], 0.9, -4.178),  # the book prints -0.178 (BOOK_MAP §5.1 erratum 1)
])
def test_student_mrp_returns_of_the_books_trajectories(trajectory, gamma, expected):
    assert student_mrp(gamma).return_of(trajectory) == pytest.approx(expected)


def test_monte_carlo_estimate_of_v_t2_from_the_four_samples_is_the_corrected_1_348():
    mrp = student_mrp(0.9)
    samples = [[T2, BED], [T2, PASS, BED], [T2, REST, T2, PASS, BED], [T2, REST, T1, T2, BED]]
    assert np.mean([mrp.return_of(t) for t in samples]) == pytest.approx(1.348)  # book: 2.348 (erratum)


def test_sampled_returns_average_to_the_value():
    mrp = student_mrp(0.9)
    rng = np.random.default_rng(0)
    returns = [mrp.sample_return(T2, rng) for _ in range(4000)]
    assert np.mean(returns) == pytest.approx(mrp.solve()[T2], abs=0.15)
    trajectory = mrp.sample_trajectory(G, rng)
    assert trajectory[0] == G and trajectory[-1] == BED and BED not in trajectory[:-1]


def test_mrp_as_mdp_pays_the_state_reward_on_leaving():
    mdp = student_mrp(0.9).as_mdp()
    assert (mdp.num_states, mdp.num_actions) == (6, 1)
    np.testing.assert_allclose(mdp.induced_mrp(np.ones((6, 1))).solve(), student_mrp(0.9).solve())


# --- validation --------------------------------------------------------------------------------------------------

def test_mdp_errors_name_the_expected_and_actual_shapes():
    P = np.full((3, 2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"P must have shape \(S, A, S\).*got \(3, 3\)"):
        MDP(np.eye(3), np.zeros((3, 2)), 0.9)
    with pytest.raises(ValueError, match=r"R must have shape \(S, A\) = \(3, 2\) or \(S, A, S\) = \(3, 2, 3\).*"
                                         r"got \(2, 3\)"):
        MDP(P, np.zeros((2, 3)), 0.9)
    with pytest.raises(ValueError, match=r"MRP: R must have shape \(S,\) = \(3,\)"):
        MRP(np.eye(3), np.zeros(4), 0.9)


def test_rows_that_are_not_distributions_are_reported_with_their_index_and_sum():
    P = np.full((3, 2, 3), 1 / 3)
    P[1, 0] = [0.5, 0.4, 0.0]
    with pytest.raises(ValueError, match=r"row P\[1, 0, :\] sums to 0.9"):
        MDP(P, np.zeros((3, 2)), 0.9)
    P[1, 0] = [1.5, -0.5, 0.0]
    with pytest.raises(ValueError, match=r"non-negative.*P\[1, 0, 1\]"):
        MDP(P, np.zeros((3, 2)), 0.9)


@pytest.mark.parametrize("gamma", [-0.1, 1.5])
def test_gamma_outside_unit_interval_is_rejected(gamma):
    with pytest.raises(ValueError, match="gamma must lie in"):
        MRP(np.eye(2), np.zeros(2), gamma)


def test_non_finite_entries_are_rejected():
    with pytest.raises(ValueError, match="R must be finite"):
        MRP(np.eye(2), [0.0, np.nan], 0.9)


def test_policy_shape_errors_suggest_deterministic_policy():
    mdp = random_mdp(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"shape \(S, A\) = \(4, 2\), got \(4,\).*deterministic_policy"):
        mdp.induced_mrp(np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"row policy\[2, :\] sums to 2"):
        mdp.induced_mrp(np.array([[1, 0], [0, 1], [1, 1], [1, 0]]))


def test_undiscounted_mrp_that_never_ends_gives_a_clear_error():
    with pytest.raises(np.linalg.LinAlgError, match="use γ < 1"):
        MRP([[0, 1], [1, 0]], [1.0, 1.0], 1.0).solve()


# --- structure -----------------------------------------------------------------------------------------------------

def test_terminal_states_become_absorbing_with_zero_reward():
    mdp = MDP(np.full((3, 2, 3), 1 / 3), np.ones((3, 2)), 0.9, terminal_states=[2])
    np.testing.assert_array_equal(mdp.P[2], [[0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(mdp.expected_reward[2], [0, 0])
    np.testing.assert_allclose(mdp.initial_distribution, [0.5, 0.5, 0.0])
    assert mdp.terminal_states.tolist() == [2]


@given(mdps)
def test_induced_mrp_averages_dynamics_and_rewards_over_the_policy(mdp):
    rng = np.random.default_rng(0)
    policy = rng.dirichlet(np.ones(mdp.num_actions), size=mdp.num_states)
    mrp = mdp.induced_mrp(policy)
    for s in range(mdp.num_states):
        np.testing.assert_allclose(mrp.P[s], sum(policy[s, a] * mdp.P[s, a] for a in range(mdp.num_actions)))
        assert mrp.R[s] == pytest.approx(policy[s] @ mdp.expected_reward[s])


@given(mdps)
def test_expected_reward_is_the_mean_over_next_states(mdp):
    if mdp.R.ndim == 3:
        s, a = mdp.num_states - 1, mdp.num_actions - 1
        assert mdp.expected_reward[s, a] == pytest.approx(mdp.P[s, a] @ mdp.R[s, a])
    else:
        assert mdp.expected_reward is mdp.R


def test_from_outcomes_merges_outcomes_with_the_same_next_state():
    # one state-action with three outcomes; two of them land in state 0 with different rewards
    probs = np.array([[[0.25, 0.25, 0.5]], [[1.0, 0.0, 0.0]]])
    next_states = np.array([[[0, 0, 1]], [[1, 1, 1]]])
    rewards = np.array([[[-1.0, -100.0, 2.0]], [[0.0, 0.0, 0.0]]])
    mdp = MDP.from_outcomes(probs, next_states, rewards, 0.9, terminal_states=[1])
    np.testing.assert_allclose(mdp.P[0, 0], [0.5, 0.5])
    assert mdp.R[0, 0, 0] == pytest.approx(-50.5)  # E[r | s'=0]
    assert mdp.expected_reward[0, 0] == pytest.approx(0.25 * -1 + 0.25 * -100 + 0.5 * 2)
    assert mdp.outcomes[1][0, 0].tolist() == [0, 0, 1]  # kept in their order


def test_policy_helpers():
    q = np.array([[1.0, 3.0, 3.0], [0.0, -1.0, -2.0]])
    np.testing.assert_array_equal(greedy_policy_from(q), [[0, 1, 0], [1, 0, 0]])  # ties: lowest index
    np.testing.assert_array_equal(greedy_policy_from(q, ties="split"), [[0, 0.5, 0.5], [1, 0, 0]])
    np.testing.assert_array_equal(deterministic_policy([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_allclose(uniform_policy(random_mdp(2, 4, seed=0)), 0.25)
    with pytest.raises(ValueError, match="ties must be"):
        greedy_policy_from(q, ties="random")
