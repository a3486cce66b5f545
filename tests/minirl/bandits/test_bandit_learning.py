"""Learning outcomes on fixed seeds: the shapes of Sutton & Barto's testbed figures (2.2-2.5) in small versions
(fast suite), the published numbers with 2000 runs x 1000 steps (``-m slow``), and regret growth for Thompson
sampling, Hedge, Exp3 and LinUCB (book ch. 2.2.2-2.2.4)."""

import math

import numpy as np
import pytest

from minirl.bandits import (UCB, AdversarialBandit, BernoulliBandit, ContextualEpsilonGreedy,
                            DiscreteContextualBandit, EpsilonGreedy, Exp3, GaussianBandit, GradientBandit, Hedge,
                            LinearContextualBandit, LinUCB, NonStationaryBandit, ThompsonBernoulli, run_bandit)


def play_testbed(make_agent, runs=500, steps=1000, seed=0, **env_kwargs):
    """A run of the 10-armed testbed; every agent of one test meets the same bandit problems (seed)."""
    return run_bandit(GaussianBandit(k=10, num_runs=runs, seed=seed, **env_kwargs),
                      make_agent(runs, seed + 1), steps)


@pytest.fixture(scope="module")
def epsilon_01():
    return play_testbed(lambda runs, seed: EpsilonGreedy(10, 0.1, num_runs=runs, seed=seed))


def test_epsilon_greedy_beats_greedy_on_the_testbed(epsilon_01):
    greedy = play_testbed(lambda runs, seed: EpsilonGreedy(10, 0.0, num_runs=runs, seed=seed))
    assert epsilon_01.average_reward.mean() > greedy.average_reward.mean() + 0.15
    assert epsilon_01.optimal_action_fraction[-100:].mean() > greedy.optimal_action_fraction[-100:].mean() + 0.3


def test_ucb_beats_epsilon_greedy_after_the_first_hundred_steps(epsilon_01):
    ucb = play_testbed(lambda runs, seed: UCB(10, c=2.0, num_runs=runs, seed=seed))
    assert ucb.average_reward[100:].mean() > epsilon_01.average_reward[100:].mean() + 0.05
    assert ucb.expected_pseudo_regret[-1] < epsilon_01.expected_pseudo_regret[-1]


def test_optimistic_greedy_finds_the_best_arm_more_often_than_realistic_epsilon_greedy_late_on():
    optimistic = play_testbed(lambda runs, seed: EpsilonGreedy(10, 0.0, step_size=0.1, initial_value=5.0,
                                                          num_runs=runs, seed=seed))
    realistic = play_testbed(lambda runs, seed: EpsilonGreedy(10, 0.1, step_size=0.1, num_runs=runs, seed=seed))
    assert optimistic.optimal_action_fraction[:50].mean() < realistic.optimal_action_fraction[:50].mean()
    assert optimistic.optimal_action_fraction[-200:].mean() > realistic.optimal_action_fraction[-200:].mean() + 0.04


def test_gradient_bandit_with_a_baseline_beats_one_without_when_rewards_are_large():
    def gradient_bandit(baseline):
        return play_testbed(lambda runs, seed: GradientBandit(10, 0.1, baseline=baseline, num_runs=runs, seed=seed),
                            q_star_mean=4.0)  # q*(a) ~ N(4, 1): every reward looks good without a baseline

    with_baseline, without = gradient_bandit(True), gradient_bandit(False)
    assert with_baseline.optimal_action_fraction[-200:].mean() > without.optimal_action_fraction[-200:].mean() + 0.2


def test_constant_step_size_tracks_drifting_arms_better_than_sample_averages():
    results = [run_bandit(NonStationaryBandit(k=10, num_runs=200, seed=0, walk_std=0.05),
                          EpsilonGreedy(10, 0.1, step_size=step_size, num_runs=200, seed=1), 1000)
               for step_size in (0.1, None)]
    constant, average = (result.average_reward[-500:].mean() for result in results)
    assert constant > average + 0.1


