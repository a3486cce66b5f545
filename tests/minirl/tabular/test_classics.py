"""Classic experiments of the book's chapter 2 (and of Sutton & Barto 2018, which it follows), reproduced
with minirl's tabular methods on minirl's environments: the published qualitative and quantitative outcomes.

All are learning runs averaged over many seeds, so they live in the slow suite: ``pytest -m slow``.
"""

import numpy as np
import pytest

import minirl.envs as envs
from tabular_helpers import FirstActions
from minirl.tabular import (StateIndex, double_q_learning, dyna_q, first_visit_mc_prediction, mc_exploring_starts,
                            mc_prediction, n_step_td_prediction, q_learning, sarsa, td0_prediction,
                            td_lambda_forward)

pytestmark = pytest.mark.slow


def greedy_rollout(env, Q, limit=100):
    """(steps, return) of following argmax_a Q from a reset (ties: lowest action)."""
    s, _ = env.reset()
    steps, G = 0, 0.0
    while steps < limit:
        s, r, terminated, truncated, _ = env.step(int(Q[s].argmax()))
        steps, G = steps + 1, G + r
        if terminated or truncated:
            break
    return steps, G


def rms_curve(method, env_id, alpha, runs, episodes, true, V0, **kwargs):
    """RMS error over the non-terminal states after each episode, averaged over `runs` seeds."""
    curves = np.zeros((runs, episodes))
    n = len(true)
    for run in range(runs):
        def record(k, V, run=run):
            curves[run, k] = np.sqrt(np.mean((V[1:n + 1] - true) ** 2))
        method(envs.make(env_id), np.ones((n + 2, 1)), episodes, alpha=alpha, V0=V0, seed=run, callback=record,
               **kwargs)
    return curves.mean(axis=0)


def test_random_walk_td_beats_constant_alpha_mc():
    """Sutton & Barto Example 6.2 (right graph): on the 5-state walk from V = 0.5, TD(0) has lower RMS error
    than constant-α MC at the same α, and its best curve ends far below MC's best."""
    true, V0 = np.arange(1, 6) / 6, np.r_[0.0, [0.5] * 5, 0.0]
    every_visit_mc = lambda *a, **k: mc_prediction(*a, first_visit=False, **k)  # noqa: E731
    td = {a: rms_curve(td0_prediction, "RandomWalk-v0", a, 100, 100, true, V0) for a in (0.05, 0.1, 0.15)}
    mc = {a: rms_curve(every_visit_mc, "RandomWalk-v0", a, 100, 100, true, V0) for a in (0.01, 0.02, 0.03, 0.04,
                                                                                            0.05, 0.1)}
    for a in (0.05, 0.1):
        assert td[a].mean() < 0.7 * mc[a].mean()
    best_td = min(c[-10:].mean() for c in td.values())
    best_mc = min(c[-10:].mean() for a, c in mc.items() if a <= 0.04)
    assert best_td < 0.05 < 0.08 < best_mc  # published: TD ≈ 0.04-0.05, MC ≈ 0.08-0.1 after 100 episodes
    # with a large α TD's error first dips, then rises a little (Exercise 6.5)
    assert td[0.15].min() < td[0.15][-10:].mean() - 0.01
    assert td[0.1][0] > td[0.1][-1] and mc[0.01][0] > mc[0.01][-1]


def test_random_walk_td_estimates_after_100_episodes():
    """Example 6.2 (left graph): after 100 episodes with α = 0.1, TD(0)'s estimates lie on the diagonal."""
    true = np.arange(1, 6) / 6
    V = np.mean([td0_prediction(envs.make("RandomWalk-v0"), np.ones((7, 1)), 100, alpha=0.1,
                                V0=np.r_[0.0, [0.5] * 5, 0.0], seed=run)[1:6] for run in range(50)], axis=0)
    assert np.max(np.abs(V - true)) < 0.05


def _mean_error_first_10_episodes(method, n_or_lambda, alpha, runs=50):
    true = (np.arange(1, 20) - 10) / 10  # the 19-state walk with -1 on the left: v(k) = (k - 10) / 10
    errors = []
    for run in range(runs):
        method(envs.make("RandomWalk19-v0"), np.ones((21, 1)), 10, n_or_lambda, alpha=alpha, seed=run,
               callback=lambda k, V: errors.append(np.sqrt(np.mean((V[1:20] - true) ** 2))))
    return np.mean(errors)


