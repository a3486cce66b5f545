"""Fitted Q iteration (Alg. 4.15) and online Q iteration (Alg. 4.16) against closed forms and tabular methods."""

import numpy as np
import pytest

import minirl.envs as envs
from minirl.algos.fitted_q import (Transitions, collect_transitions, fitted_q_control, fitted_q_iteration,
                                   least_squares_q, model_transitions, online_q_iteration, q_targets)
from minirl.envs import spaces
from minirl.tabular import MDP, OneHot, Polynomial, bellman_optimality_q, examples, q_from_v, q_learning, random_mdp
from minirl.tabular import value_iteration


def empirical_mdp(data: Transitions, mdp: MDP) -> MDP:
    """The certainty-equivalence model of a data set: p̂(s'|s, a) = N(s, a, s') / N(s, a), with `mdp`'s rewards."""
    counts = np.zeros_like(mdp.P)
    np.add.at(counts, (data.states, data.actions, data.next_states), 1.0)
    totals = counts.sum(axis=2, keepdims=True)
    P = np.where(totals > 0, counts / np.maximum(totals, 1), mdp.P)  # unsampled rows (terminal states) as they were
    return MDP(P, mdp.R, mdp.gamma, terminal_states=mdp.terminal)


def test_each_fitted_q_iteration_with_one_hot_features_is_a_bellman_optimality_backup_on_the_data():
    # Q_{k+1}(s, a) = mean of R + γ max_a' Q_k(S', a') over the samples of (s, a) = (T̂* Q_k)(s, a) (2.37) on p̂
    mdp = random_mdp(6, 3, gamma=0.9, seed=0)
    data = model_transitions(mdp, per_pair=5, seed=1)
    model = empirical_mdp(data, mdp)
    history = []
    fitted_q_iteration(data, OneHot(6), 3, mdp.gamma, 8, callback=lambda k, theta: history.append(theta.T.copy()))
    Q = np.zeros((6, 3))
    for fitted in history:
        Q = bellman_optimality_q(model, Q)
        np.testing.assert_allclose(fitted, Q, atol=1e-12)


def test_fitted_q_iteration_converges_to_q_star_with_deterministic_dynamics_and_full_coverage():
    mdp = examples.gridworld_4x4(gamma=0.9)  # deterministic moves, two terminal corners
    data = model_transitions(mdp, per_pair=1, seed=0)
    theta = fitted_q_iteration(data, OneHot(16), 4, mdp.gamma, 30)
    _, V = value_iteration(mdp, tol=1e-12)
    q_star = q_from_v(mdp, V)
    live = ~mdp.terminal
    # a shortest path has at most 6 steps, so after 6 + 1 backups Q is exact (value iteration in finite time)
    np.testing.assert_allclose(theta.T[live], q_star[live], atol=1e-12)
    assert np.all(theta.T[mdp.terminal] == 0.0)  # never a sample from a terminal state: the least-norm answer 0


def test_targets_do_not_bootstrap_from_terminal_states_but_do_after_a_time_limit():
    theta = np.array([[1.0, 0.0], [0.0, 3.0]])  # Q(s', ·) = (φ_0, 3 φ_1)
    next_phi = np.array([[1.0, 1.0], [1.0, 1.0]])
    # the same transition twice: once S' terminal, once cut by a time limit (a data set stores only terminated)
    y = q_targets(theta, rewards=[2.0, 2.0], next_phi=next_phi, terminated=[True, False], gamma=0.5)
    np.testing.assert_allclose(y, [2.0, 2.0 + 0.5 * 3.0])


def test_least_squares_q_is_the_argmin_of_the_squared_error():
    rng = np.random.default_rng(0)
    phi, actions, targets = rng.normal(size=(40, 5)), rng.integers(3, size=40), rng.normal(size=40)
    for ridge in (0.0, 0.3):
        theta = least_squares_q(phi, actions, targets, 3, ridge)

        def objective(t):
            return 0.5 * np.sum((np.sum(t[actions] * phi, axis=1) - targets) ** 2) + 0.5 * ridge * np.sum(t ** 2)

        # the gradient Σ_i (Q_i − Y_i) φ_i e_{A_i} + λθ vanishes, and no perturbation lowers the objective
        residual = np.sum(theta[actions] * phi, axis=1) - targets
        gradient = np.array([phi[actions == a].T @ residual[actions == a] for a in range(3)]) + ridge * theta
        np.testing.assert_allclose(gradient, 0.0, atol=1e-10)
        for _ in range(20):
            assert objective(theta + 1e-3 * rng.normal(size=theta.shape)) > objective(theta)


