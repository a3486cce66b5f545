"""Monte Carlo prediction and control (book ch. 2.5; Algorithms 2.8 and 2.9; eqs. 2.52-2.56).

Monte Carlo learns from whole episodes: the target of V(S_t) is the return G_t that followed, computed
backwards from the end of the episode with G <- γG + R_{t+1}. Nothing is bootstrapped, so the estimate is
unbiased and noisy (compare `td.py`).

- `first_visit_mc_prediction` (Alg. 2.8) averages, for each state, the returns that followed its first visit
  in every episode; `every_visit_mc_prediction` averages those after every visit (Alg. 2.8 without the
  "S_t not in S_0..S_{t-1}" check). Both converge to v_π.
- The average is kept incrementally, Q_{t+1} = Q_t + (1/t)(G_t - Q_t) (2.55), which equals the mean over a
  `Returns(s)` list without storing it; ``alpha=0.1`` gives constant-α MC, the general rule
  "new <- old + step (target - old)" (2.56).
- `mc_exploring_starts` (Alg. 2.9) alternates evaluation of Q and greedy improvement π(s) = argmax_a Q(s, a)
  (2.52) after every episode; every pair (s, a) must be able to start an episode. Here A_0 is drawn
  uniformly and S_0 comes from the environment's reset (for Blackjack that covers every state) or, for
  environments whose ``reset`` accepts ``options={"state": s}``, uniformly from `start_states`.
- `on_policy_mc_control` drops the exploring-starts assumption by keeping the policy ε-soft (ε-greedy in Q).

Errata: Algorithms 2.8 and 2.9 print the last reward as R_t and the loop as "for t >= 0"; the episode ends
with R_T and the loop runs t = T-1, T-2, ..., 0 (BOOK_MAP §5.1.5).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from minirl.tabular.experience import (ControlResult, StateIndex, as_generator, as_policy, epsilon_greedy,
                                       generate_episode, greedy_action, num_actions, scheduled)


def mc_prediction(env, policy, episodes: int, *, gamma: float = 1.0, first_visit: bool = True, alpha=None,
                  V0=None, seed=None, callback: Callable | None = None) -> np.ndarray:
    """Estimate v_π from `episodes` episodes of `policy` (Alg. 2.8); returns the table V.

    alpha: None for the sample average (step 1/N(s), eq. 2.55), a number for constant-α MC (2.56) or a
    schedule ``alpha(N(s))``. ``callback(episode, V)`` runs after every episode (learning curves).
    """
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    act = as_policy(policy, index)
    V = np.zeros(index.n) if V0 is None else np.array(V0, dtype=np.float64)
    N = np.zeros(index.n, dtype=np.int64)
    for episode in range(episodes):
        ep = generate_episode(env, act, rng, index, episode)
        first = {}
        for t, s in enumerate(ep.states[:-1]):
            first.setdefault(s, t)
        G = 0.0
        for t in range(len(ep) - 1, -1, -1):
            G = gamma * G + ep.rewards[t]  # G <- γG + R_{t+1}
            s = ep.states[t]
            if first_visit and first[s] != t:
                continue  # S_t appeared earlier in S_0..S_{t-1}: not its first visit
            N[s] += 1
            step = 1.0 / N[s] if alpha is None else scheduled(alpha, N[s])
            V[s] += step * (G - V[s])  # V <- V + (1/N)(G - V)  (2.55), or constant α (2.56)
        if callback is not None:
            callback(episode, V)
    return V


def first_visit_mc_prediction(env, policy, episodes: int, **kwargs) -> np.ndarray:
    """First-visit MC prediction (Alg. 2.8); keyword arguments as `mc_prediction`."""
    return mc_prediction(env, policy, episodes, first_visit=True, **kwargs)


def every_visit_mc_prediction(env, policy, episodes: int, **kwargs) -> np.ndarray:
    """Every-visit MC prediction (ch. 2.5.1); keyword arguments as `mc_prediction`."""
    return mc_prediction(env, policy, episodes, first_visit=False, **kwargs)


def _first_visit_update(Q, N, ep, gamma, alpha):
    """Backward pass of Alg. 2.9: update Q(S_t, A_t) towards G_t at the first visit of each pair."""
    first = {}
    for t, (s, a) in enumerate(zip(ep.states, ep.actions)):
        first.setdefault((s, a), t)
    G = 0.0
    for t in range(len(ep) - 1, -1, -1):
        G = gamma * G + ep.rewards[t]  # G <- γG + R_{t+1}
        s, a = ep.states[t], ep.actions[t]
        if first[(s, a)] != t:
            continue
        N[s, a] += 1
        step = 1.0 / N[s, a] if alpha is None else scheduled(alpha, N[s, a])
        Q[s, a] += step * (G - Q[s, a])  # Q(S_t, A_t) <- mean(Returns(S_t, A_t))  (2.55)


def mc_exploring_starts(env, episodes: int, *, gamma: float = 1.0, alpha=None, start_states=None, Q0=None,
                        seed=None) -> ControlResult:
    """Monte Carlo control with exploring starts (Alg. 2.9): greedy policy, random first action.

    start_states: states to start from uniformly at random through ``env.reset(options={"state": s})``;
    None keeps the environment's own start distribution (enough when it covers every state, as in Blackjack).
    """
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    nA = num_actions(env)
    Q = np.zeros((index.n, nA)) if Q0 is None else np.array(Q0, dtype=np.float64)
    N = np.zeros_like(Q, dtype=np.int64)
    greedy = lambda obs, rng: greedy_action(Q[index(obs)], rng)  # π(s) = argmax_a Q(s, a)  (2.52)
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    for episode in range(episodes):
        first_action = int(rng.integers(nA))  # A_0 uniform: every pair can start an episode
        options = None
        if start_states is not None:
            options = {"state": start_states[int(rng.integers(len(start_states)))]}
        ep = generate_episode(env, greedy, rng, index, episode, first_action=first_action, options=options)
        _first_visit_update(Q, N, ep, gamma, alpha)
        returns[episode], lengths[episode] = sum(ep.rewards), len(ep)
    return ControlResult(Q, returns, lengths)


def on_policy_mc_control(env, episodes: int, *, gamma: float = 1.0, epsilon=0.1, alpha=None, Q0=None,
                         seed=None) -> ControlResult:
    """On-policy first-visit MC control with an ε-soft (ε-greedy) policy (ch. 2.5.2).

    epsilon: a number or a schedule ``epsilon(k)`` of the episode number k = 1, 2, ...; ``lambda k: 1 / k``
    is GLIE (Lemma 2.1) and makes the greedy policy converge to an optimal one.
    """
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    nA = num_actions(env)
    Q = np.zeros((index.n, nA)) if Q0 is None else np.array(Q0, dtype=np.float64)
    N = np.zeros_like(Q, dtype=np.int64)
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        soft = lambda obs, rng: epsilon_greedy(Q[index(obs)], eps, rng)
        ep = generate_episode(env, soft, rng, index, episode)
        _first_visit_update(Q, N, ep, gamma, alpha)
        returns[episode], lengths[episode] = sum(ep.rewards), len(ep)
    return ControlResult(Q, returns, lengths)
