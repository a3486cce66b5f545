"""Temporal-difference control: Sarsa, Expected Sarsa, n-step Sarsa, Q-learning, Double Q-learning
(book ch. 2.6.2-2.6.3; Algorithms 2.12, 2.13, 2.14; eqs. 2.68-2.70; ch. 3.4, eqs. 3.1-3.2).

All five learn a table Q(s, a) while acting ε-greedily in it; they differ only in the target:

    Sarsa            R_{t+1} + γ Q(S_{t+1}, A_{t+1})              (2.68) on-policy: A_{t+1} is the action taken
    Expected Sarsa   R_{t+1} + γ Σ_a π(a|S_{t+1}) Q(S_{t+1}, a)    the expectation of Sarsa's target under π
    n-step Sarsa     G_{t:t+n} = R_{t+1} + ... + γ^n Q(S_{t+n}, A_{t+n})   (2.69)
    Q-learning       R_{t+1} + γ max_a Q(S_{t+1}, a)              (2.70) off-policy: learns the greedy policy
    Double Q         R_{t+1} + γ Q2(S_{t+1}, argmax_a Q1(S_{t+1}, a))  (van Hasselt 2010) removes max's bias

A terminal S_{t+1} contributes no future value; an episode cut by a time limit (truncated) still bootstraps.
Each function returns a `ControlResult` (Q, per-episode undiscounted returns and lengths).

alpha: a number or a schedule ``alpha(N(s, a))`` of the visit count (Theorem 2.1 asks Σα = ∞, Σα² < ∞, e.g.
``lambda n: 1 / n``); epsilon: a number or ``epsilon(k)`` of the episode number k = 1, 2, ... (GLIE, Lemma 2.1).

Erratum: Algorithm 2.13 prints γ or r where τ, the time being updated, is meant ("γ ← 0",
"until γ = T - 1", "Σ_{i=τ+1}^{min(τ+n,T)} γ^{i-τ-1} R_i", "Q(S_τ, A_τ)"); `n_step_sarsa` follows the corrected
algorithm (Sutton & Barto 2018, §7.2). (BOOK_MAP §5.1.6.)
"""

from __future__ import annotations

import numpy as np

from minirl.tabular.experience import (ControlResult, StateIndex, as_generator, epsilon_greedy, greedy_action,
                                       num_actions, reset, scheduled)


def _setup(env, Q0, seed, episodes):
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    nA = num_actions(env)
    Q = np.zeros((index.n, nA)) if Q0 is None else np.array(Q0, dtype=np.float64)
    if Q.shape != (index.n, nA):
        raise ValueError(f"Q0: expected shape {(index.n, nA)}, got {Q.shape}")
    N = np.zeros(Q.shape, dtype=np.int64)
    return rng, index, Q, N, np.zeros(episodes), np.zeros(episodes, dtype=np.int64)


def sarsa(env, episodes: int, *, alpha=0.5, gamma: float = 1.0, epsilon=0.1, Q0=None,
          seed=None) -> ControlResult:
    """Sarsa, on-policy TD control (Alg. 2.12)."""
    rng, index, Q, N, returns, lengths = _setup(env, Q0, seed, episodes)
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))
        a = epsilon_greedy(Q[s], eps, rng)
        while True:
            obs, reward, terminated, truncated, _ = env.step(a)
            returns[episode] += reward
            lengths[episode] += 1
            s_next = index(obs)
            a_next = epsilon_greedy(Q[s_next], eps, rng)  # A_{t+1} from the same ε-greedy policy
            target = reward + (0.0 if terminated else gamma * Q[s_next, a_next])
            N[s, a] += 1
            Q[s, a] += scheduled(alpha, N[s, a]) * (target - Q[s, a])  # (2.68)
            if terminated or truncated:
                break
            s, a = s_next, a_next
    return ControlResult(Q, returns, lengths)


def expected_sarsa(env, episodes: int, *, alpha=0.5, gamma: float = 1.0, epsilon=0.1, Q0=None,
                   seed=None) -> ControlResult:
    """Expected Sarsa: Sarsa's target averaged over the ε-greedy policy's next action."""
    rng, index, Q, N, returns, lengths = _setup(env, Q0, seed, episodes)
    nA = Q.shape[1]
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))
        while True:
            a = epsilon_greedy(Q[s], eps, rng)
            obs, reward, terminated, truncated, _ = env.step(a)
            returns[episode] += reward
            lengths[episode] += 1
            s_next = index(obs)
            q = Q[s_next]
            greedy = q == q.max()
            pi = eps / nA + (1.0 - eps) * greedy / greedy.sum()  # ε-greedy π(·|S_{t+1})
            target = reward + (0.0 if terminated else gamma * float(pi @ q))  # R + γ Σ_a π(a|S') Q(S', a)
            N[s, a] += 1
            Q[s, a] += scheduled(alpha, N[s, a]) * (target - Q[s, a])
            if terminated or truncated:
                break
            s = s_next
    return ControlResult(Q, returns, lengths)


