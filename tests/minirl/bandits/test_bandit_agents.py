"""ε-greedy, UCB and the gradient bandit (book ch. 2.2.1-2.2.2, eqs. 2.3 and 2.7; Sutton & Barto §2.8):
each update rule against a hand computation on tiny inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.bandits import UCB, EpsilonGreedy, GradientBandit

rewards_lists = st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=30)


def pull(agent, arm, reward):
    """One update of a single-run agent."""
    agent.update(np.array([arm]), np.array([reward]))


@given(rewards=rewards_lists)
def test_incremental_mean_equals_the_sample_average(rewards):
    # Q_{n+1} = Q_n + (R_n - Q_n)/n (book 2.2.1) is Σ R_i / n without storing the R_i
    agent = EpsilonGreedy(k=2, epsilon=0.1, seed=0)
    for r in rewards:
        pull(agent, 1, r)
    assert agent.Q[0, 1] == pytest.approx(np.mean(rewards), abs=1e-9)
    assert agent.N[0, 1] == len(rewards) and agent.Q[0, 0] == 0.0 and agent.N[0, 0] == 0


@given(rewards=rewards_lists, alpha=st.floats(0.01, 1.0), q1=st.floats(-5, 5))
def test_constant_step_size_is_an_exponential_recency_weighted_average(rewards, alpha, q1):
    # Q_{n+1} = (1-α)^n Q_1 + Σ_i α (1-α)^{n-i} R_i   (Sutton & Barto eq. 2.6)
    agent = EpsilonGreedy(k=1, epsilon=0.0, step_size=alpha, initial_value=q1, seed=0)
    for r in rewards:
        pull(agent, 0, r)
    n = len(rewards)
    expected = (1 - alpha) ** n * q1 + sum(alpha * (1 - alpha) ** (n - i) * r for i, r in enumerate(rewards, 1))
    assert agent.Q[0, 0] == pytest.approx(expected, abs=1e-9)


def test_sample_averages_forget_an_optimistic_start_after_one_reward():
    agent = EpsilonGreedy(k=2, epsilon=0.0, initial_value=5.0, seed=0)
    pull(agent, 0, 0.5)
    np.testing.assert_array_equal(agent.Q, [[0.5, 5.0]])  # α = 1/1 replaces Q_1


def test_greedy_takes_the_best_estimate_and_breaks_ties_at_random():
    agent = EpsilonGreedy(k=3, epsilon=0.0, num_runs=3000, seed=0)
    agent.Q[:] = [1.0, 3.0, 3.0]
    actions = agent.act()
    assert set(actions) == {1, 2}  # A_t = argmax_a Q_t(a) (2.3)
    assert abs(np.mean(actions == 1) - 0.5) < 0.05


def test_epsilon_greedy_explores_uniformly_with_probability_epsilon():
    agent = EpsilonGreedy(k=4, epsilon=0.2, num_runs=40000, seed=0)
    agent.Q[:] = [0.0, 0.0, 1.0, 0.0]
    frequencies = np.bincount(agent.act(), minlength=4) / 40000
    np.testing.assert_allclose(frequencies, [0.05, 0.05, 0.85, 0.05], atol=0.01)  # 1-ε+ε/k on the greedy arm


def test_ucb_tries_every_untried_arm_first():
    agent = UCB(k=4, c=2.0, num_runs=1, seed=0)
    agent.Q[0] = [0.0, 100.0, 0.0, 0.0]
    agent.N[0] = [0, 3, 0, 0]
    chosen = set()
    for _ in range(3):
        (arm,) = agent.act()
        assert agent.N[0, arm] == 0  # N_t(a) = 0 counts as maximal
        chosen.add(arm)
        pull(agent, arm, -1.0)
    assert chosen == {0, 2, 3}


@pytest.mark.parametrize("c, expected_arm", [(1.0, 1), (2.0, 0)])
def test_ucb_then_takes_the_argmax_of_equation_2_7(c, expected_arm):
    agent = UCB(k=3, c=c, seed=0)
    for arm, reward in [(0, 1.0), (1, 2.0), (1, 2.0), (1, 2.0), (2, 0.0)]:
        pull(agent, arm, reward)
    # Q = (1, 2, 0), N = (1, 3, 1), t = 6: the bounds are Q + c sqrt(ln 6 / N)
    bounds = [1.0 + c * math.sqrt(math.log(6) / 1), 2.0 + c * math.sqrt(math.log(6) / 3),
              0.0 + c * math.sqrt(math.log(6) / 1)]
    np.testing.assert_allclose(agent.upper_bounds()[0], bounds)
    # c = 1: (2.339, 2.773, 1.339), exploit arm 1; c = 2: (3.677, 3.546, 2.677), explore arm 0
    assert np.argmax(bounds) == expected_arm and agent.act()[0] == expected_arm


def test_gradient_bandit_preference_update_with_a_baseline():
    alpha = 0.5
    agent = GradientBandit(k=3, step_size=alpha, baseline=True, seed=0)
    pull(agent, 0, 1.0)
    np.testing.assert_array_equal(agent.H, 0.0)  # R̄_1 = R_1, so R_1 - R̄_1 = 0
    pull(agent, 1, 3.0)
    # π = (1/3, 1/3, 1/3), R̄_2 = 1: H(a) += α (3 - 1)(1[a = 1] - 1/3)
    np.testing.assert_allclose(agent.H[0], alpha * 2.0 * (np.array([0, 1, 0]) - 1 / 3))
    assert agent.average_reward[0] == 2.0


def test_gradient_bandit_preference_update_without_a_baseline():
    agent = GradientBandit(k=2, step_size=0.1, baseline=False, seed=0)
    agent.H[0] = [0.0, math.log(3)]  # π = (1/4, 3/4)
    np.testing.assert_allclose(agent.probabilities()[0], [0.25, 0.75])
    pull(agent, 1, 2.0)
    # H(0) += 0.1·2·(0 - 1/4) = -0.05,  H(1) += 0.1·2·(1 - 3/4) = +0.05
    np.testing.assert_allclose(agent.H[0], [-0.05, math.log(3) + 0.05])


@given(H=st.lists(st.floats(-50, 50), min_size=1, max_size=8))
def test_gradient_bandit_probabilities_are_a_distribution(H):
    agent = GradientBandit(k=len(H), seed=0)
    agent.H[0] = H
    pi = agent.probabilities()[0]
    assert np.all(pi >= 0) and pi.sum() == pytest.approx(1.0)
    assert pi[np.argmax(H)] == pi.max()  # a higher preference is never a lower probability


def test_gradient_bandit_samples_arms_from_its_softmax():
    agent = GradientBandit(k=3, num_runs=40000, seed=0)
    agent.H[:] = np.log([1.0, 2.0, 5.0])
    np.testing.assert_allclose(np.bincount(agent.act(), minlength=3) / 40000, [0.125, 0.25, 0.625], atol=0.01)


@pytest.mark.parametrize("make, message", [
    (lambda: EpsilonGreedy(k=0, epsilon=0.1), r"k: expected an integer >= 1, got 0"),
    (lambda: EpsilonGreedy(k=3, epsilon=1.5), r"epsilon: expected a number in \[0, 1\], got 1.5"),
    (lambda: EpsilonGreedy(k=3, epsilon=-0.1), r"epsilon: expected a number in \[0, 1\], got -0.1"),
    (lambda: EpsilonGreedy(k=3, epsilon=0.1, step_size=0.0), r"step_size: expected None \(sample averages\)"),
    (lambda: UCB(k=3, c=-1.0), r"c: expected a number >= 0, got -1.0"),
    (lambda: GradientBandit(k=3, step_size=0.0), r"step_size: expected a number > 0"),
    (lambda: EpsilonGreedy(k=2.5, epsilon=0.1), r"k: expected an integer >= 1, got 2.5"),
])
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_feedback_is_refused_with_its_shape():
    agent = EpsilonGreedy(k=3, epsilon=0.1, num_runs=2, seed=0)
    with pytest.raises(ValueError, match=r"rewards: expected shape \(2,\), got \(3,\)"):
        agent.update(np.array([0, 1]), np.zeros(3))
    with pytest.raises(ValueError, match=r"actions: expected arms in 0..2"):
        agent.update(np.array([0, 3]), np.zeros(2))
