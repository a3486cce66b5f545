"""Temporal-difference prediction: TD(0), n-step TD and TD(λ) (book ch. 2.6.1; Algorithms 2.10, 2.11;
eqs. 2.57, 2.62-2.67).

TD bootstraps: the target of V(S_t) uses the current estimate of the next state's value, so it can learn
after every step, with less variance and some bias compared with Monte Carlo (`mc.py`).

- `td0_prediction` (Alg. 2.10): V(S_t) <- V(S_t) + α[R_{t+1} + γV(S_{t+1}) - V(S_t)] (2.57).
- `n_step_td_prediction`: the target is the n-step return G_{t:t+n} (2.64), updated n steps late.
- `td_lambda_forward`: the forward view, towards the λ-return G^λ_t = (1-λ) Σ_n λ^{n-1} G_{t:t+n}
  (2.65, 2.66). It needs the whole episode, so it is offline: the increments are computed with the values of
  the episode's start and applied at its end.
- `td_lambda`: the backward view with an eligibility trace z (2.62, 2.63) and the TD error δ_t (2.67), the
  tabular case of Alg. 2.11 (with one-hot features ∇V(S_t) is the indicator of S_t). ``trace="accumulating"``
  adds 1 to z(S_t), ``"replacing"`` sets it to 1. ``offline=True`` sums the increments over the episode and
  applies them at its end; then, with accumulating traces, it equals `td_lambda_forward` exactly. λ = 0 is
  TD(0); λ = 1 is (every-visit, constant-α) Monte Carlo.
- `n_step_returns` and `lambda_returns` compute these targets for one recorded episode.

An episode that was truncated (not terminated) bootstraps on the value of the state it stopped in; a
terminal state's value is 0.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from minirl.tabular.experience import StateIndex, as_generator, as_policy, generate_episode, reset, scheduled


def _setup(env, policy, V0, seed):
    rng = as_generator(seed)
    index = StateIndex(env.observation_space)
    V = np.zeros(index.n) if V0 is None else np.array(V0, dtype=np.float64)
    return rng, index, as_policy(policy, index), V


def _check_constant(alpha, name):
    if callable(alpha):
        raise TypeError(f"{name}: alpha must be a number; one update moves many states, so there is no single "
                        "visit count for a schedule")


def td0_prediction(env, policy, episodes: int, *, alpha=0.1, gamma: float = 1.0, V0=None, seed=None,
                   callback: Callable | None = None) -> np.ndarray:
    """TD(0) policy evaluation (Alg. 2.10); returns V. alpha: a number or a schedule ``alpha(N(s))``."""
    rng, index, act, V = _setup(env, policy, V0, seed)
    N = np.zeros(index.n, dtype=np.int64)
    for episode in range(episodes):
        obs = reset(env, rng, episode)
        s = index(obs)
        while True:
            obs, reward, terminated, truncated, _ = env.step(act(obs, rng))
            s_next = index(obs)
            target = reward + (0.0 if terminated else gamma * V[s_next])  # R_{t+1} + γV(S_{t+1})
            N[s] += 1
            V[s] += scheduled(alpha, N[s]) * (target - V[s])  # (2.57)
            if terminated or truncated:
                break
            s = s_next
        if callback is not None:
            callback(episode, V)
    return V


def n_step_td_prediction(env, policy, episodes: int, n: int, *, alpha=0.1, gamma: float = 1.0, V0=None,
                         seed=None, callback: Callable | None = None) -> np.ndarray:
    """n-step TD policy evaluation: V(S_τ) moves towards G_{τ:τ+n} (2.64) once R_{τ+n} is known."""
    if n < 1:
        raise ValueError(f"n_step_td_prediction: n must be >= 1, got {n}")
    rng, index, act, V = _setup(env, policy, V0, seed)
    N = np.zeros(index.n, dtype=np.int64)
    discounts = gamma ** np.arange(n + 1)
    for episode in range(episodes):
        obs = reset(env, rng, episode)
        states, rewards = [index(obs)], [0.0]  # rewards[t] is R_t, so R_{t+1} follows S_t
        T, bootstrap_end, t = np.inf, True, 0
        while True:
            if t < T:
                obs, reward, terminated, truncated, _ = env.step(act(obs, rng))
                states.append(index(obs))
                rewards.append(float(reward))
                if terminated or truncated:
                    T, bootstrap_end = t + 1, not terminated
            tau = t - n + 1  # the time whose estimate is updated now
            if tau >= 0:
                end = int(min(tau + n, T))
                G = float(np.dot(discounts[:end - tau], rewards[tau + 1:end + 1]))  # Σ γ^{i-τ-1} R_i
                if tau + n < T or bootstrap_end:
                    G += discounts[end - tau] * V[states[end]]  # + γ^n V(S_{τ+n})  (2.64)
                s = states[tau]
                N[s] += 1
                V[s] += scheduled(alpha, N[s]) * (G - V[s])
            if tau == T - 1:
                break
            t += 1
        if callback is not None:
            callback(episode, V)
    return V


def n_step_returns(rewards, values, gamma: float, n: int) -> np.ndarray:
    """G_{t:t+n} (2.64) for t = 0..T-1 of one episode.

    rewards: R_1..R_T (length T); values: V(S_0)..V(S_T) (length T + 1; put V(S_T) = 0 when S_T is terminal).
    """
    rewards, values = np.asarray(rewards, dtype=np.float64), np.asarray(values, dtype=np.float64)
    T = rewards.shape[0]
    G = np.empty(T)
    for t in range(T):
        end = min(t + n, T)
        G[t] = np.dot(gamma ** np.arange(end - t), rewards[t:end]) + gamma ** (end - t) * values[end]
    return G


def lambda_returns(rewards, values, gamma: float, lam: float) -> np.ndarray:
    """The λ-returns G^λ_t (2.66) for t = 0..T-1 of one episode, arguments as `n_step_returns`.

    Computed backwards with G^λ_t = R_{t+1} + γ[(1-λ)V(S_{t+1}) + λ G^λ_{t+1}], G^λ_T = V(S_T), which is
    (2.66) summed term by term; λ = 0 gives the TD(0) targets, λ = 1 the Monte Carlo returns.
    """
    rewards, values = np.asarray(rewards, dtype=np.float64), np.asarray(values, dtype=np.float64)
    T = rewards.shape[0]
    G = np.empty(T)
    g = values[T]
    for t in range(T - 1, -1, -1):
        g = rewards[t] + gamma * ((1.0 - lam) * values[t + 1] + lam * g)
        G[t] = g
    return G


def td_lambda_forward(env, policy, episodes: int, lam: float, *, alpha: float = 0.1, gamma: float = 1.0,
                      V0=None, seed=None, callback: Callable | None = None) -> np.ndarray:
    """Offline λ-return algorithm (forward view of TD(λ), 2.65/2.66): after each episode,
    V(S_t) += α(G^λ_t - V(S_t)) for every t, all computed with the values the episode started with."""
    _check_constant(alpha, "td_lambda_forward")
    rng, index, act, V = _setup(env, policy, V0, seed)
    for episode in range(episodes):
        ep = generate_episode(env, act, rng, index, episode)
        values = V[ep.states]
        if ep.terminated:
            values[-1] = 0.0
        targets = lambda_returns(ep.rewards, values, gamma, lam)
        np.add.at(V, ep.states[:-1], alpha * (targets - values[:-1]))
        if callback is not None:
            callback(episode, V)
    return V


def td_lambda(env, policy, episodes: int, lam: float, *, alpha: float = 0.1, gamma: float = 1.0,
              trace: str = "accumulating", offline: bool = False, V0=None, seed=None,
              callback: Callable | None = None) -> np.ndarray:
    """TD(λ), backward view with eligibility traces (Alg. 2.11 with one-hot features); returns V."""
    if trace not in ("accumulating", "replacing"):
        raise ValueError(f"td_lambda: trace must be 'accumulating' or 'replacing', got {trace!r}")
    _check_constant(alpha, "td_lambda")
    rng, index, act, V = _setup(env, policy, V0, seed)
    for episode in range(episodes):
        obs = reset(env, rng, episode)
        s = index(obs)
        z = np.zeros_like(V)  # z_{-1} = 0  (2.62)
        W = V.copy() if offline else V  # offline: δ uses the values of the episode's start
        while True:
            obs, reward, terminated, truncated, _ = env.step(act(obs, rng))
            s_next = index(obs)
            z *= gamma * lam  # z_t = γλ z_{t-1} + ∇V(S_t)  (2.63)
            if trace == "accumulating":
                z[s] += 1.0
            else:
                z[s] = 1.0
            delta = reward + (0.0 if terminated else gamma * W[s_next]) - W[s]  # δ_t  (2.67)
            V += alpha * delta * z  # w <- w + αδz
            if terminated or truncated:
                break
            s = s_next
        if callback is not None:
            callback(episode, V)
    return V
