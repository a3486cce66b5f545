"""Thompson sampling with Beta and normal posteriors: conjugate updates against the batch posterior, and
probability matching (each arm is pulled with the posterior probability that it is the best)."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.bandits import ThompsonBernoulli, ThompsonGaussian


def test_beta_posterior_counts_successes_and_failures():
    agent = ThompsonBernoulli(k=3, seed=0)
    for arm, reward in [(0, 1), (0, 1), (0, 0), (2, 0), (2, 0)]:
        agent.update(np.array([arm]), np.array([reward]))
    np.testing.assert_array_equal(agent.alpha[0], [1 + 2, 1, 1])  # Beta(1 + successes, 1 + failures)
    np.testing.assert_array_equal(agent.beta[0], [1 + 1, 1, 1 + 2])


def test_bernoulli_thompson_pulls_each_arm_with_the_probability_that_it_is_best():
    agent = ThompsonBernoulli(k=2, num_runs=40000, seed=0)
    agent.update(np.zeros(40000, dtype=int), np.ones(40000))  # arm 0: Beta(2, 1), arm 1: Beta(1, 1)
    # P(X > Y) for X ~ Beta(2, 1) (density 2x) and Y ~ U(0, 1) is ∫ 2x · x dx = 2/3
    assert abs(np.mean(agent.act() == 0) - 2 / 3) < 0.01


@given(rewards=st.lists(st.floats(-5, 5), min_size=1, max_size=20), noise_std=st.floats(0.1, 3),
       prior_mean=st.floats(-2, 2), prior_std=st.floats(0.1, 3))
def test_gaussian_posterior_matches_the_batch_formula(rewards, noise_std, prior_mean, prior_std):
    agent = ThompsonGaussian(k=2, noise_std=noise_std, prior_mean=prior_mean, prior_std=prior_std, seed=0)
    for r in rewards:
        agent.update(np.array([1]), np.array([r]))
    # precision τ = 1/σ0² + n/σ², mean m = (µ0/σ0² + Σ R/σ²) / τ
    precision = 1 / prior_std**2 + len(rewards) / noise_std**2
    mean = (prior_mean / prior_std**2 + sum(rewards) / noise_std**2) / precision
    assert agent.posterior_precision[0, 1] == pytest.approx(precision, rel=1e-9)
    assert agent.posterior_mean[0, 1] == pytest.approx(mean, rel=1e-9, abs=1e-9)
    assert agent.posterior_mean[0, 0] == prior_mean  # the other arm keeps its prior


def test_gaussian_thompson_pulls_each_arm_with_the_probability_that_it_is_best():
    agent = ThompsonGaussian(k=2, num_runs=40000, seed=0)
    agent.posterior_mean[:, 1] = 1.0  # posteriors N(0, 1) and N(1, 1)
    # P(Y > X) = P(N(1, 2) > 0) = Φ(1/√2)
    assert abs(np.mean(agent.act() == 1) - 0.5 * (1 + math.erf(0.5))) < 0.01


def test_bernoulli_thompson_refuses_rewards_other_than_0_or_1():
    with pytest.raises(ValueError, match=r"ThompsonBernoulli expects rewards 0 or 1, got \[0.5\]"):
        ThompsonBernoulli(k=2, seed=0).update(np.array([0]), np.array([0.5]))


@pytest.mark.parametrize("make, message", [
    (lambda: ThompsonBernoulli(k=2, prior_alpha=0.0), r"prior_alpha: expected a number > 0"),
    (lambda: ThompsonGaussian(k=2, noise_std=-1.0), r"noise_std: expected a number > 0"),
    (lambda: ThompsonGaussian(k=0), r"k: expected an integer >= 1, got 0"),
])
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()
