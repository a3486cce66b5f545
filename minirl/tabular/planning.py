"""Dyna-Q: learning and planning together (book ch. 9.3, Algorithm 9.30; Sutton 1991).

Every real step does three things:

    (d) direct RL     Q(s, a) <- Q(s, a) + α[r + γ max_a' Q(s', a') - Q(s, a)]    (Q-learning, 2.70)
    (e) model         Model(s, a) <- (r, s')                                       (a deterministic model)
    (f) planning      n times: a pair (s, a) seen before, chosen at random; (r, s') <- Model(s, a);
                      the same Q-learning update on that simulated experience

With ``n_planning=0`` this is plain Q-learning; every planning step replays real experience through the model
and spreads value backwards along the paths already found, so far fewer real episodes are needed (Dyna maze,
Sutton & Barto 2018 fig. 8.2). The model remembers whether s' was terminal, so simulated terminal steps do not
bootstrap either. (Algorithm 9.30 prints the bracket of the update as "α r + γ max ..."; α multiplies the
whole TD error.)
"""

from __future__ import annotations

import numpy as np

from minirl.tabular.experience import (ControlResult, StateIndex, as_generator, epsilon_greedy, num_actions,
                                       reset, scheduled)


def dyna_q(env, episodes: int, *, n_planning: int = 5, alpha: float = 0.1, gamma: float = 0.95, epsilon=0.1,
           Q0=None, seed=None) -> ControlResult:
    """Tabular Dyna-Q (Alg. 9.30) with `n_planning` simulated updates after every real step."""
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    Q = np.zeros((index.n, num_actions(env))) if Q0 is None else np.array(Q0, dtype=np.float64)
    model: dict[tuple[int, int], tuple[float, int, bool]] = {}  # Model(s, a) = (r, s', terminal)
    seen: list[tuple[int, int]] = []  # the pairs in the model, for uniform sampling
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)

    def update(s, a, r, s_next, terminal):
        target = r + (0.0 if terminal else gamma * Q[s_next].max())
        Q[s, a] += alpha * (target - Q[s, a])

    for episode in range(episodes):
        eps = scheduled(epsilon, episode + 1)
        s = index(reset(env, rng, episode))  # (a) the current state
        while True:
            a = epsilon_greedy(Q[s], eps, rng)  # (b)
            obs, reward, terminated, truncated, _ = env.step(a)  # (c)
            returns[episode] += reward
            lengths[episode] += 1
            s_next = index(obs)
            update(s, a, reward, s_next, terminated)  # (d)
            if (s, a) not in model:
                seen.append((s, a))
            model[(s, a)] = (float(reward), s_next, bool(terminated))  # (e)
            for _ in range(n_planning):  # (f)
                ps, pa = seen[int(rng.integers(len(seen)))]
                update(ps, pa, *model[(ps, pa)])
            if terminated or truncated:
                break
            s = s_next
    return ControlResult(Q, returns, lengths)
