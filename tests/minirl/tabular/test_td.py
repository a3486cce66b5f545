"""TD prediction: TD(0), n-step TD, TD(λ) forward and backward views (book ch. 2.6.1; Algs 2.10, 2.11;
eqs. 2.57, 2.62-2.67)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from minirl.envs import Wrapper
from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular.examples import random_walk, student_mrp
from minirl.tabular.mc import every_visit_mc_prediction, mc_prediction
from minirl.tabular.td import (lambda_returns, n_step_returns, n_step_td_prediction, td0_prediction, td_lambda,
                               td_lambda_forward)

WALK_TRUE = np.arange(1, 6) / 6
WALK_POLICY = np.ones((7, 1))


def Walk(n=5, right_reward=1.0):
    """Sutton & Barto's random walk (Examples 6.2, 7.1): states 0..n+1, both ends terminal, start in the
    middle; reaching the right end pays `right_reward`, the left end pays -1 when right_reward < 0."""
    return DiscreteMDPEnv(random_walk(n, left_reward=-1.0 if right_reward < 0 else 0.0, right_reward=right_reward))


# The student MRP of the book's figs. 2.4-2.6 (BOOK_MAP §2.2): g t1 t2 r p b, Bed absorbing with reward 0.
STUDENT_V = np.array([-5.8368, -1.2110, 3.7538, 3.9316, 10.0, 0.0])  # (I - 0.9P)^{-1}R, eq. 2.29


def Student():
    """The student MRP as an environment: one action, the reward for leaving s is R(s), Bed terminal;
    episodes start in a uniformly random non-terminal state."""
    return DiscreteMDPEnv(student_mrp(0.9).as_mdp())


def test_student_mrp_closed_form_matches_the_values_used_below():
    assert np.allclose(student_mrp(0.9).solve(), STUDENT_V, atol=1e-4)


@pytest.mark.parametrize("method", ["td0", "every_visit_mc"])
def test_td0_and_mc_approach_the_student_mrp_values(method):
    if method == "td0":
        V = tail_average(td0_prediction, Student(), np.ones((6, 1)), 3000, alpha=0.01, gamma=0.9, seed=0)
    else:
        V = every_visit_mc_prediction(Student(), np.ones((6, 1)), 3000, gamma=0.9, seed=0)
    assert np.max(np.abs(V - STUDENT_V)) < 0.3


def _walk_error(V):
    return np.max(np.abs(V[1:6] - WALK_TRUE))


def tail_average(method, *args, last=1000, **kwargs):
    """The estimate averaged over the last `last` episodes: constant-α estimates keep fluctuating around
    v_π by O(sqrt(α)); their running average settles."""
    total = []
    method(*args, callback=lambda k, V: total.append(V.copy()) if len(total) < last or total.pop(0) is not None
           else None, **kwargs)
    return np.mean(total, axis=0)


def test_td0_approaches_random_walk_values():
    assert _walk_error(tail_average(td0_prediction, Walk(), WALK_POLICY, 3000, alpha=0.02, seed=0)) < 0.06


@pytest.mark.parametrize("n", [1, 2, 4])
def test_n_step_td_approaches_random_walk_values(n):
    assert _walk_error(tail_average(n_step_td_prediction, Walk(), WALK_POLICY, 3000, n, alpha=0.02, seed=1)) < 0.06


@pytest.mark.parametrize("trace", ["accumulating", "replacing"])
@pytest.mark.parametrize("lam", [0.3, 0.8])
def test_td_lambda_backward_approaches_random_walk_values(trace, lam):
    V = tail_average(td_lambda, Walk(), WALK_POLICY, 3000, lam, alpha=0.02, trace=trace, seed=2)
    assert _walk_error(V) < 0.06


def test_td_lambda_forward_approaches_random_walk_values():
    assert _walk_error(tail_average(td_lambda_forward, Walk(), WALK_POLICY, 3000, 0.6, alpha=0.02, seed=3)) < 0.06


@given(st.floats(0.0, 1.0), st.floats(0.01, 0.5), st.floats(0.5, 1.0), st.integers(0, 10_000))
def test_offline_forward_and_backward_views_agree(lam, alpha, gamma, seed):
    """Offline TD(λ) with accumulating traces equals the offline λ-return algorithm, episode by episode."""
    env = Walk(5, right_reward=-1.0)  # rewards at both ends, so errors in either direction show
    forward = td_lambda_forward(env, WALK_POLICY, 20, lam, alpha=alpha, gamma=gamma, seed=seed)
    backward = td_lambda(env, WALK_POLICY, 20, lam, alpha=alpha, gamma=gamma, offline=True, seed=seed)
    assert np.allclose(forward, backward, atol=1e-10)


def test_td_lambda_with_lambda_zero_is_td0_and_one_step_td_is_td0():
    td0 = td0_prediction(Walk(), WALK_POLICY, 200, alpha=0.1, seed=5)
    assert np.array_equal(td_lambda(Walk(), WALK_POLICY, 200, 0.0, alpha=0.1, seed=5), td0)
    assert np.array_equal(td_lambda(Walk(), WALK_POLICY, 200, 0.0, alpha=0.1, trace="replacing", seed=5), td0)
    assert np.allclose(n_step_td_prediction(Walk(), WALK_POLICY, 200, 1, alpha=0.1, seed=5), td0, atol=1e-12)


class Recorder(Wrapper):
    """Keeps the states and rewards of the last episode."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self.states, self.rewards = [obs], []
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.states.append(obs)
        self.rewards.append(reward)
        return obs, reward, terminated, truncated, info


