"""Dyna-Q (book ch. 9.3, Algorithm 9.30)."""

import numpy as np
import pytest

from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular import value_iteration
from minirl.tabular.control import q_learning
from minirl.tabular.examples import dyna_maze
from minirl.tabular.planning import dyna_q

def maze():
    """Sutton & Barto's Dyna maze (Example 8.1, fig. 8.2): 6 x 9, reward 1 on reaching G, γ = 0.95."""
    mdp = dyna_maze()
    return mdp, DiscreteMDPEnv(mdp), int(np.argmax(mdp.initial_distribution))


def test_without_planning_dyna_q_is_q_learning():
    _, env, _ = maze()
    a = dyna_q(env, 5, n_planning=0, alpha=0.1, gamma=0.95, epsilon=0.1, seed=0)
    b = q_learning(env, 5, alpha=0.1, gamma=0.95, epsilon=0.1, seed=0)
    assert np.array_equal(a.Q, b.Q) and np.array_equal(a.lengths, b.lengths)


def test_planning_steps_solve_the_dyna_maze_in_fewer_episodes():
    _, env, _ = maze()
    steps = {}
    for n in (0, 50):
        steps[n] = np.mean([dyna_q(env, 15, n_planning=n, seed=run).lengths
                            for run in range(2)], axis=0)
    # the first episode is a random search for the goal either way; afterwards planning spreads its value
    assert steps[50][2:].mean() < 0.3 * steps[0][2:].mean()
    assert steps[50][-5:].mean() < 25  # the shortest path takes 14 steps; ε = 0.1 adds a few


def test_dyna_q_with_planning_reaches_the_optimal_values():
    """With a deterministic maze, α = 1 makes every planning update an exact Bellman backup through the model."""
    mdp, env, start = maze()
    result = dyna_q(env, 30, n_planning=50, alpha=1.0, epsilon=0.5, seed=1)
    _, V_star = value_iteration(mdp, tol=1e-10)
    assert result.V[start] == pytest.approx(V_star[start], abs=1e-9)
    assert V_star[start] == pytest.approx(0.95**13)  # reward 1 on the 14th step of the shortest path
    s, steps = env.reset(options={"state": start})[0], 0
    while not mdp.terminal[s]:  # the greedy policy walks the shortest path
        s, steps = env.step(int(result.policy[s].argmax()))[0], steps + 1
    assert steps == 14
