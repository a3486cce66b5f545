"""Tabular reinforcement learning (book ch. 2.3-2.7): models, Bellman operators, dynamic programming, and the
model-free methods (Monte Carlo, TD, Sarsa, Q-learning, Dyna-Q, linear function approximation).

    from minirl.tabular import MDP, value_iteration
    policy, V = value_iteration(mdp, tol=1e-8)
"""

# --- models and planning with a known model (book 2.3, 2.4) -------------------------------------------------
from minirl.tabular.mdp import (MDP, MRP, check_policy, check_stochastic, deterministic_policy, greedy_policy_from,
                                policy_actions, random_mdp, uniform_policy)
from minirl.tabular.operators import (bellman_error, bellman_expectation, bellman_expectation_q, bellman_optimality,
                                      bellman_optimality_q, greedy, q_from_v, v_from_q)
from minirl.tabular.dp import (exact_policy_evaluation, policy_evaluation, policy_improvement, policy_iteration,
                               prioritized_sweeping, real_time_dp, value_iteration)
from minirl.tabular import examples  # student_mrp, gridworld_4x4, jacks_car_rental, ... (book 2.3; S&B)

# --- model-free methods (book 2.5-2.7, 9.3): one import line per module, added by their authors ----------------
from minirl.tabular.experience import ControlResult, StateIndex, epsilon_greedy_policy
from minirl.tabular.mc import (every_visit_mc_prediction, first_visit_mc_prediction, mc_exploring_starts,
                               mc_prediction, on_policy_mc_control)
from minirl.tabular.td import (lambda_returns, n_step_returns, n_step_td_prediction, td0_prediction, td_lambda,
                               td_lambda_forward)
from minirl.tabular.control import double_q_learning, expected_sarsa, n_step_sarsa, q_learning, sarsa
from minirl.tabular.planning import dyna_q
from minirl.tabular.soft import (soft_bellman_backup, soft_policy_evaluation, soft_policy_improvement,
                                 soft_policy_iteration)
from minirl.tabular.approximation import (RBF, Fourier, OneHot, Polynomial, StateAggregation, TileCoding,
                                          gradient_mc_prediction, linear_value, semi_gradient_td0,
                                          semi_gradient_td_lambda)
