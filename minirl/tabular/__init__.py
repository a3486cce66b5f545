"""Tabular reinforcement learning (book ch. 2.3-2.7): models, Bellman operators, dynamic programming, and the
model-free methods (Monte Carlo, TD, Sarsa, Q-learning, Dyna-Q, linear function approximation).

    from minirl.tabular import MDP, value_iteration
    policy, V = value_iteration(mdp, tol=1e-8)
"""

# --- models and planning with a known model (book 2.3, 2.4) -------------------------------------------------
from minirl.tabular.mdp import (MDP, MRP, check_policy, check_stochastic, deterministic_policy, greedy_policy_from,
                                policy_actions, random_mdp, uniform_policy)