@pytest.mark.parametrize("seed", range(4))
def test_td_lambda_with_lambda_one_is_monte_carlo(seed):
    """Offline TD(1) adds α Σ_{t: S_t = s} (G_t - V(S_t)) to V(s): every-visit constant-α MC, summed."""
    env = Recorder(Walk(19, right_reward=-1.0))
    V0 = np.linspace(-1, 1, 21)
    td1 = td_lambda(env, np.ones((21, 1)), 1, 1.0, alpha=0.1, gamma=0.9, offline=True, V0=V0, seed=seed)
    expected, G = V0.copy(), 0.0
    for t in range(len(env.rewards) - 1, -1, -1):
        G = 0.9 * G + env.rewards[t]
        expected[env.states[t]] += 0.1 * (G - V0[env.states[t]])
    assert np.allclose(td1, expected)


def test_n_step_td_with_n_beyond_the_episode_is_constant_alpha_mc():
    nstep = n_step_td_prediction(Walk(), WALK_POLICY, 300, 1000, alpha=0.05, seed=6)
    mc = mc_prediction(Walk(), WALK_POLICY, 300, first_visit=False, alpha=0.05, seed=6)
    # both move V(S_t) towards G_t; n-step TD does it forwards in time, MC backwards: same values
    # unless a state is visited twice in one episode, so compare with a loose tolerance
    assert np.max(np.abs(nstep - mc)) < 0.1


episodes = st.integers(1, 8).flatmap(lambda T: st.tuples(
    st.lists(st.floats(-5, 5), min_size=T, max_size=T), st.lists(st.floats(-5, 5), min_size=T + 1, max_size=T + 1)))


@given(episodes, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_lambda_return_is_the_weighted_sum_of_n_step_returns(episode, gamma, lam):
    """(2.66): G^λ_t = (1-λ) Σ_{n=1}^{T-t-1} λ^{n-1} G_{t:t+n} + λ^{T-t-1} G_t."""
    rewards, values = map(np.array, episode)
    T = len(rewards)
    G_lam = lambda_returns(rewards, values, gamma, lam)
    for t in range(T):
        n_step = [n_step_returns(rewards, values, gamma, n)[t] for n in range(1, T - t + 1)]
        expected = (1 - lam) * sum(lam ** (n - 1) * n_step[n - 1] for n in range(1, T - t)) \
            + lam ** (T - t - 1) * n_step[-1]
        assert G_lam[t] == pytest.approx(expected, abs=1e-9)


@given(episodes, st.floats(0.0, 1.0))
def test_lambda_return_limits_are_td_targets_and_monte_carlo_returns(episode, gamma):
    rewards, values = map(np.array, episode)
    assert np.allclose(lambda_returns(rewards, values, gamma, 0.0), rewards + gamma * values[1:])
    T = len(rewards)
    mc = [sum(gamma ** (k - t) * rewards[k] for k in range(t, T)) + gamma ** (T - t) * values[T] for t in range(T)]
    assert np.allclose(lambda_returns(rewards, values, gamma, 1.0), mc)
    assert np.allclose(n_step_returns(rewards, values, gamma, T), mc)


def test_replacing_traces_differ_from_accumulating_ones_when_states_repeat():
    acc = td_lambda(Walk(), WALK_POLICY, 30, 0.9, alpha=0.1, seed=7)
    rep = td_lambda(Walk(), WALK_POLICY, 30, 0.9, alpha=0.1, trace="replacing", seed=7)
    assert not np.allclose(acc, rep)
    with pytest.raises(ValueError, match="dutch"):
        td_lambda(Walk(), WALK_POLICY, 1, 0.9, trace="dutch")


def test_callback_sees_every_episode_for_learning_curves():
    errors = []
    td0_prediction(Walk(), WALK_POLICY, 100, alpha=0.1, V0=np.r_[0, [0.5] * 5, 0], seed=0,
                   callback=lambda k, V: errors.append(np.sqrt(np.mean((V[1:6] - WALK_TRUE) ** 2))))
    assert len(errors) == 100 and np.mean(errors[-20:]) < np.mean(errors[:5])