def test_nineteen_state_walk_intermediate_n_is_best():
    """Sutton & Barto fig. 7.2: the RMS error over the first 10 episodes, at each n's best α, is smallest for
    an intermediate n (about 4), larger for one-step TD and for long (MC-like) returns."""
    alphas = (0.1, 0.2, 0.4, 0.8)
    best = {n: min(_mean_error_first_10_episodes(n_step_td_prediction, n, a) for a in alphas) for n in (1, 4, 32)}
    assert best[4] < best[1] - 0.04 and best[4] < best[32] - 0.04
    assert 0.2 < best[4] < 0.32  # published minimum ≈ 0.25-0.3


def test_nineteen_state_walk_intermediate_lambda_is_best():
    """Sutton & Barto fig. 12.3: the offline λ-return algorithm does best at an intermediate λ."""
    alphas = (0.1, 0.2, 0.4, 0.8)
    best = {lam: min(_mean_error_first_10_episodes(td_lambda_forward, lam, a) for a in alphas)
            for lam in (0.0, 0.8, 1.0)}
    assert best[0.8] < best[0.0] - 0.04 and best[0.8] < best[1.0] - 0.04


def test_cliff_walking_sarsa_is_safe_and_q_learning_is_optimal():
    """Sutton & Barto Example 6.6 (fig. 6.4): with ε = 0.1, α = 0.5, Sarsa's online return is higher (≈ -25)
    than Q-learning's (≈ -50), because Q-learning learns the optimal path along the cliff edge and its
    exploratory steps fall off; Sarsa learns the longer, safe path."""
    online, paths = {}, {}
    for name, method in [("sarsa", sarsa), ("q", q_learning)]:
        online[name], paths[name] = [], []
        for run in range(10):
            env = envs.make("CliffWalking-v0")
            result = method(env, 500, alpha=0.5, epsilon=0.1, seed=run)
            online[name].append(result.returns[100:].mean())
            paths[name].append(greedy_rollout(env, result.Q))
    assert np.mean(online["sarsa"]) > np.mean(online["q"]) + 15
    assert -35 < np.mean(online["sarsa"]) < -18 and -60 < np.mean(online["q"]) < -40
    assert all(p == (13, -13.0) for p in paths["q"])  # the optimal path: 13 steps along the edge
    assert all(steps in (15, 17) and G == -steps for steps, G in paths["sarsa"])  # one or two rows up


def test_maximization_bias_double_q_learning():
    """Sutton & Barto Example 6.7 (fig. 6.5): left from A is worse in expectation (-0.1 vs 0), yet Q-learning
    goes left far more than the 5% of the ε-greedy optimum, because max_a Q(B, a) over noisy estimates is
    biased upwards; Double Q-learning settles near 5%."""
    left = {}
    for name, method in [("q", q_learning), ("double", double_q_learning)]:
        env = FirstActions(envs.make("MaximizationBias-v0"))
        for run in range(300):
            method(env, 300, alpha=0.1, gamma=1.0, epsilon=0.1, seed=run)
        left[name] = (np.array(env.first).reshape(300, 300) % 2 == 0).mean(axis=0)  # even actions go left
    assert left["q"][:50].mean() > 0.6 and left["q"][:100].max() > 0.75  # published peak ≈ 0.7
    assert left["double"][:50].mean() < left["q"][:50].mean() - 0.3
    assert 0.03 < left["double"][-100:].mean() < 0.1  # ≈ 5%
    assert left["q"][-100:].mean() > left["double"][-100:].mean() + 0.03