def test_thompson_sampling_regret_grows_sublinearly_on_bernoulli_arms():
    thompson, epsilon = (run_bandit(BernoulliBandit(10, num_runs=100, seed=0), agent, 2000).expected_pseudo_regret
                         for agent in (ThompsonBernoulli(10, num_runs=100, seed=1),
                                       EpsilonGreedy(10, 0.1, num_runs=100, seed=1)))
    # log-like growth: the second thousand steps add far less than the first; ε-greedy keeps paying for ε
    assert thompson[1999] - thompson[999] < 0.3 * thompson[999]
    assert epsilon[1999] - epsilon[999] > 0.5 * epsilon[999]
    assert thompson[-1] < epsilon[-1] / 2


def alternating_table(T):
    """Arm 0 pays 0.5 first, then the arms take turns paying 1: the leader so far is always the arm about to pay 0."""
    table = np.zeros((T, 2))
    table[0, 0] = 0.5
    table[1::2, 1] = 1.0
    table[2::2, 0] = 1.0
    return table


def test_hedge_regret_stays_within_its_bound_where_a_deterministic_player_loses_half():
    T, k, runs = 1000, 2, 200
    bound = math.sqrt(T * math.log(k) / 2)  # ln k / η + η T / 8 at η = sqrt(8 ln k / T)
    env = AdversarialBandit(alternating_table(T), num_runs=runs, full_information=True)
    hedge = run_bandit(env, Hedge(k, eta=math.sqrt(8 * math.log(k) / T), num_runs=runs, seed=0), T)
    assert hedge.expected_regret[-1] < bound + 3 * hedge.regret[-1].std() / math.sqrt(runs)
    # a huge η makes Hedge "follow the leader", all but deterministic: the adversary forces regret ≈ n/2 (ch. 2.2.3)
    env = AdversarialBandit(alternating_table(T), num_runs=runs, full_information=True)
    leader = run_bandit(env, Hedge(k, eta=50.0, num_runs=runs, seed=0), T)
    assert leader.expected_regret[-1] > 0.45 * T


