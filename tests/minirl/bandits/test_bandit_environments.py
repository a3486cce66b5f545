"""Bandit environments (book ch. 2.2.2-2.2.4, Algorithms 2.3 and 2.4): shapes, reward distributions, seeding,
and the errors a learner meets."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.bandits import (AdversarialBandit, BernoulliBandit, DiscreteContextualBandit, GaussianBandit,
                            LinearContextualBandit, NonStationaryBandit)

ENVIRONMENTS = {
    "gaussian": lambda runs, seed: GaussianBandit(k=4, num_runs=runs, seed=seed),
    "bernoulli": lambda runs, seed: BernoulliBandit(4, num_runs=runs, seed=seed),
    "nonstationary": lambda runs, seed: NonStationaryBandit(k=4, num_runs=runs, seed=seed),
    "adversarial": lambda runs, seed: AdversarialBandit(np.random.default_rng(seed).random((20, 4)), num_runs=runs),
    "linear": lambda runs, seed: LinearContextualBandit(k=4, dim=3, num_runs=runs, seed=seed),
    "discrete": lambda runs, seed: DiscreteContextualBandit(k=4, num_contexts=3, num_runs=runs, seed=seed),
}


@pytest.mark.parametrize("make", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_outcome_shapes_and_the_pulled_arms_rewards(make):
    env = make(7, 0)
    actions = np.arange(7) % 4
    outcome = env.step(actions)
    assert outcome.rewards.shape == (7,)
    assert outcome.reward_vector.shape == outcome.means.shape == (7, 4)
    np.testing.assert_array_equal(outcome.rewards, outcome.reward_vector[np.arange(7), actions])


@pytest.mark.parametrize("make", ENVIRONMENTS.values(), ids=ENVIRONMENTS.keys())
def test_a_seed_fixes_every_round(make):
    a, b = make(5, 3), make(5, 3)
    for _ in range(4):
        actions = np.zeros(5, dtype=int)
        np.testing.assert_array_equal(a.step(actions).reward_vector, b.step(actions).reward_vector)


def test_gaussian_testbed_draws_q_star_from_n0_1_and_rewards_around_it():
    env = GaussianBandit(k=10, num_runs=2000, seed=0)
    assert abs(env.q_star.mean()) < 0.05 and abs(env.q_star.std() - 1.0) < 0.05  # q*(a) ~ N(0, 1)
    noise = env.step(np.zeros(2000, dtype=int)).reward_vector - env.q_star  # R ~ N(q*(a), 1)
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05
    assert not np.array_equal(env.q_star[0], env.q_star[1])  # every run is its own problem


def test_gaussian_accepts_given_values_for_all_runs_and_an_offset_testbed():
    env = GaussianBandit(k=3, num_runs=2, seed=0, q_star=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(env.means, [[1, 2, 3], [1, 2, 3]])
    assert abs(GaussianBandit(k=10, num_runs=500, seed=0, q_star_mean=4.0).q_star.mean() - 4.0) < 0.1


def test_bernoulli_pays_zero_or_one_with_the_given_probabilities():
    env = BernoulliBandit([0.1, 0.9], num_runs=20000, seed=0)
    rewards = env.step(np.zeros(20000, dtype=int)).reward_vector
    assert set(np.unique(rewards)) == {0.0, 1.0}
    np.testing.assert_allclose(rewards.mean(axis=0), [0.1, 0.9], atol=0.01)
    drawn = BernoulliBandit(5, num_runs=3, seed=0)
    assert drawn.k == 5 and np.all((drawn.probs >= 0) & (drawn.probs <= 1))


def test_nonstationary_values_start_equal_and_random_walk():
    env = NonStationaryBandit(k=10, num_runs=1000, seed=0, walk_std=0.01)
    np.testing.assert_array_equal(env.q_star, 0.0)
    for _ in range(100):
        outcome = env.step(np.zeros(1000, dtype=int))
    assert not np.array_equal(outcome.means, env.q_star)  # the means of a round are kept as they were
    assert abs(env.q_star.std() - 0.01 * np.sqrt(100)) < 0.005  # a walk of 100 N(0, 0.01²) steps


def test_adversarial_bandit_replays_its_table_in_every_run_then_stops():
    table = np.array([[0.0, 1.0], [0.5, 0.25]])
    env = AdversarialBandit(table, num_runs=3)
    first = env.step(np.array([0, 1, 1]))
    np.testing.assert_array_equal(first.rewards, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(env.step(np.array([0, 0, 1])).rewards, [0.5, 0.5, 0.25])
    with pytest.raises(IndexError, match="all 2 rounds"):
        env.step(np.zeros(3, dtype=int))


def test_linear_contextual_means_are_theta_dot_context():
    theta = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    env = LinearContextualBandit(k=3, dim=2, num_runs=4, seed=0, theta=theta)
    x = env.context.copy()
    outcome = env.step(np.zeros(4, dtype=int))
    np.testing.assert_allclose(outcome.means, x @ theta.T)
    assert not np.array_equal(env.context, x)  # a new context every round


def test_discrete_contexts_are_one_hot_colours():
    env = DiscreteContextualBandit(k=2, num_contexts=3, num_runs=3000, seed=0)
    assert set(map(tuple, env.context)) <= {(1, 0, 0), (0, 1, 0), (0, 0, 1)}
    np.testing.assert_allclose(env.context.mean(axis=0), 1 / 3, atol=0.03)  # colours are uniform
    colour = env.context.argmax(axis=1)
    np.testing.assert_allclose(env.means, env.theta[np.arange(3000), :, colour])  # θ_{a,c}


@given(k=st.integers(1, 6), runs=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_bernoulli_rewards_lie_in_0_1_as_algorithm_2_3_asks(k, runs, seed):
    outcome = BernoulliBandit(k, num_runs=runs, seed=seed).step(np.zeros(runs, dtype=int))
    assert np.all((outcome.reward_vector == 0) | (outcome.reward_vector == 1))


@pytest.mark.parametrize("make, message", [
    (lambda: GaussianBandit(k=0), r"k: expected an integer >= 1, got 0"),
    (lambda: GaussianBandit(k=3, num_runs=0), r"num_runs: expected an integer >= 1, got 0"),
    (lambda: GaussianBandit(k=3, q_star=[1.0, 2.0]), r"q_star: expected shape \(1, 3\), got \(2,\)"),
    (lambda: GaussianBandit(k=3, noise_std=0.0), r"noise_std: expected a number > 0"),
    (lambda: BernoulliBandit([0.5, 1.5]), r"probs: expected probabilities in \[0, 1\]"),
    (lambda: BernoulliBandit(0), r"probs \(the number of arms\): expected an integer >= 1"),
    (lambda: NonStationaryBandit(k=-1), r"k: expected an integer >= 1, got -1"),
    (lambda: AdversarialBandit([0.1, 0.2]), r"rewards: expected a \(T, k\) table, got shape \(2,\)"),
    (lambda: AdversarialBandit([[0.1, 2.0]]), r"expected every reward in \[0, 1\]"),
    (lambda: LinearContextualBandit(k=2, dim=3, theta=np.zeros((3, 2))), r"theta: expected shape \(1, 2, 3\)"),
])
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("actions, message", [
    (np.zeros(3, dtype=int), r"actions: expected an integer array of shape \(2,\), got int64 of shape \(3,\)"),
    (np.zeros(2), r"actions: expected an integer array of shape \(2,\), got float64"),
    (np.array([0, 5]), r"actions: expected arms in 0..3, got \[0 5\]"),
])
def test_bad_actions_are_refused(actions, message):
    with pytest.raises(ValueError, match=message):
        GaussianBandit(k=4, num_runs=2, seed=0).step(actions)
