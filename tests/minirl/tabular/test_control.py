"""TD control: Sarsa, Expected Sarsa, n-step Sarsa, Q-learning, Double Q-learning (book ch. 2.6.2-2.6.3;
Algorithms 2.12-2.14), checked against the exact Q* of the model they sample from."""

import numpy as np
import pytest

from minirl.envs import Env, TimeLimit
from minirl.envs.spaces import Discrete
from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular import exact_policy_evaluation, q_from_v, random_mdp, value_iteration
from minirl.tabular.control import double_q_learning, expected_sarsa, n_step_sarsa, q_learning, sarsa
from minirl.tabular.experience import epsilon_greedy_policy
from tabular_helpers import FirstActions

GAMMA = 0.9
ALPHA = lambda n: 1 / n**0.6  # noqa: E731  Σα = ∞, Σα² < ∞ (Theorem 2.1)
GLIE = lambda k: 1 / k**0.5  # noqa: E731  ε_k -> 0 with Σε_k = ∞: greedy in the limit, infinite exploration


def problem(seed):
    """A random 5-state, 3-action MDP, as a continuing task cut every 50 steps, and its Q*."""
    mdp = random_mdp(5, 3, gamma=GAMMA, seed=seed)
    _, V_star = value_iteration(mdp, tol=1e-10)
    return mdp, TimeLimit(DiscreteMDPEnv(mdp), 50), q_from_v(mdp, V_star)


@pytest.mark.parametrize("seed", [0, 1])
def test_q_learning_off_policy_from_random_behaviour_finds_q_star(seed):
    """Off-policy: a uniformly random behaviour policy (ε = 1) still teaches the greedy policy's values."""
    mdp, env, Q_star = problem(seed)
    result = q_learning(env, 500, alpha=ALPHA, gamma=GAMMA, epsilon=1.0, seed=seed)
    assert np.max(np.abs(result.Q - Q_star)) < 0.3
    assert np.max(Q_star.max(axis=1) - exact_policy_evaluation(mdp, result.policy)) < 0.05


@pytest.mark.parametrize("method", [sarsa, expected_sarsa, lambda *a, **k: n_step_sarsa(*a, n=3, **k)],
                         ids=["sarsa", "expected_sarsa", "n_step_sarsa"])
def test_on_policy_methods_with_glie_exploration_approach_q_star(method):
    mdp, env, Q_star = problem(2)
    result = method(env, 600, alpha=ALPHA, gamma=GAMMA, epsilon=GLIE, seed=0)
    V_star = Q_star.max(axis=1)
    assert np.max(np.abs(result.V - V_star)) < 0.6  # still ε-greedy (ε = 0.04 at the end): slightly low
    assert np.max(V_star - exact_policy_evaluation(mdp, result.policy)) < 0.05  # the greedy policy is optimal


def test_sarsa_with_fixed_epsilon_learns_the_value_of_its_own_epsilon_greedy_policy():
    """On-policy: with ε fixed at 0.3 Sarsa's Q is Q^π of the ε-greedy policy, not Q*."""
    mdp, env, Q_star = problem(3)
    result = sarsa(env, 1500, alpha=ALPHA, gamma=GAMMA, epsilon=0.3, seed=0)
    pi = epsilon_greedy_policy(result.Q, 0.3)
    Q_pi = q_from_v(mdp, exact_policy_evaluation(mdp, pi))
    assert np.max(np.abs(result.Q - Q_pi)) < 0.3
    assert np.max(np.abs(result.Q - Q_star)) > 0.5  # and that is measurably below Q*


def test_one_step_sarsa_is_n_step_sarsa_with_n_one():
    _, env, _ = problem(4)
    a = sarsa(env, 30, alpha=0.2, gamma=GAMMA, epsilon=0.2, seed=1)
    b = n_step_sarsa(env, 30, n=1, alpha=0.2, gamma=GAMMA, epsilon=0.2, seed=1)
    assert np.allclose(a.Q, b.Q, atol=1e-12) and np.array_equal(a.returns, b.returns)


def test_expected_sarsa_with_a_greedy_policy_is_q_learning():
    _, env, _ = problem(5)
    a = expected_sarsa(env, 30, alpha=0.2, gamma=GAMMA, epsilon=0.0, seed=2)
    b = q_learning(env, 30, alpha=0.2, gamma=GAMMA, epsilon=0.0, seed=2)
    assert np.allclose(a.Q, b.Q, atol=1e-12)


class MaximizationBias(Env):
    """Sutton & Barto's example 6.7 (fig. 6.5): from A, `left` (action 0) goes to B with reward 0, `right`
    (here: any other action) ends the episode with 0; each of B's 10 actions ends it with a reward drawn from
    N(-0.1, 1). Left is worse, but the max over B's noisy estimates makes it look better."""

    def __init__(self):
        self.observation_space, self.action_space = Discrete(3), Discrete(10)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return 0, {}

    def step(self, action):
        if self.s == 0:
            self.s = 1 if action == 0 else 2
            return self.s, 0.0, self.s == 2, False, {}
        self.s = 2
        return 2, float(self.np_random.normal(-0.1, 1.0)), True, False, {}


def test_double_q_learning_reduces_the_maximization_bias():
    left = {}
    for name, method in [("q", q_learning), ("double", double_q_learning)]:
        env = FirstActions(MaximizationBias())
        for run in range(40):
            method(env, 100, alpha=0.1, gamma=1.0, epsilon=0.1, seed=run)
        left[name] = np.mean(np.array(env.first).reshape(40, 100)[:, 20:] == 0)
    # the ε-greedy optimum goes left 1% of the time (ε/10); Q-learning's inflated max makes it go left often
    assert left["q"] > 0.4 and left["double"] < 0.2


def test_double_q_learning_averages_its_tables_and_checks_shapes():
    _, env, Q_star = problem(6)
    result = double_q_learning(env, 400, alpha=ALPHA, gamma=GAMMA, epsilon=1.0, seed=0)
    assert np.max(np.abs(result.Q - Q_star)) < 0.5
    with pytest.raises(ValueError, match=r"Q0: expected shape \(5, 3\)"):
        q_learning(env, 1, Q0=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="n must be >= 1"):
        n_step_sarsa(env, 1, n=0)
