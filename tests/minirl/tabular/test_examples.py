"""The example MDPs solved by DP against the published numbers: the book's student MDP (ch. 2.3) and
Sutton & Barto (2018) Figs 3.2, 3.5, 4.1, 4.2, 4.3 and Examples 6.2, 6.5, 6.7, 7.1, 8.1, 13.1."""

import numpy as np
import pytest

from minirl.tabular import examples
from minirl.tabular.dp import exact_policy_evaluation, policy_iteration, value_iteration
from minirl.tabular.mdp import deterministic_policy, uniform_policy
from minirl.tabular.operators import bellman_expectation, bellman_optimality, q_from_v


def test_student_mdp_optimal_policy_works_through_to_the_exam():
    mdp = examples.student_mdp(0.9)
    policy, V = value_iteration(mdp, tol=1e-12)
    np.testing.assert_allclose(V, [3.87, 4.3, 7.0, 10.0, 0.0], atol=1e-9)
    play, sleep, work, rest = range(4)
    assert policy[:4].argmax(axis=1).tolist() == [work, work, work, sleep]
    t1, t2 = 1, 2
    np.testing.assert_allclose(mdp.P[t2, rest], [0, 0.2, 0.8, 0, 0])  # L11479-11491
    assert mdp.P[t1, work, t2] == 1.0 and mdp.P[t1, rest, t2] == 0.0


# --- Sutton & Barto Example 4.1: the 4x4 gridworld ----------------------------------------------------------------

FIG_4_1_K3 = [[0.0, -2.4, -2.9, -3.0], [-2.4, -2.9, -3.0, -2.9], [-2.9, -3.0, -2.9, -2.4], [-3.0, -2.9, -2.4, 0.0]]
FIG_4_1_K10 = [[0.0, -6.1, -8.4, -9.0], [-6.1, -7.7, -8.4, -8.4], [-8.4, -8.4, -7.7, -6.1], [-9.0, -8.4, -6.1, 0.0]]
FIG_4_1_LIMIT = [[0, -14, -20, -22], [-14, -18, -20, -20], [-20, -20, -18, -14], [-22, -20, -14, 0]]


def test_gridworld_4x4_random_policy_values_are_fig_4_1():
    mdp = examples.gridworld_4x4()
    pi = uniform_policy(mdp)
    V = np.zeros(16)
    sweeps = {}
    for k in range(1, 11):
        V = bellman_expectation(mdp, pi, V)  # synchronous sweeps from V_0 = 0, as in the figure
        sweeps[k] = V.reshape(4, 4)
    assert sweeps[2][0, 1] == pytest.approx(-1.75)  # printed -1.7
    np.testing.assert_allclose(sweeps[3], FIG_4_1_K3, atol=0.05)
    np.testing.assert_allclose(sweeps[10], FIG_4_1_K10, atol=0.05)
    np.testing.assert_allclose(exact_policy_evaluation(mdp, pi).reshape(4, 4), FIG_4_1_LIMIT, atol=1e-9)


def test_gridworld_4x4_optimal_values_are_minus_the_distance_to_a_corner():
    _, V = value_iteration(examples.gridworld_4x4())
    rows, cols = np.indices((4, 4))
    distance = np.minimum(rows + cols, 6 - rows - cols)
    np.testing.assert_allclose(V.reshape(4, 4), -distance)


# --- Sutton & Barto Example 3.5: the 5x5 gridworld with the A and B jumps --------------------------------------------

FIG_3_2 = [[3.3, 8.8, 4.4, 5.3, 1.5], [1.5, 3.0, 2.3, 1.9, 0.5], [0.1, 0.7, 0.7, 0.4, -0.4],
           [-1.0, -0.4, -0.4, -0.6, -1.2], [-1.9, -1.3, -1.2, -1.4, -2.0]]
FIG_3_5 = [[22.0, 24.4, 22.0, 19.4, 17.5], [19.8, 22.0, 19.8, 17.8, 16.0], [17.8, 19.8, 17.8, 16.0, 14.4],
           [16.0, 17.8, 16.0, 14.4, 13.0], [14.4, 16.0, 14.4, 13.0, 11.7]]


