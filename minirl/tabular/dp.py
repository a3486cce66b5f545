"""Dynamic programming: planning with a known model (book ch. 2.4).

    policy evaluation        V <- T^π V until it stops moving                                   (2.40), (2.43)
    policy iteration         evaluate π, make it greedy w.r.t. V^π, repeat until stable         Algorithm 2.6
    value iteration          V <- T* V until ‖V_{k+1} - V_k‖∞ < ε, then act greedily            Algorithm 2.7
    asynchronous DP          in-place sweeps (2.49), prioritized sweeping (2.50), real-time DP (2.51)

Each method returns ``(policy, V)``: a one-hot (S, A) policy and the values (S,). All rely on T^π and T*
being γ-contractions (2.44), (2.47), so for γ < 1 they converge from any start. With γ = 1 (episodic tasks
such as the 4x4 gridworld) they still converge when the policies involved reach a terminal state with
probability 1.

Stopping rule of value iteration (book 2.4.2, after Williams & Baird 1993): if ‖V_{k+1} - V_k‖∞ < ε, the greedy
policy π of V_{k+1} satisfies V^π(s) >= V*(s) - 2εγ/(1 - γ) in every state (e.g. ε = 0.01, γ = 0.9: 0.18).
"""

from __future__ import annotations

import heapq
from typing import Callable

import numpy as np

from minirl.tabular.mdp import MDP, check_policy, deterministic_policy, uniform_policy
from minirl.tabular.operators import bellman_optimality, greedy, q_from_v


def _initial_values(mdp: MDP, V0) -> np.ndarray:
    if V0 is None:
        return np.zeros(mdp.num_states)
    V = np.array(V0, dtype=np.float64)
    if V.shape != (mdp.num_states,):
        raise ValueError(f"V0 must have shape (S,) = ({mdp.num_states},), got {V.shape}")
    V[mdp.terminal] = 0.0  # a terminal state's value is 0 by definition
    return V


def _no_convergence(name: str, tol: float, max_iters: int, delta: float, gamma: float) -> RuntimeError:
    hint = " (with γ = 1 a policy that never terminates has unbounded values)" if gamma == 1.0 else ""
    return RuntimeError(f"{name}: the largest change was still {delta:.3g} > tol = {tol} after {max_iters} "
                        f"sweeps{hint}")


# ---------------------------------------------------------------------------------------------------------------
# Policy evaluation and policy iteration (2.4.1)


def exact_policy_evaluation(mdp: MDP, policy) -> np.ndarray:
    """V^π by the inverse-matrix method on the induced MRP: V = (I - γP^π)^{-1} R^π  (2.29)."""
    return mdp.induced_mrp(policy).solve()


def policy_evaluation(mdp: MDP, policy, tol: float = 1e-8, in_place: bool = False, max_iters: int = 100_000,
                      V0=None) -> np.ndarray:
    """V^π by iterating the Bellman expectation backup V <- T^π V (2.40), (2.43) until a sweep changes no
    value by `tol` or more.

    in_place=False keeps two arrays: every state is backed up from the previous sweep's values (2.48).
    in_place=True overwrites V state by state as Algorithm 2.6 does (2.49): later states in a sweep already
    see the new values, which usually converges in fewer sweeps.
    """
    mrp = mdp.induced_mrp(check_policy(policy, mdp))
    P, R, gamma = mrp.P, mrp.R, mdp.gamma  # P^π, R^π
    V = _initial_values(mdp, V0)
    for _ in range(max_iters):
        if in_place:
            delta = 0.0
            for s in range(mdp.num_states):
                v = V[s]
                V[s] = R[s] + gamma * P[s] @ V  # (2.49) with T^π in place of T*
                delta = max(delta, abs(v - V[s]))
        else:
            V_new = R + gamma * P @ V  # (2.43): (T^π V)(s) = R^π(s) + γ Σ_s' P^π(s, s') V(s')
            delta = np.max(np.abs(V_new - V))
            V = V_new
        if delta < tol:
            return V
    raise _no_convergence("policy_evaluation", tol, max_iters, delta, gamma)


def policy_improvement(mdp: MDP, V, policy=None) -> np.ndarray:
    """π'(s) = argmax_a q(s, a) with q from V (2.41); by (2.42) V^π' >= V^π everywhere.

    Where the current `policy`'s action is among the best (within 1e-9) it is kept. Algorithm 2.6 as printed
    would switch between equally good actions forever and never report the policy stable.
    """
    q = q_from_v(mdp, V)
    best = q.max(axis=1)
    actions = q.argmax(axis=1)  # the lowest-index best action
    if policy is not None:
        current = np.asarray(policy).argmax(axis=1)
        still_best = q[np.arange(mdp.num_states), current] >= best - 1e-9
        actions = np.where(still_best, current, actions)
    return deterministic_policy(actions, mdp.num_actions)