def test_blackjack_first_visit_mc_values():
    """Sutton & Barto fig. 5.1: the policy that sticks only on 20 or 21, evaluated by first-visit MC: its
    value is high where it sticks (≈ 0.9 on 21 without a usable ace), negative everywhere it hits (12-19),
    worst against a dealer's ace; a usable ace raises the values of 12-19."""
    env = envs.make("Blackjack-v1")
    stick_on_20 = lambda obs, rng: 0 if obs[0] >= 20 else 1  # noqa: E731  (0 stick, 1 hit)
    V = first_visit_mc_prediction(env, stick_on_20, 200_000, seed=0).reshape(StateIndex(env.observation_space).shape)
    V = V[12:22, 1:11]  # player sum 12..21, dealer card 1 (ace)..10, usable ace 0/1
    no_ace, ace = V[..., 0], V[..., 1]
    assert np.all(no_ace[9, 1:] > 0.8) and np.all(ace[9, 1:] > 0.85)  # 21
    assert np.all(no_ace[8, 1:9] > 0.6) and no_ace[8, 9] > 0.4  # 20 (against a ten-card ≈ 0.44)
    assert np.all(no_ace[:8] < -0.4)  # 12-19: hitting until 20 busts often
    assert ace[:8].mean() > no_ace[:8].mean() + 0.2
    assert np.all(no_ace[:, 0] <= no_ace[:, 1:].mean(axis=1))  # the dealer's ace is the worst card to face


def test_blackjack_exploring_starts_finds_the_optimal_policy():
    """Sutton & Barto fig. 5.2: Monte Carlo ES recovers the optimal strategy's clear-cut decisions."""
    env = envs.make("Blackjack-v1")
    result = mc_exploring_starts(env, 200_000, seed=0)
    hit = result.Q.reshape(StateIndex(env.observation_space).shape + (2,)).argmax(axis=-1) == 1
    no_ace, ace = hit[:, 1:11, 0], hit[:, 1:11, 1]  # rows: player sum; columns: dealer 1 (ace)..10
    assert np.all(no_ace[6:12])  # always hit on 11 or less (4 and 5 are rare: too few samples to be sure)
    assert not np.any(no_ace[18:22]) and not np.any(ace[20:22])  # stick on a hard 18+, a soft 20+
    assert np.all(no_ace[12:16, 6:10])  # hit 12-15 against a dealer's 7..10 (16 against 10 is nearly a tie)
    assert not np.any(no_ace[13:17, 1:6])  # stick 13-16 against a dealer's 2..6
    assert np.all(ace[13:18])  # hit a soft 17 or less


def test_dyna_maze_planning_speeds_up_learning():
    """Sutton & Barto Example 8.1 (fig. 8.2): steps per episode on the Dyna maze, 10 runs: after the first
    episode, n = 50 planning steps find the short path within a few episodes; n = 0 takes dozens."""
    steps = {n: np.mean([dyna_q(envs.make("DynaMaze-v0"), 50, n_planning=n, alpha=0.1, gamma=0.95, epsilon=0.1,
                                seed=run).lengths for run in range(10)], axis=0) for n in (0, 5, 50)}
    assert steps[0][1] > 400 and steps[0][1:10].mean() > 150  # published: ≈ 800 at episode 2
    assert steps[50][2:10].mean() < 25 and steps[5][2:10].mean() < 0.5 * steps[0][2:10].mean()
    assert steps[50][1:10].mean() < steps[5][1:10].mean() < steps[0][1:10].mean()
    assert all(14 <= s[-10:].mean() < 22 for s in steps.values())  # all end near the 14-step path


def test_windy_gridworld_sarsa_episode_count():
    """Sutton & Barto Example 6.5 (fig. 6.3): ε-greedy Sarsa (ε = 0.1, α = 0.5) completes 170 episodes in
    about 8000 time steps and learns the 15-step path."""
    totals, paths = [], []
    for run in range(10):
        env, rng = envs.make("WindyGridworld-v0"), np.random.default_rng(run)
        result = sarsa(env, 170, alpha=0.5, epsilon=0.1, seed=rng)
        totals.append(result.lengths.sum())
        result = sarsa(env, 330, alpha=0.5, epsilon=0.1, Q0=result.Q, seed=rng)  # keep learning
        paths.append(greedy_rollout(env, result.Q)[0])
    assert 7000 < np.mean(totals) < 9500
    assert np.median(paths) <= 16 and min(paths) == 15  # the shortest path takes 15 steps
