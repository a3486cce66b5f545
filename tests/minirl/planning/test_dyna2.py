"""Dyna-2 (book Algorithm 9.33): separate long- and short-term weights, the short-term memory emptied each
episode, and, searching in its learned model, far fewer real steps than TD(λ) alone on the cliff walk."""

import numpy as np
import pytest

import minirl.envs as envs
from minirl.planning.dyna2 import Dyna2
from minirl.tabular.approximation import OneHot


def test_searching_needs_far_fewer_real_steps_than_td_lambda_alone():
    # search_episodes=0 leaves only the long-term memory: Sarsa(λ) with linear (here one-hot) features
    steps = {}
    for search_episodes in (0, 3):
        agent = Dyna2(envs.make("CliffWalking-v0"), search_episodes=search_episodes, max_search_steps=20, seed=0)
        steps[search_episodes] = agent.learn(10).lengths.sum()
    assert steps[3] < 0.5 * steps[0], steps


def test_short_term_memory_is_separate_and_reset_each_episode():
    env = envs.make("GridWorld4x4-v0")
    agent = Dyna2(env, search_episodes=5, max_search_steps=20, seed=0)
    assert agent.theta.shape == agent.theta_bar.shape == (4, 16)
    agent.learn(3)
    assert np.any(agent.theta != 0) and np.any(agent.theta_bar != 0)
    theta = agent.theta.copy()
    agent.theta_bar[:] = 123.0
    agent.search_episodes = 0  # no search: θ̄ must come back to zero at the start of the episode
    agent.learn(1)
    assert np.all(agent.theta_bar == 0) and np.any(agent.theta != theta)
    s = 5
    np.testing.assert_allclose(agent.q(s), agent.long_term_q(s) + agent.theta_bar @ OneHot(16)(s))


def test_learned_model_matches_the_deterministic_world():
    env = envs.make("GridWorld4x4-v0")
    agent = Dyna2(env, search_episodes=2, max_search_steps=10, seed=1)
    agent.learn(5)
    mdp = env.unwrapped.mdp
    model = agent.model
    for s in range(16):
        for a in range(4):
            if model.visits(s, a):
                np.testing.assert_allclose(model.transition_probs(s, a), mdp.P[s, a])


def test_refuses_bad_hyperparameters():
    env = envs.make("GridWorld4x4-v0")
    with pytest.raises(ValueError, match="lam"):
        Dyna2(env, lam=1.5)
    with pytest.raises(ValueError, match="search_episodes"):
        Dyna2(env, search_episodes=-1)
    with pytest.raises(ValueError, match="Discrete"):
        Dyna2(envs.make("CartPole-v1"))