def test_gridworld_5x5_values_are_figs_3_2_and_3_5():
    mdp = examples.gridworld_5x5()
    np.testing.assert_allclose(exact_policy_evaluation(mdp, uniform_policy(mdp)).reshape(5, 5), FIG_3_2, atol=0.05)
    policy, V = policy_iteration(mdp)
    np.testing.assert_allclose(V.reshape(5, 5), FIG_3_5, atol=0.05)
    assert policy[1].argmax() == 0 and (policy[1] == 1).sum() == 1  # in A every action is the jump; takes the first


# --- Sutton & Barto Example 4.3: the gambler's problem (p_h = 0.4) ---------------------------------------------------

def test_gamblers_problem_optimal_values_and_policy_have_the_shape_of_fig_4_3():
    mdp = examples.gamblers_problem(p_h=0.4)
    policy, V = value_iteration(mdp, tol=1e-12)
    assert np.all(np.diff(V[:100]) > 0) and V[0] == 0 and V[100] == 0  # terminal values are 0
    np.testing.assert_allclose(V[[25, 50, 75]], [0.16, 0.4, 0.64], atol=1e-9)
    stakes = np.asarray(mdp.actions)[policy.argmax(axis=1)]
    assert stakes[[25, 50, 75]].tolist() == [25, 50, 25]  # the spikes of Fig 4.3
    assert stakes[1:13].tolist() == list(range(1, 13))  # bold play while the capital is small
    # bold play (stake everything that can be staked) is optimal in a subfair game (Dubins & Savage)
    s = np.arange(101)
    bold = deterministic_policy(np.maximum(np.minimum(s, 100 - s), 1) - 1, len(mdp.actions))
    np.testing.assert_allclose(exact_policy_evaluation(mdp, bold)[1:100], V[1:100], atol=1e-9)


# --- Sutton & Barto Example 4.2: Jack's car rental ------------------------------------------------------------------

def _jack_policy(policy):
    """Cars moved from location 1 to 2, as a 21x21 grid indexed [cars at 1, cars at 2]."""
    return (policy.argmax(axis=1) - 5).reshape(21, 21)


def _check_jacks_policy_is_fig_4_2(moves, V):
    assert moves[0, 0] == 0 and moves[20, 0] == 5 and moves[0, 20] == -4  # corners of π4
    assert moves.min() == -4 and moves.max() == 5
    assert np.all(np.diff(moves, axis=0) >= 0) and np.all(np.diff(moves, axis=1) <= 0)  # the staircase contours
    assert np.all(moves[np.arange(8, 21), np.arange(8, 21)] == 0)  # balanced counts: move nothing
    # v4 of Fig 4.2 spans about 420 (no cars) to 612 on its axis; with the Poisson tails summed exactly (no
    # truncation) the range is 421.4..637.0, as independent exact reproductions also report
    assert V.min() == pytest.approx(421.4, abs=0.5) and V.max() == pytest.approx(637.0, abs=0.5)


def test_jacks_car_rental_policy_iteration_gives_fig_4_2_in_four_improvements():
    mdp = examples.jacks_car_rental()
    evaluations = []
    policy, V = policy_iteration(mdp, exact=True, policy=deterministic_policy(np.full(441, 5), 11),  # π0: move none
                                 callback=lambda k, pi, V: evaluations.append(k))
    assert len(evaluations) == 5  # π0 .. π4, as in the figure
    _check_jacks_policy_is_fig_4_2(_jack_policy(policy), V)


@pytest.mark.slow
def test_jacks_car_rental_book_algorithms_agree():
    mdp = examples.jacks_car_rental()
    policy, V = policy_iteration(mdp, tol=1e-6, policy=deterministic_policy(np.full(441, 5), 11))  # Alg 2.6
    _check_jacks_policy_is_fig_4_2(_jack_policy(policy), V)
    vi_policy, V_vi = value_iteration(mdp, tol=1e-8)  # Alg 2.7
    np.testing.assert_allclose(V_vi, V, atol=1e-4)
    np.testing.assert_array_equal(_jack_policy(vi_policy), _jack_policy(policy))
    _, V_in_place = value_iteration(mdp, tol=1e-8, in_place=True)  # (2.49)
    np.testing.assert_allclose(V_in_place, V, atol=1e-4)


