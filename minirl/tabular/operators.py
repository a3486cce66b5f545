"""Bellman backup operators on value tables (book ch. 2.3.4 and 2.4.1-2.4.2).

    Bellman expectation   (T^π V)(s) = Σ_a π(a|s) [ r(s, a) + γ Σ_s' p(s'|s, a) V(s') ]          (2.25), (2.43)
    Bellman optimality    (T* V)(s)  = max_a      [ r(s, a) + γ Σ_s' p(s'|s, a) V(s') ]          (2.36), (2.46)
    on action values      (T^π Q)(s, a) = r(s, a) + γ Σ_s' p(s'|s, a) Σ_a' π(a'|s') Q(s', a')     (2.27)
                          (T* Q)(s, a)  = r(s, a) + γ Σ_s' p(s'|s, a) max_a' Q(s', a')            (2.37)

Both T^π and T* are γ-contractions in the sup norm, ‖T V - T V'‖∞ <= γ ‖V - V'‖∞ (2.44), (2.47), so by
Banach's fixed-point theorem each has exactly one fixed point, V^π and V* respectively, and iterating it from
any V converges there. Both are also monotone: V <= V' everywhere implies T V <= T V'.

Every operator works on all states at once (one `einsum` per backup). `mdp` is a `minirl.tabular.MDP`;
policies are (S, A) arrays of π(a|s).
"""

from __future__ import annotations

import numpy as np

from minirl.tabular.mdp import MDP, check_policy, greedy_policy_from


def _check_values(V, mdp: MDP, name: str = "V") -> np.ndarray:
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (mdp.num_states,):
        raise ValueError(f"{name} must have shape (S,) = ({mdp.num_states},), got {V.shape}")
    return V


def _check_q(Q, mdp: MDP) -> np.ndarray:
    Q = np.asarray(Q, dtype=np.float64)
    if Q.shape != (mdp.num_states, mdp.num_actions):
        raise ValueError(f"Q must have shape (S, A) = {(mdp.num_states, mdp.num_actions)}, got {Q.shape}")
    return Q


def q_from_v(mdp: MDP, V) -> np.ndarray:
    """Q(s, a) = r(s, a) + γ Σ_s' p(s'|s, a) V(s'): one step of look-ahead, the bracket of (2.25)/(2.36)."""
    V = _check_values(V, mdp)
    return mdp.expected_reward + mdp.gamma * np.einsum("sat,t->sa", mdp.P, V)


def v_from_q(policy, Q) -> np.ndarray:
    """V^π(s) = Σ_a π(a|s) Q^π(s, a)  (2.23)."""
    return np.einsum("sa,sa->s", np.asarray(policy, dtype=np.float64), np.asarray(Q, dtype=np.float64))


def bellman_expectation(mdp: MDP, policy, V) -> np.ndarray:
    """T^π V  (2.43): the expected one-step return under π, bootstrapping from V."""
    policy = check_policy(policy, mdp)
    return v_from_q(policy, q_from_v(mdp, V))  # Σ_a π(a|s) [r(s, a) + γ Σ_s' p(s'|s, a) V(s')]


def bellman_optimality(mdp: MDP, V) -> np.ndarray:
    """T* V  (2.46): the best one-step return, bootstrapping from V."""
    return q_from_v(mdp, V).max(axis=1)  # max_a [r(s, a) + γ Σ_s' p(s'|s, a) V(s')]


def bellman_expectation_q(mdp: MDP, policy, Q) -> np.ndarray:
    """T^π Q  (2.27)."""
    policy, Q = check_policy(policy, mdp), _check_q(Q, mdp)
    return q_from_v(mdp, v_from_q(policy, Q))  # r + γ Σ_s' p(s'|s, a) Σ_a' π(a'|s') Q(s', a')


def bellman_optimality_q(mdp: MDP, Q) -> np.ndarray:
    """T* Q  (2.37)."""
    return q_from_v(mdp, _check_q(Q, mdp).max(axis=1))  # r + γ Σ_s' p(s'|s, a) max_a' Q(s', a')


def bellman_error(mdp: MDP, V) -> np.ndarray:
    """|T* V - V| per state: how far V is from satisfying the optimality equation; prioritized sweeping
    backs up the state where it is largest first (2.50)."""
    return np.abs(bellman_optimality(mdp, V) - _check_values(V, mdp))


def greedy(mdp: MDP, V, ties: str = "first") -> np.ndarray:
    """The greedy policy w.r.t. V: π'(s) = argmax_a [r(s, a) + γ Σ_s' p(s'|s, a) V(s')]  (2.41).

    ties="first" gives the one-hot policy on the lowest-index best action; "split" spreads the probability
    evenly over all best actions (within 1e-9).
    """
    return greedy_policy_from(q_from_v(mdp, V), ties=ties)