def test_an_action_without_samples_keeps_the_least_norm_answer_zero():
    phi = np.eye(3)
    theta = least_squares_q(phi, np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]), 3)
    np.testing.assert_allclose(theta, [[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])


def test_fitted_q_iteration_checks_its_inputs():
    data = Transitions(np.array([0]), np.array([3]), np.array([0.0]), np.array([1]), np.array([False]))
    with pytest.raises(ValueError, match="actions must lie in 0..1"):
        fitted_q_iteration(data, OneHot(2), 2, 0.9, 1)
    data = data._replace(actions=np.array([1]))
    with pytest.raises(ValueError, match=r"theta must have shape \(\|A\|, F\) = \(2, 2\)"):
        fitted_q_iteration(data, OneHot(2), 2, 0.9, 1, theta=np.zeros((2, 3)))


def test_fitted_q_iteration_with_polynomial_features_fits_a_linear_q_exactly():
    # a chain 0..4 whose reward is the state index, γ = 0: Q(s, a) = s, which φ(s) = (1, s) represents exactly
    states = np.repeat(np.arange(5), 2)
    data = Transitions(states, np.tile([0, 1], 5), states.astype(float), np.minimum(states + 1, 4),
                       np.zeros(10, dtype=bool))
    theta = fitted_q_iteration(data, Polynomial(1, 0, 4), 2, 0.0, 1)
    np.testing.assert_allclose(theta, [[0.0, 4.0], [0.0, 4.0]], atol=1e-12)  # on s/4: Q = 4 · (s/4)


def test_collect_transitions_starts_a_new_episode_after_each_end():
    env = envs.make("RandomWalk-v0")
    data = collect_transitions(env, lambda obs, rng: 0, 200, seed=0)
    assert len(data.states) == 200 and data.terminated.any()
    ends = np.flatnonzero(data.terminated[:-1])
    np.testing.assert_array_equal(data.states[ends + 1], 3)  # the walk restarts in the middle (state 3 of 0..6)
    np.testing.assert_array_equal(data.states[1:][~data.terminated[:-1]], data.next_states[:-1][~data.terminated[:-1]])


def test_online_q_iteration_with_one_hot_features_is_q_learning_step_for_step():
    for episodes in (1, 2, 5, 20):
        tabular = q_learning(envs.make("CliffWalking-v0"), episodes, alpha=0.5, gamma=0.9, epsilon=0.1, seed=3)
        theta = online_q_iteration(envs.make("CliffWalking-v0"), OneHot(48), int(tabular.lengths.sum()), alpha=0.5,
                                   gamma=0.9, epsilon=0.1, seed=3)
        np.testing.assert_array_equal(theta.T, tabular.Q)


class OneStep(envs.Env):
    """One state, one action, reward 1; the episode ends after one step by termination or by a time limit."""

    def __init__(self, terminated):
        self.terminated = terminated
        self.observation_space, self.action_space = spaces.Discrete(1), spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 0, 1.0, self.terminated, not self.terminated, {}


@pytest.mark.parametrize("terminated", [True, False])
def test_online_q_iteration_bootstraps_after_truncation_only(terminated):
    theta = online_q_iteration(OneStep(terminated), OneHot(1), 1, alpha=0.5, gamma=0.9, theta=[[2.0]], seed=0)
    y = 1.0 if terminated else 1.0 + 0.9 * 2.0
    np.testing.assert_allclose(theta, [[2.0 - 0.5 * (2.0 - y)]])


def test_both_learn_the_shortest_path_on_a_small_gridworld():
    # reward −1 per step: V*(s) = −(1 − γ^n)/(1 − γ), n the steps to the nearest corner, so n = log(1 + (1 − γ)V*)/log γ
    mdp = examples.gridworld_4x4(gamma=0.9)
    _, V = value_iteration(mdp, tol=1e-12)
    shortest = np.round(np.log(1 + 0.1 * V[~mdp.terminal]) / np.log(0.9)).astype(int)
    features = OneHot(16)
    batch = fitted_q_control(envs.make("GridWorld4x4-v0"), features, rounds=3, samples=300, iterations=20,
                             gamma=0.9, epsilon=0.5, seed=0)
    online = online_q_iteration(envs.make("GridWorld4x4-v0"), features, 4000, alpha=0.5, gamma=0.9, epsilon=0.2,
                                seed=0)
    env = envs.make("GridWorld4x4-v0")
    for theta in (batch, online):
        steps = []
        for start in np.flatnonzero(~mdp.terminal):
            s, _ = env.reset(seed=0, options={"state": int(start)})
            n, terminated = 0, False
            while not terminated and n < 20:
                s, _, terminated, _, _ = env.step(int(np.argmax(theta @ features(s))))
                n += 1
            steps.append(n)
        np.testing.assert_array_equal(steps, shortest)
