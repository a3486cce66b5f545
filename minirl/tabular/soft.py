"""Tabular soft policy iteration: maximum-entropy RL with a known model (book ch. 6.4.1, eqs. 6.17-6.23;
Haarnoja et al. 2018). SAC (ch. 6.4) is its sample-based, function-approximation version.

The objective adds the policy's entropy H(π(·|s)) = -Σ_a π(a|s) log π(a|s), weighted by the temperature α,
to every reward (6.17). Soft policy iteration alternates

    soft evaluation    T^π Q(s, a) = r(s, a) + γ E_{s'}[V(s')]                       (6.19, 6.21)
                       V(s) = E_{a~π}[Q(s, a) - α log π(a|s)]                         (6.20)
    soft improvement   π_new(·|s) = exp(Q(s, ·)/α) / Z(s)                            (6.22, 6.23)

T^π is a γ-contraction, so iterating it from any Q converges to the soft Q of π; each improvement does not
decrease the soft values (Theorem 6.1), and the iteration stops at the soft-optimal policy, whose values
satisfy V*(s) = α log Σ_a exp(Q*(s, a)/α). As α -> 0 the soft values tend to the ordinary optimal ones
(|V*_soft - V*| <= α log|A| / (1 - γ)); with a large α the policy tends to uniform.

`mdp` is a `minirl.tabular.MDP`; policies are (S, A) arrays of π(a|s).
"""

from __future__ import annotations

import numpy as np

from minirl.tabular.mdp import uniform_policy
from minirl.tabular.operators import q_from_v


def entropy(policy: np.ndarray) -> np.ndarray:
    """H(π(·|s)) = -Σ_a π(a|s) log π(a|s) for every state (0 log 0 = 0)."""
    logp = np.log(np.where(policy > 0, policy, 1.0))
    return -(policy * logp).sum(axis=1)


def soft_value(Q: np.ndarray, policy: np.ndarray, alpha: float) -> np.ndarray:
    """V(s) = E_{a~π}[Q(s, a) - α log π(a|s)] = Σ_a π(a|s) Q(s, a) + α H(π(·|s))  (6.20)."""
    return (policy * Q).sum(axis=1) + alpha * entropy(policy)


def soft_bellman_backup(mdp, Q: np.ndarray, policy: np.ndarray, alpha: float) -> np.ndarray:
    """One application of the soft Bellman backup operator: T^π Q = r + γ Σ_s' p(s'|s, a) V(s')  (6.21)."""
    return q_from_v(mdp, soft_value(Q, policy, alpha))


def soft_policy_evaluation(mdp, policy: np.ndarray, alpha: float, *, tol: float = 1e-10,
                           max_iterations: int = 100_000, Q0=None) -> np.ndarray:
    """The soft Q of `policy`: iterate Q_k = T^π Q_{k-1} until ‖Q_k - Q_{k-1}‖∞ < tol."""
    Q = np.zeros(mdp.expected_reward.shape) if Q0 is None else np.array(Q0, dtype=np.float64)
    for _ in range(max_iterations):
        Q_new = soft_bellman_backup(mdp, Q, policy, alpha)
        if np.max(np.abs(Q_new - Q)) < tol:
            return Q_new
        Q = Q_new
    raise RuntimeError(f"soft_policy_evaluation: no convergence to tol={tol} in {max_iterations} iterations")


def soft_policy_improvement(Q: np.ndarray, alpha: float) -> np.ndarray:
    """π(·|s) = exp(Q(s, ·)/α) / Z(s)  (6.23), computed stably (subtracting the row maximum)."""
    logits = Q / alpha
    logits = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def soft_policy_iteration(mdp, alpha: float, *, tol: float = 1e-8, max_iterations: int = 1000,
                          policy0=None):
    """Soft policy iteration from the uniform policy (or `policy0`); returns (policy, Q, V) of the
    soft-optimal policy at temperature α."""
    if alpha <= 0:
        raise ValueError(f"soft_policy_iteration: the temperature alpha must be > 0, got {alpha}")
    policy = uniform_policy(mdp) if policy0 is None else np.array(policy0, dtype=np.float64)
    Q = None
    for _ in range(max_iterations):
        Q = soft_policy_evaluation(mdp, policy, alpha, tol=tol * 1e-2, Q0=Q)
        new_policy = soft_policy_improvement(Q, alpha)
        if np.max(np.abs(new_policy - policy)) < tol:
            policy = new_policy
            break
        policy = new_policy
    else:
        raise RuntimeError(f"soft_policy_iteration: the policy did not settle in {max_iterations} iterations")
    Q = soft_policy_evaluation(mdp, policy, alpha, tol=tol * 1e-2, Q0=Q)
    return policy, Q, soft_value(Q, policy, alpha)