def policy_iteration(mdp: MDP, tol: float = 1e-8, policy=None, exact: bool = False, max_iters: int = 1000,
                     callback: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Algorithm 2.6: alternate policy evaluation and greedy policy improvement until the policy is stable.

    policy: the starting policy (default: uniform random, which terminates in the usual episodic examples).
    exact=True evaluates each policy by (2.29); otherwise T^π is iterated until it moves no value by `tol`,
    starting from the previous policy's values as the book does. callback(k, policy, V) is called after the
    k-th evaluation.
    """
    policy = uniform_policy(mdp) if policy is None else check_policy(policy, mdp)
    V = None
    for k in range(max_iters):
        # policy evaluation
        V = exact_policy_evaluation(mdp, policy) if exact else policy_evaluation(mdp, policy, tol, V0=V)
        if callback is not None:
            callback(k, policy, V)
        # policy improvement (stable when no state changes its action)
        new_policy = policy_improvement(mdp, V, policy)
        if np.array_equal(new_policy, policy):
            return policy, V
        policy = new_policy
    raise RuntimeError(f"policy_iteration: the policy was still changing after {max_iters} iterations")


# ---------------------------------------------------------------------------------------------------------------
# Value iteration (2.4.2) and asynchronous DP (2.4.3)


def value_iteration(mdp: MDP, tol: float = 1e-8, in_place: bool = False, max_iters: int = 100_000, V0=None,
                    callback: Callable | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Algorithm 2.7: V_{k+1} = T* V_k (2.45), (2.46) until ‖V_{k+1} - V_k‖∞ < tol; returns (greedy(V), V).

    By the stopping rule in this module's docstring, the returned policy is within 2·tol·γ/(1 - γ) of optimal.
    in_place=True is the asynchronous in-place variant (2.49): one array, each state backed up from the
    newest values of the others. callback(k, V) is called after every sweep.
    """
    V = _initial_values(mdp, V0)
    gamma, P, r = mdp.gamma, mdp.P, mdp.expected_reward
    for k in range(max_iters):
        if in_place:
            delta = 0.0
            for s in range(mdp.num_states):
                v = V[s]
                V[s] = np.max(r[s] + gamma * P[s] @ V)  # (2.49): V(s) <- max_a R(s, a) + γ Σ_s' P(s'|s, a) V(s')
                delta = max(delta, abs(v - V[s]))
        else:
            V_new = bellman_optimality(mdp, V)  # (2.48): V_{k+1}(s) = max_a R(s, a) + γ Σ_s' P(s'|s, a) V_k(s')
            delta = np.max(np.abs(V_new - V))
            V = V_new
        if callback is not None:
            callback(k, V)
        if delta < tol:
            return greedy(mdp, V), V
    raise _no_convergence("value_iteration", tol, max_iters, delta, gamma)


def _predecessors(mdp: MDP) -> list[np.ndarray]:
    """For every state s', the states s from which some action reaches s' (their backups read V(s'))."""
    reaches = (mdp.P > 0).any(axis=1)  # reaches[s, s'] = ∃a: p(s'|s, a) > 0
    return [np.flatnonzero(reaches[:, t]) for t in range(mdp.num_states)]


def prioritized_sweeping(mdp: MDP, tol: float = 1e-8, max_backups: int = 10_000_000,
                         V0=None) -> tuple[np.ndarray, np.ndarray]:
    """Asynchronous value iteration that always backs up the state with the largest Bellman error (2.50).

    A priority queue holds every state's |max_a (R(s, a) + γ Σ_s' P(s'|s, a) V(s')) - V(s)|. After backing
    up s, only the errors of s's predecessors can change, so only they are recomputed and re-queued (stale
    entries are skipped when popped). Stops when the largest error is below `tol`, i.e.
    ‖T* V - V‖∞ < tol, which bounds ‖V - V*‖∞ by tol / (1 - γ).
    """
    V = _initial_values(mdp, V0)
    gamma, P, r = mdp.gamma, mdp.P, mdp.expected_reward
    predecessors = _predecessors(mdp)

    def errors(states):
        backed_up = (r[states] + gamma * P[states] @ V).max(axis=1)
        return np.abs(backed_up - V[states])  # (2.50)

    priority = errors(np.arange(mdp.num_states))
    queue = [(-e, s) for s, e in enumerate(priority)]  # heapq is a min-heap: store -|error|
    heapq.heapify(queue)
    for _ in range(max_backups):
        neg_error, s = heapq.heappop(queue)
        if -neg_error != priority[s]:
            continue  # a stale entry: s was re-queued with a newer priority
        if -neg_error < tol:
            return greedy(mdp, V), V
        V[s] = np.max(r[s] + gamma * P[s] @ V)  # the backup (2.49) of the most urgent state
        affected = np.union1d(predecessors[s], [s])
        priority[affected] = errors(affected)
        for t in affected:
            heapq.heappush(queue, (-priority[t], int(t)))
    raise RuntimeError(f"prioritized_sweeping: largest Bellman error still {priority.max():.3g} > tol = {tol} "
                       f"after {max_backups} backups")


def real_time_dp(mdp: MDP, episodes: int, initial_distribution=None, max_steps: int = 1000,
                 epsilon: float = 0.0, V0=None, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Real-time DP (2.51): simulate episodes with the model and back up only the states actually visited.

    At each step the current state S_t is backed up, V(S_t) <- max_a R(S_t, a) + γ Σ_s' P(s'|S_t, a) V(s'),
    then an action is chosen greedily w.r.t. the new values (at random with probability `epsilon`) and
    S_{t+1} ~ P(·|S_t, A_t). Values converge to V* on the states the trajectories keep visiting; states
    that are never visited keep V0. Episodes start from `initial_distribution` (default
    `mdp.initial_distribution`) and last until a terminal state or `max_steps` steps.
    """
    rng = np.random.default_rng(seed)
    V = _initial_values(mdp, V0)
    gamma, P, r = mdp.gamma, mdp.P, mdp.expected_reward
    S, A = mdp.num_states, mdp.num_actions
    rho0 = mdp.initial_distribution if initial_distribution is None \
        else np.asarray(initial_distribution, dtype=np.float64) / np.sum(initial_distribution)
    for _ in range(episodes):
        s = rng.choice(S, p=rho0)
        for _ in range(max_steps):
            if mdp.terminal[s]:
                break
            q = r[s] + gamma * P[s] @ V
            V[s] = q.max()  # (2.51)
            a = rng.integers(A) if rng.random() < epsilon else int(q.argmax())
            s = rng.choice(S, p=P[s, a])
    return greedy(mdp, V), V
