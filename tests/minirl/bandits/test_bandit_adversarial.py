"""Hedge (book Algorithm 2.5) and Exp3 (Auer et al.) on adversarial bandits (book ch. 2.2.3, Algorithm 2.4):
probabilities, the importance-weighted estimate, and Hedge's regret bound for every reward table."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from minirl.bandits import Exp3, Hedge
from minirl.bandits.adversarial import importance_weighted_gains


@st.composite
def reward_tables(draw, max_rounds=40, max_arms=5):
    """(T, k) tables of rewards in [0, 1], the adversary's choices in Algorithm 2.4."""
    shape = (draw(st.integers(1, max_rounds)), draw(st.integers(1, max_arms)))
    return draw(arrays(np.float64, shape, elements=st.floats(0, 1)))


def test_hedge_probabilities_on_the_worked_example():
    # BOOK_MAP §2.3: η = 1 and cumulative gains G = (0, ln 2) give p = (1/3, 2/3)
    agent = Hedge(k=2, eta=1.0, seed=0)
    agent.update(np.array([0]), np.array([[0.0, math.log(2)]]))
    np.testing.assert_allclose(agent.probabilities()[0], [1 / 3, 2 / 3])


@given(gains=st.lists(st.floats(0, 1), min_size=1, max_size=6), rounds=st.integers(1, 5),
       eta=st.floats(0.01, 10))
def test_hedge_probabilities_are_the_softmax_of_eta_times_cumulative_gains(gains, rounds, eta):
    agent = Hedge(k=len(gains), eta=eta, seed=0)
    for _ in range(rounds):
        agent.update(np.array([0]), np.array([gains]))  # G_i(t) = G_i(t-1) + g_i^t for every arm, pulled or not
    G = rounds * np.array(gains)
    np.testing.assert_allclose(agent.G[0], G)
    p = agent.probabilities()[0]
    np.testing.assert_allclose(p, np.exp(eta * G) / np.exp(eta * G).sum(), rtol=1e-9)
    assert p.sum() == pytest.approx(1.0) and np.all(p > 0)


@given(table=reward_tables(), eta=st.floats(0.01, 5))
def test_hedge_expected_regret_obeys_its_bound_on_every_table(table, eta):
    # Hoeffding's lemma: max_j Σ_t g_j^t - Σ_t p(t)·g^t <= ln k / η + η T / 8, whatever the adversary chose
    T, k = table.shape
    agent = Hedge(k=k, eta=eta, seed=0)
    expected_gain = 0.0
    for gains in table:
        expected_gain += agent.probabilities()[0] @ gains
        agent.update(np.array([0]), gains[None])
    regret = table.sum(axis=0).max() - expected_gain
    assert regret <= math.log(k) / eta + eta * T / 8 + 1e-9


def test_hedge_samples_arms_from_its_probabilities():
    agent = Hedge(k=3, eta=1.0, num_runs=40000, seed=0)
    agent.update(np.zeros(40000, dtype=int), np.tile(np.log([1.0, 3.0, 4.0]), (40000, 1)))
    np.testing.assert_allclose(np.bincount(agent.act(), minlength=3) / 40000, [0.125, 0.375, 0.5], atol=0.01)


@given(estimates=st.lists(st.floats(-20, 20), min_size=1, max_size=6), gamma=st.floats(0.01, 1),
       seed=st.integers(0, 2**32 - 1))
def test_exp3_importance_weighting_is_unbiased_exactly(estimates, gamma, seed):
    # E_{I~p}[ĝ_i] = Σ_I p_I ĝ_i(I) = g_i: run one copy of the agent per possible pull I and weigh them by p_I
    k = len(estimates)
    agent = Exp3(k=k, gamma=gamma, num_runs=k, seed=0)
    agent.G[:] = estimates
    p = agent.probabilities()[0]
    rewards = np.random.default_rng(seed).random(k)  # the adversary's vector g^t
    pulls = np.arange(k)
    agent.update(pulls, rewards[pulls])  # copy I pulled arm I and saw g_I
    estimated = agent.G - np.array(estimates)  # row I: ĝ(I) = g_I / p_I at arm I, 0 elsewhere
    np.testing.assert_allclose(np.diag(estimated), rewards / p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p @ estimated, rewards, rtol=1e-9, atol=1e-12)


def test_importance_weighted_gains_by_hand():
    p = np.array([[0.2, 0.8], [0.5, 0.5]])
    np.testing.assert_allclose(importance_weighted_gains(np.array([0, 1]), np.array([0.5, 1.0]), p),
                               [[0.5 / 0.2, 0.0], [0.0, 1.0 / 0.5]])


@given(estimates=st.lists(st.floats(-50, 50), min_size=1, max_size=6), gamma=st.floats(0.01, 1))
def test_exp3_probabilities_mix_hedge_with_uniform_exploration(estimates, gamma):
    k = len(estimates)
    agent = Exp3(k=k, gamma=gamma, seed=0)
    agent.G[0] = estimates
    p = agent.probabilities()[0]
    hedge = np.exp(agent.eta * (np.array(estimates) - max(estimates)))
    np.testing.assert_allclose(p, (1 - gamma) * hedge / hedge.sum() + gamma / k, rtol=1e-9)
    assert p.sum() == pytest.approx(1.0) and np.all(p >= gamma / k * (1 - 1e-12))  # every arm stays in play
    assert agent.eta == gamma / k  # Auer et al.'s learning rate


def test_exp3_with_gamma_one_is_uniform():
    agent = Exp3(k=4, gamma=1.0, seed=0)
    agent.update(np.array([2]), np.array([1.0]))
    np.testing.assert_allclose(agent.probabilities(), 0.25)


@pytest.mark.parametrize("make, message", [
    (lambda: Hedge(k=2, eta=0.0), r"eta: expected a number > 0, got 0.0"),
    (lambda: Exp3(k=2, gamma=0.0), r"gamma: expected a number in \(0, 1\], got 0.0"),
    (lambda: Exp3(k=2, gamma=1.5), r"gamma: expected a number in \(0, 1\], got 1.5"),
    (lambda: Exp3(k=2, gamma=0.1, eta=-1.0), r"eta: expected a number > 0, got -1.0"),
])
def test_bad_arguments_say_what_was_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_hedge_needs_the_whole_reward_vector():
    with pytest.raises(ValueError, match=r"rewards: expected shape \(1, 3\), got \(1,\)"):
        Hedge(k=3, eta=1.0, seed=0).update(np.array([0]), np.array([0.5]))
