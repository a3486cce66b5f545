"""Monte Carlo prediction and control (book ch. 2.5, Algorithms 2.8, 2.9; eqs. 2.54-2.56)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.envs import Env, TimeLimit
from minirl.envs.spaces import Discrete
from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular.examples import random_walk
from minirl.tabular.mc import (every_visit_mc_prediction, first_visit_mc_prediction, mc_exploring_starts,
                               mc_prediction, on_policy_mc_control)

WALK_TRUE = np.arange(1, 6) / 6  # random walk with 5 states: v(A..E) = 1/6 .. 5/6


def Walk():
    """Sutton & Barto's random walk (Example 6.2): states 0..6, both ends terminal, +1 on the right."""
    return DiscreteMDPEnv(random_walk(5))


class Scripted(Env):
    """Replays fixed state sequences; the reward for leaving state s is R[s] (an MRP with R_t = R(S_t))."""

    def __init__(self, episodes, R, n):
        self.episodes, self.R, self.k = episodes, R, -1
        self.observation_space, self.action_space = Discrete(n), Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.k, self.t = self.k + 1, 0
        return self.episodes[self.k][0], {}

    def step(self, action):
        ep = self.episodes[self.k]
        s, self.t = ep[self.t], self.t + 1
        return ep[self.t], self.R[s], self.t == len(ep) - 1, False, {}


class Corridor(Env):
    """States 0..n-1 in a row; action 0 = left, 1 = right; -1 per step; reaching n-1 terminates.
    ``reset(options={"state": s})`` starts in s (for exploring starts)."""

    def __init__(self, n=5):
        self.n = n
        self.observation_space, self.action_space = Discrete(n), Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0 if not options else int(options["state"])
        return self.s, {}

    def step(self, action):
        self.s = max(self.s - 1, 0) if action == 0 else self.s + 1
        return self.s, -1.0, self.s == self.n - 1, False, {}


@pytest.mark.parametrize("first_visit", [True, False])
def test_mc_prediction_approaches_random_walk_values(first_visit):
    V = mc_prediction(Walk(), np.ones((7, 1)), 3000, first_visit=first_visit, seed=0)
    assert np.max(np.abs(V[1:6] - WALK_TRUE)) < 0.03
    assert V[0] == V[6] == 0.0  # terminal states are never updated


# The book's worked example (ch. 2.3, BOOK_MAP §2.2): four sampled episodes from Task2 of the student MRP,
# γ = 0.9. States g t1 t2 r p b = 0..5, rewards R(s) = -1 -2 -2 +1 +10 0.
STUDENT_R = [-1.0, -2.0, -2.0, 1.0, 10.0, 0.0]
T2_EPISODES = [[2, 5], [2, 4, 5], [2, 3, 2, 4, 5], [2, 3, 1, 2, 5]]


def test_first_visit_mc_reproduces_the_books_mrp_example_with_its_erratum():
    V = first_visit_mc_prediction(Scripted(T2_EPISODES, STUDENT_R, 6), np.ones((6, 1)), 4, gamma=0.9)
    # returns -2, 7, 4.57 and -4.178 (the book prints -0.178, hence its 2.348): mean 1.348
    assert V[2] == pytest.approx((-2 + 7 + 4.57 - 4.178) / 4) == pytest.approx(1.348)


def test_every_visit_mc_also_averages_the_returns_after_later_visits():
    V = every_visit_mc_prediction(Scripted(T2_EPISODES, STUDENT_R, 6), np.ones((6, 1)), 4, gamma=0.9)
    # the third and fourth episodes revisit Task2, adding returns 7 and -2
    assert V[2] == pytest.approx((-2 + 7 + 4.57 + 7 - 4.178 - 2) / 6)
    assert V[3] == pytest.approx((7.3 - 2.42) / 2)  # Rest: 1 - 2(0.9) + 10(0.81) and 1 - 2(0.9) - 2(0.81)


@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=6), min_size=1, max_size=5),
       st.floats(0.0, 1.0))
def test_incremental_mean_equals_the_mean_of_the_returns_list(paths, gamma):
    """(2.55): the 1/N update gives exactly mean(Returns(s)) of Algorithm 2.8."""
    R = [0.5, -1.0, 2.0, 3.0, 0.0]
    episodes = [p + [4] for p in paths]  # state 4 is terminal
    V = first_visit_mc_prediction(Scripted(episodes, R, 5), np.ones((5, 1)), len(episodes), gamma=gamma)
    returns = {s: [] for s in range(4)}
    for ep in episodes:  # Algorithm 2.8 taken literally
        G, firsts = 0.0, []
        for t in range(len(ep) - 2, -1, -1):
            G = gamma * G + R[ep[t]]
            if ep[t] not in ep[:t]:
                firsts.append((ep[t], G))
        for s, g in firsts:
            returns[s].append(g)
    for s, gs in returns.items():
        assert V[s] == pytest.approx(np.mean(gs) if gs else 0.0, abs=1e-9)


def test_constant_alpha_one_keeps_the_last_return():
    V = mc_prediction(Scripted([[0, 1, 2], [0, 2]], [1.0, 5.0, 0.0], 3), np.ones((3, 1)), 2, alpha=1.0)
    assert V[0] == 1.0 and V[1] == 5.0  # last first-visit return of 0 is 1; 1 was seen in episode 1 only


def test_policy_table_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"\(7, A\).*\(5, 1\)"):
        first_visit_mc_prediction(Walk(), np.ones((5, 1)), 1)


def test_same_seed_same_estimate_and_generator_streams_continue():
    a = first_visit_mc_prediction(Walk(), np.ones((7, 1)), 50, seed=3)
    b = first_visit_mc_prediction(Walk(), np.ones((7, 1)), 50, seed=3)
    c = first_visit_mc_prediction(Walk(), np.ones((7, 1)), 50, seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_exploring_starts_finds_the_optimal_corridor_policy():
    env = TimeLimit(Corridor(5), 20)
    result = mc_exploring_starts(env, 300, start_states=range(4), seed=0)
    assert np.all(result.policy[:4].argmax(axis=1) == 1)  # always right
    # q*(s, right) = -(distance to the goal); the averages still hold a few returns of earlier policies
    assert np.allclose(result.Q[:4, 1], -np.arange(4, 0, -1), atol=0.1)


def test_on_policy_mc_control_with_glie_epsilon_learns_to_go_right():
    result = on_policy_mc_control(TimeLimit(Corridor(5), 50), 400, epsilon=lambda k: 1 / k, seed=0)
    assert np.all(result.policy[:4].argmax(axis=1) == 1)
    assert result.lengths[-50:].mean() < 4.5  # the optimal episode takes 4 steps
    assert result.returns.shape == result.lengths.shape == (400,)