def test_exp3_regret_stays_within_auers_bound_with_partial_information():
    T, k, runs = 2000, 5, 200
    rng = np.random.default_rng(0)
    means = np.full((T, k), 0.5)
    means[:T // 2, 0], means[T // 2:, 1] = 0.7, 0.8  # the best arm changes halfway
    table = (rng.random((T, k)) < means).astype(float)
    gamma = min(1.0, math.sqrt(k * math.log(k) / ((math.e - 1) * T)))  # g = T >= max_j G_j
    result = run_bandit(AdversarialBandit(table, num_runs=runs), Exp3(k, gamma, num_runs=runs, seed=0), T)
    assert result.expected_regret[-1] < 2 * math.sqrt(math.e - 1) * math.sqrt(T * k * math.log(k))  # Cor. 3.2
    assert result.optimal_action_fraction[-200:].mean() > 0.5


def test_linucb_beats_context_blind_epsilon_greedy_on_a_linear_contextual_bandit():
    linucb, blind = (run_bandit(LinearContextualBandit(k=10, dim=5, num_runs=100, seed=0), agent, 1000)
                     for agent in (LinUCB(10, 5, alpha=1.0, num_runs=100, seed=1),
                                   EpsilonGreedy(10, 0.1, num_runs=100, seed=1)))
    assert linucb.average_reward.mean() > blind.average_reward.mean() + 2.0
    # against the best arm of every context, LinUCB's regret flattens out: sublinear growth
    regret = linucb.oracle_regret.mean(axis=1)
    assert regret[999] - regret[499] < 0.25 * regret[499]


def test_per_context_epsilon_greedy_beats_context_blind_epsilon_greedy_on_the_led_bandit():
    per_context, blind = (run_bandit(DiscreteContextualBandit(k=10, num_contexts=4, num_runs=200, seed=0), agent,
                                     1000)
                          for agent in (ContextualEpsilonGreedy(10, 4, 0.1, num_runs=200, seed=1),
                                        EpsilonGreedy(10, 0.1, num_runs=200, seed=1)))
    assert per_context.average_reward[-200:].mean() > blind.average_reward[-200:].mean() + 0.4


# ---------------------------------------------------------------------------------------------------------------
# The published figures, 2000 runs x 1000 steps (Sutton & Barto 2018, figs. 2.2-2.5; exercise 2.5)

def full_testbed(make_agent, **env_kwargs):
    return play_testbed(make_agent, runs=2000, steps=1000, **env_kwargs)


def final(curve):
    return curve[-100:].mean()


@pytest.mark.slow
def test_figure_2_2_greedy_and_epsilon_greedy():
    greedy, eps_001, eps_01 = (full_testbed(lambda runs, seed: EpsilonGreedy(10, epsilon, num_runs=runs, seed=seed))
                               for epsilon in (0.0, 0.01, 0.1))
    assert 1.3 < final(eps_01.average_reward) < 1.45  # ≈ 1.4
    assert 0.75 < final(eps_01.optimal_action_fraction) < 0.85  # ≈ 80 %
    assert 0.95 < final(greedy.average_reward) < 1.1  # plateaus ≈ 1
    assert 0.3 < final(greedy.optimal_action_fraction) < 0.4  # ≈ 1/3
    assert final(greedy.average_reward) < final(eps_001.average_reward) < final(eps_01.average_reward)
    assert 0.5 < final(eps_001.optimal_action_fraction) < 0.65  # still climbing at 1000 steps


@pytest.mark.slow
def test_figure_2_3_optimistic_initial_values():
    optimistic = full_testbed(lambda runs, seed: EpsilonGreedy(10, 0.0, step_size=0.1, initial_value=5.0,
                                                               num_runs=runs, seed=seed))
    realistic = full_testbed(lambda runs, seed: EpsilonGreedy(10, 0.1, step_size=0.1, num_runs=runs, seed=seed))
    # steps 1-10 try every arm once; at step 11 the arm with the least disappointing reward is often the best
    assert np.all(optimistic.optimal_action_fraction[:10] < 0.15) and optimistic.optimal_action_fraction[10] > 0.35
    assert 0.82 < final(optimistic.optimal_action_fraction) < 0.92
    assert 0.72 < final(realistic.optimal_action_fraction) < 0.82


@pytest.mark.slow
def test_figure_2_4_ucb():
    ucb = full_testbed(lambda runs, seed: UCB(10, c=2.0, num_runs=runs, seed=seed))
    epsilon = full_testbed(lambda runs, seed: EpsilonGreedy(10, 0.1, num_runs=runs, seed=seed))
    assert ucb.average_reward[10] > 1.0  # the spike at step 11, after every arm was tried once
    assert 1.4 < final(ucb.average_reward) < 1.6  # ≈ 1.5
    assert np.all(ucb.average_reward[100:].reshape(9, 100).mean(axis=1)
                  > epsilon.average_reward[100:].reshape(9, 100).mean(axis=1))


@pytest.mark.slow
def test_figure_2_5_gradient_bandit_with_and_without_baseline():
    def optimal_fraction(baseline, alpha):
        result = full_testbed(lambda runs, seed: GradientBandit(10, alpha, baseline=baseline, num_runs=runs,
                                                                seed=seed), q_star_mean=4.0)
        return final(result.optimal_action_fraction)

    optimal = {(baseline, alpha): optimal_fraction(baseline, alpha) for baseline in (True, False)
               for alpha in (0.1, 0.4)}
    assert optimal[True, 0.1] > optimal[True, 0.4] > optimal[False, 0.1] > optimal[False, 0.4]
    assert optimal[True, 0.1] > 0.8 and optimal[False, 0.4] < 0.35


@pytest.mark.slow
def test_exercise_2_5_sample_averages_fall_behind_on_drifting_arms():
    results = [run_bandit(NonStationaryBandit(k=10, num_runs=500, seed=0, walk_std=0.01),
                          EpsilonGreedy(10, 0.1, step_size=step_size, num_runs=500, seed=1), 10000)
               for step_size in (0.1, None)]
    constant, average = results
    assert constant.average_reward[-1000:].mean() > average.average_reward[-1000:].mean() + 0.15
    assert constant.optimal_action_fraction[-1000:].mean() > average.optimal_action_fraction[-1000:].mean() + 0.2