def test_jacks_car_rental_transition_tables_are_distributions_with_poisson_means():
    mdp = examples.jacks_car_rental()
    assert mdp.P.shape == (441, 11, 441)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    # with 20 cars at each location the expected income is close to 10 * (3 + 4): few requests exceed 20
    assert mdp.expected_reward[440, 5] == pytest.approx(70.0, abs=1e-3)
    assert mdp.expected_reward[440, 10] == pytest.approx(70.0 - 10.0, abs=1e-3)  # moving 5 cars costs 10


# --- the models behind the toy-text environments -------------------------------------------------------------------

def test_windy_gridworld_shortest_path_takes_15_steps_or_7_with_kings_moves():
    start = np.ravel_multi_index((3, 0), (7, 10))
    assert value_iteration(examples.windy_gridworld())[1][start] == pytest.approx(-15)
    assert value_iteration(examples.windy_gridworld(king_moves=True))[1][start] == pytest.approx(-7)


def test_dyna_maze_shortest_path_takes_14_steps():
    mdp = examples.dyna_maze()
    start = int(np.flatnonzero(mdp.initial_distribution)[0])
    assert value_iteration(mdp, tol=1e-12)[1][start] == pytest.approx(0.95 ** 13)


@pytest.mark.parametrize("n, left, expected", [(5, 0.0, np.arange(1, 6) / 6),
                                               (19, -1.0, (np.arange(1, 20) - 10) / 10)])
def test_random_walk_true_values(n, left, expected):
    mdp = examples.random_walk(n, left_reward=left)
    V = exact_policy_evaluation(mdp, np.ones((n + 2, 1)))
    np.testing.assert_allclose(V[1:-1], expected, atol=1e-12)
    assert mdp.initial_distribution.argmax() == (n + 1) // 2  # the middle state


def test_maximization_bias_optimal_action_in_a_is_right():
    mdp = examples.maximization_bias()
    policy, V = value_iteration(mdp)
    Q = q_from_v(mdp, V)
    assert Q[0, 0] == pytest.approx(-0.1) and Q[0, 1] == 0.0  # left (even) leads to B, right (odd) ends
    assert policy[0].argmax() % 2 == 1


def test_short_corridor_best_state_blind_policy():
    mdp = examples.short_corridor()
    p = np.linspace(0.01, 0.99, 99)
    values = [exact_policy_evaluation(mdp, np.tile([1 - q, q], (4, 1)))[0] for q in p]
    best = int(np.argmax(values))
    assert p[best] == pytest.approx(2 - np.sqrt(2), abs=0.01)
    assert values[best] == pytest.approx(-(6 + 4 * np.sqrt(2)), abs=0.01)
    assert value_iteration(mdp)[1][0] == pytest.approx(-3)  # seeing the state, 3 steps suffice


def test_frozen_lake_optimal_success_probabilities():
    # Gymnasium registers FrozenLake-v1 with "optimum = 0.74" in 100 steps and FrozenLake8x8-v1 with 0.91 in 200
    for name, horizon, within_limit, unlimited in [("4x4", 100, 0.744, 14 / 17), ("8x8", 200, 0.913, 1.0)]:
        mdp = examples.frozen_lake(name)
        V = np.zeros(mdp.num_states)
        for _ in range(horizon):  # finite-horizon DP: V_k = T* V_{k-1} is the best success within k steps
            V = bellman_optimality(mdp, V)
        assert V[0] == pytest.approx(within_limit, abs=1e-3)
        assert value_iteration(mdp, tol=1e-12)[1][0] == pytest.approx(unlimited, abs=1e-6)


def test_cliff_walking_optimal_path_walks_along_the_edge():
    policy, V = value_iteration(examples.cliff_walking())
    assert V[36] == -13  # up, 11 steps right, down
    assert policy[36].argmax() == examples.UP and (policy[25:35].argmax(axis=1) == examples.RIGHT).all()