def n_step_sarsa(env, episodes: int, n: int, *, alpha=0.5, gamma: float = 1.0, epsilon=0.1, Q0=None,
                 seed=None) -> ControlResult:
    """n-step Sarsa (Alg. 2.13, corrected): Q(S_τ, A_τ) moves towards G_{τ:τ+n} (2.69)."""
    if n < 1:
        raise ValueError(f"n_step_sarsa: n must be >= 1, got {n}")
    rng, index, Q, N, returns, lengths = _setup(env, Q0, seed, episodes)
    discounts = gamma ** np.arange(n + 1)
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))
        states, actions, rewards = [s], [epsilon_greedy(Q[s], eps, rng)], [0.0]  # rewards[t] is R_t
        T, bootstrap_end, t = np.inf, True, 0  # T <- "infinity": the episode's length is not known yet
        while True:
            if t < T:
                obs, reward, terminated, truncated, _ = env.step(actions[t])
                returns[episode] += reward
                lengths[episode] += 1
                s_next = index(obs)
                states.append(s_next)
                rewards.append(float(reward))
                if terminated or truncated:
                    T, bootstrap_end = t + 1, not terminated
                    if truncated and not terminated:
                        actions.append(epsilon_greedy(Q[s_next], eps, rng))  # A_T to bootstrap on
                else:
                    actions.append(epsilon_greedy(Q[s_next], eps, rng))  # A_{t+1}
            tau = t - n + 1  # τ: the time whose estimate is updated
            if tau >= 0:
                end = int(min(tau + n, T))
                G = float(np.dot(discounts[:end - tau], rewards[tau + 1:end + 1]))  # Σ_{i=τ+1} γ^{i-τ-1} R_i
                if tau + n < T or bootstrap_end:
                    G += discounts[end - tau] * Q[states[end], actions[end]]  # + γ^n Q(S_{τ+n}, A_{τ+n})
                sa = states[tau], actions[tau]
                N[sa] += 1
                Q[sa] += scheduled(alpha, N[sa]) * (G - Q[sa])
            if tau == T - 1:
                break
            t += 1
    return ControlResult(Q, returns, lengths)


def q_learning(env, episodes: int, *, alpha=0.5, gamma: float = 1.0, epsilon=0.1, Q0=None,
               seed=None) -> ControlResult:
    """Q-learning, off-policy TD control (Alg. 2.14): acts ε-greedily, learns the greedy policy's values."""
    rng, index, Q, N, returns, lengths = _setup(env, Q0, seed, episodes)
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))
        while True:
            a = epsilon_greedy(Q[s], eps, rng)
            obs, reward, terminated, truncated, _ = env.step(a)
            returns[episode] += reward
            lengths[episode] += 1
            s_next = index(obs)
            target = reward + (0.0 if terminated else gamma * Q[s_next].max())  # R + γ max_a Q(S', a)
            N[s, a] += 1
            Q[s, a] += scheduled(alpha, N[s, a]) * (target - Q[s, a])  # (2.70)
            if terminated or truncated:
                break
            s = s_next
    return ControlResult(Q, returns, lengths)


def double_q_learning(env, episodes: int, *, alpha=0.5, gamma: float = 1.0, epsilon=0.1, Q0=None,
                      seed=None) -> ControlResult:
    """Double Q-learning (van Hasselt 2010; the tabular root of Double DQN, book ch. 4): two tables, one
    picks the argmax and the other evaluates it, so noise in one cannot inflate its own maximum.

    Acts ε-greedily in Q1 + Q2; returns their mean as ``result.Q``.
    """
    rng, index, Q1, N1, returns, lengths = _setup(env, Q0, seed, episodes)
    Q2, N2 = Q1.copy(), N1.copy()
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))
        while True:
            a = epsilon_greedy(Q1[s] + Q2[s], eps, rng)
            obs, reward, terminated, truncated, _ = env.step(a)
            returns[episode] += reward
            lengths[episode] += 1
            s_next = index(obs)
            # a fair coin chooses which table learns; it selects, the other evaluates
            learner, evaluator, N = (Q1, Q2, N1) if rng.random() < 0.5 else (Q2, Q1, N2)
            future = 0.0
            if not terminated:
                future = evaluator[s_next, greedy_action(learner[s_next], rng)]  # Q2(S', argmax_a Q1(S', a))
            N[s, a] += 1
            learner[s, a] += scheduled(alpha, N[s, a]) * (reward + gamma * future - learner[s, a])
            if terminated or truncated:
                break
            s = s_next
    return ControlResult((Q1 + Q2) / 2.0, returns, lengths)
