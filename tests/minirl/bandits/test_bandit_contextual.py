"""Contextual bandits (book ch. 2.2.4): LinUCB's ridge regression and confidence bound, and per-context ε-greedy."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from minirl.bandits import ContextualEpsilonGreedy, LinUCB


@st.composite
def pulls(draw, k=3, dim=3):
    """A short history of (arm, context, reward)."""
    n = draw(st.integers(1, 12))
    arms = draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
    contexts = draw(arrays(np.float64, (n, dim), elements=st.floats(-3, 3)))
    rewards = draw(arrays(np.float64, n, elements=st.floats(-3, 3)))
    return arms, contexts, rewards


@given(history=pulls())
def test_linucb_keeps_the_inverse_and_the_ridge_regression_of_every_arm(history):
    arms, contexts, rewards = history
    agent = LinUCB(k=3, dim=3, alpha=1.0, seed=0)
    for arm, x, r in zip(arms, contexts, rewards):
        agent.update(np.array([arm]), np.array([r]), x[None])
    for a in range(3):
        X, R = contexts[arms == a], rewards[arms == a]
        A = np.eye(3) + X.T @ X  # A_a = I + Σ x xᵀ
        np.testing.assert_allclose(agent.A_inv[0, a], np.linalg.inv(A), atol=1e-8)  # Sherman-Morrison
        np.testing.assert_allclose(agent.b[0, a], X.T @ R, atol=1e-12)  # b_a = Σ R x
        np.testing.assert_allclose(agent.theta[0, a], np.linalg.solve(A, X.T @ R), atol=1e-8)  # ridge regression


@pytest.mark.parametrize("alpha, expected_arm", [(1.0, 0), (4.0, 1)])
def test_linucb_upper_bound_by_hand(alpha, expected_arm):
    agent = LinUCB(k=2, dim=2, alpha=alpha, seed=0)
    agent.update(np.array([0]), np.array([2.0]), np.array([[1.0, 0.0]]))
    # arm 0: A = diag(2, 1), b = (2, 0), θ̂ = (1, 0); arm 1 untouched: A = I, θ̂ = 0
    x = np.array([[1.0, 0.0]])
    bounds = [1.0 + alpha * math.sqrt(1 / 2), 0.0 + alpha * math.sqrt(1.0)]  # θ̂ᵀx + α sqrt(xᵀA⁻¹x)
    np.testing.assert_allclose(agent.upper_bounds(x)[0], bounds)
    assert agent.act(x)[0] == expected_arm  # α = 1: exploit arm 0 (1.71 > 1); α = 4: explore arm 1 (3.83 < 4)


def test_contextual_epsilon_greedy_keeps_one_table_row_per_context():
    agent = ContextualEpsilonGreedy(k=2, num_contexts=2, epsilon=0.0, num_runs=2, seed=0)
    red, blue = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]])
    agent.update(np.array([0, 1]), np.array([1.0, -1.0]), red)
    agent.update(np.array([1, 1]), np.array([2.0, 3.0]), blue)
    np.testing.assert_array_equal(agent.Q[0], [[1.0, 0.0], [0.0, 2.0]])  # Q(colour, arm) of run 0
    np.testing.assert_array_equal(agent.Q[1], [[0.0, -1.0], [0.0, 3.0]])
    np.testing.assert_array_equal(agent.act(blue), [1, 1])
    assert agent.act(red)[0] == 0  # run 0: under red, arm 0 is the better


def test_contexts_must_have_the_expected_shape_and_codes():
    with pytest.raises(ValueError, match=r"context: expected one-hot rows"):
        ContextualEpsilonGreedy(k=2, num_contexts=2, epsilon=0.1, seed=0).act(np.array([[0.5, 0.5]]))
    with pytest.raises(ValueError, match=r"context: expected shape \(1, 3\), got \(1, 2\)"):
        LinUCB(k=2, dim=3, seed=0).act(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"context: expected an array of shape \(1, 3\), got None"):
        LinUCB(k=2, dim=3, seed=0).act(None)


@pytest.mark.parametrize("make, message", [
    (lambda: LinUCB(k=2, dim=0), r"dim: expected an integer >= 1, got 0"),
    (lambda: LinUCB(k=2, dim=2, alpha=-1.0), r"alpha: expected a number >= 0, got -1.0"),
    (lambda: ContextualEpsilonGreedy(k=2, num_contexts=0, epsilon=0.1), r"num_contexts: expected an integer >= 1"),
    (lambda: ContextualEpsilonGreedy(k=2, num_contexts=2, epsilon=2), r"epsilon: expected a number in \[0, 1\]"),
])
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()
