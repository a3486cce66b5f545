"""Fitted Q iteration (Algorithm 4.15) and online Q iteration (Algorithm 4.16): Q-learning as a regression
(book ch. 4.2, eq. 4.8, L18061–18165; Riedmiller 2005).

Q-learning (4.7) moves one table entry towards the target R + γ max_a Q(S', a). With an approximator Q(s, a; θ)
the same idea becomes a regression (4.8): choose θ so that Q(S_i, A_i; θ) comes close to the targets Y_i. The
book gives a batch way and an online way to do it:

    Algorithm 4.15  Fitted Q iteration
    for i = 1, T do                                                      `fitted_q_control`, `rounds` = T
        collect D samples {(S_i, A_i, R_i, S'_i)}, i = 1..D              `collect_transitions` (by acting),
                                                                         `model_transitions` (from a model)
        for t = 1, K do                                                  `fitted_q_iteration`, `iterations` = K
            Y_i ← R_i + γ max_a Q(S'_i, a; θ)                            `q_targets`
            θ ← argmin_θ' ½ Σ_i (Q(S_i, A_i; θ') − Y_i)²                 `least_squares_q`
        end for
    end for

    Algorithm 4.16  Online Q iteration                                   `online_q_iteration`
    for iteration = 1, T do
        choose an action a, interact, observe (s, a, r, s')             ε-greedy in Q(s, ·; θ)
        y ← r + γ max_a' Q(s', a'; θ)
        θ ← θ − α (Q(s, a; θ) − y) dQ(s, a; θ)/dθ                       y held fixed: a semi-gradient step
    end for

Q is linear in features here: Q(s, a; θ) = θ_a · φ(s), θ an (|A|, F) array with one row per action and φ any
feature map of `minirl.tabular.approximation` (`OneHot`, `TileCoding`, `RBF`, ...) or any callable s → (F,).
That keeps the argmin of Algorithm 4.15 a real argmin: the squared error splits into one least-squares problem
per action, solved exactly,

    θ_a = argmin ½ ‖Φ_a θ_a − Y_a‖² + ½ λ ‖θ_a‖² = (Φ_aᵀ Φ_a + λ I)⁻¹ Φ_aᵀ Y_a,

where Φ_a stacks φ(S_i) of the samples with A_i = a and λ is `ridge` (λ = 0: the least-norm solution, which
leaves at 0 whatever the data do not determine). And dQ(s, a; θ)/dθ is φ(s) in row a and 0 elsewhere, so the
step of Algorithm 4.16 changes θ_a alone.

With one-hot features (`OneHot`) both are tabular methods again:

- a fitted-Q iteration sets Q(s, a) to the mean target of the samples of (s, a): one Bellman optimality backup
  T*Q (2.37) on the empirical model of the data. With deterministic dynamics and every (s, a) sampled, that is
  value iteration, and it converges to Q*;
- online Q iteration is Q-learning (2.70), step for step.

Implementation notes:

1. Only termination stops the bootstrap: Y = R when S' is terminal (a terminal state's value is 0). A transition
   cut by a time limit (truncated) still bootstraps, so a stored data set needs only `terminated`;
   `collect_transitions` uses `truncated` only to start the next episode.
2. Both algorithms are off-policy (book, after the boxes): the targets take max_a whatever policy collected the
   data. `fitted_q_control` therefore keeps the samples of earlier rounds, as Riedmiller's neural fitted Q does,
   and regresses on all of them.
3. Convergence is not guaranteed in general: the regression B composed with the backup T* is not a contraction
   (book L18171–18195). With one-hot features BT* is the backup of the empirical model, a γ-contraction; with
   coarser features the iterates can oscillate or grow.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from minirl.tabular.experience import as_generator, epsilon_greedy, num_actions, reset, scheduled


class Transitions(NamedTuple):
    """D transitions (S_i, A_i, R_i, S'_i) and whether each S'_i is terminal: the data set of Algorithm 4.15."""
    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    terminated: np.ndarray


def feature_matrix(features: Callable, states) -> np.ndarray:
    """Φ, one row φ(s) per state: (D, F)."""
    return np.stack([np.asarray(features(s), dtype=np.float64) for s in states])


def linear_q(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Q(s, a; θ) = θ_a · φ(s) for every row φ(s) of `phi` (D, F) and every action: (D, |A|)."""
    return phi @ theta.T


def q_targets(theta: np.ndarray, rewards, next_phi: np.ndarray, terminated, gamma: float) -> np.ndarray:
    """Y_i = R_i + γ max_a Q(S'_i, a; θ), and Y_i = R_i where S'_i is terminal."""
    bootstrap = 1.0 - np.asarray(terminated, dtype=np.float64)
    return np.asarray(rewards, dtype=np.float64) + gamma * bootstrap * linear_q(theta, next_phi).max(axis=1)


def least_squares_q(phi: np.ndarray, actions, targets, n_actions: int, ridge: float = 0.0) -> np.ndarray:
    """θ = argmin_θ' ½ Σ_i (θ'_{A_i} · φ(S_i) − Y_i)² + ½ λ ‖θ'‖², solved exactly for one action at a time."""
    actions, targets = np.asarray(actions), np.asarray(targets, dtype=np.float64)
    theta = np.zeros((n_actions, phi.shape[1]))
    for a in range(n_actions):
        rows = actions == a
        phi_a, y_a = phi[rows], targets[rows]
        gram = phi_a.T @ phi_a + ridge * np.eye(phi.shape[1])  # the normal equations (Φ_aᵀΦ_a + λI) θ_a = Φ_aᵀY_a
        # λ = 0 and too few samples leave them singular; the pseudo-inverse then picks the least-norm solution
        theta[a] = np.linalg.pinv(gram, hermitian=True) @ (phi_a.T @ y_a)
    return theta


def fitted_q_iteration(data: Transitions, features: Callable, n_actions: int, gamma: float, iterations: int, *,
                       ridge: float = 0.0, theta=None, callback: Callable | None = None) -> np.ndarray:
    """The inner loop of Algorithm 4.15 on a fixed data set: K times, the targets of the current θ, then the
    exact regression on them. Returns θ (|A|, F); `callback(k, theta)` sees θ after iteration k = 0..K−1."""
    phi, next_phi = feature_matrix(features, data.states), feature_matrix(features, data.next_states)
    actions = np.asarray(data.actions, dtype=np.int64)
    if actions.size and (actions.min() < 0 or actions.max() >= n_actions):
        raise ValueError(f"fitted_q_iteration: actions must lie in 0..{n_actions - 1}, got "
                         f"{actions.min()}..{actions.max()}")
    theta = np.zeros((n_actions, phi.shape[1])) if theta is None else np.array(theta, dtype=np.float64)
    if theta.shape != (n_actions, phi.shape[1]):
        raise ValueError(f"fitted_q_iteration: theta must have shape (|A|, F) = {(n_actions, phi.shape[1])}, "
                         f"got {theta.shape}")
    for k in range(iterations):
        targets = q_targets(theta, data.rewards, next_phi, data.terminated, gamma)  # Y_i ← R_i + γ max_a Q(S'_i, a)
        theta = least_squares_q(phi, actions, targets, n_actions, ridge)          # θ ← argmin ½ Σ_i (Q − Y_i)²
        if callback is not None:
            callback(k, theta)
    return theta


def collect_transitions(env, policy: Callable, samples: int, seed=None) -> Transitions:
    """`samples` transitions of `policy(obs, rng) -> action` in `env`, starting a new episode whenever one ends
    (terminated or truncated). The first reset is seeded from `seed` (int, None or a Generator to share)."""
    rng = as_generator(seed)
    columns = {name: [] for name in Transitions._fields}
    episode, obs = 0, reset(env, rng, 0)
    for _ in range(samples):
        action = policy(obs, rng)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        for name, value in zip(Transitions._fields, (obs, action, reward, next_obs, terminated)):
            columns[name].append(value)
        obs = next_obs
        if terminated or truncated:
            episode += 1
            obs = reset(env, rng, episode)
    return Transitions(*(np.array(columns[name]) for name in Transitions._fields))


def model_transitions(mdp, per_pair: int, seed=None) -> Transitions:
    """`per_pair` samples of every non-terminal (s, a) of a known `minirl.tabular.MDP`, S' ~ p(·|s, a) and
    R = R(s, a, S'), as a simulator that can be put in any state would give them: full coverage of the pairs."""
    rng = as_generator(seed)
    pairs = [(s, a) for s in np.flatnonzero(~mdp.terminal) for a in range(mdp.num_actions)] * per_pair
    states, actions = (np.array(column, dtype=np.int64) for column in zip(*pairs))
    cumulative = np.cumsum(mdp.P[states, actions], axis=1)
    next_states = np.minimum((cumulative <= rng.random((len(pairs), 1))).sum(axis=1), mdp.num_states - 1)
    rewards = np.array([mdp.reward(s, a, t) for s, a, t in zip(states, actions, next_states)])
    return Transitions(states, actions, rewards, next_states, mdp.terminal[next_states])


def fitted_q_control(env, features: Callable, rounds: int, samples: int, iterations: int, *, gamma: float = 0.99,
                     epsilon: float = 0.1, ridge: float = 0.0, seed=None,
                     callback: Callable | None = None) -> np.ndarray:
    """Algorithm 4.15 in full: T = `rounds` times, collect D = `samples` transitions ε-greedily in the current Q
    and add them to the data set, then K = `iterations` fitted-Q iterations on all of it. Returns θ;
    `callback(round, theta, data)` after each round."""
    rng = as_generator(seed)
    n_actions = num_actions(env)
    theta, data = None, None
    for i in range(rounds):
        def behaviour(obs, rng, theta=theta):
            q = np.zeros(n_actions) if theta is None else theta @ features(obs)
            return epsilon_greedy(q, epsilon, rng)

        new = collect_transitions(env, behaviour, samples, rng)                          # collect D samples
        data = new if data is None else Transitions(*(np.concatenate(pair) for pair in zip(data, new)))
        theta = fitted_q_iteration(data, features, n_actions, gamma, iterations, ridge=ridge, theta=theta)
        if callback is not None:
            callback(i, theta, data)
    return theta


def online_q_iteration(env, features: Callable, steps: int, *, alpha: float = 0.1, gamma: float = 0.99,
                       epsilon=0.1, theta=None, seed=None, callback: Callable | None = None) -> np.ndarray:
    """Algorithm 4.16: one interaction and one semi-gradient step per iteration, for `steps` iterations.

    Acts ε-greedily in Q(s, ·; θ) (`epsilon`: a number or ``epsilon(k)`` of the episode number k = 1, 2, ...),
    with ties broken at random. Returns θ (|A|, F); `callback(episode, theta)` at the end of every episode.
    It draws its random numbers in the order `minirl.tabular.q_learning` does, so with `OneHot` features and the
    same seed it takes the same actions and θ equals that function's Q table (transposed) step for step."""
    rng = as_generator(seed)
    n_actions = num_actions(env)
    episode, obs = 0, reset(env, rng, 0)
    phi = np.asarray(features(obs), dtype=np.float64)
    theta = np.zeros((n_actions, phi.shape[0])) if theta is None else np.array(theta, dtype=np.float64)
    eps = scheduled(epsilon, 1)
    for _ in range(steps):
        a = epsilon_greedy(theta @ phi, eps, rng)                           # choose a, interact
        obs, reward, terminated, truncated, _ = env.step(a)
        next_phi = np.asarray(features(obs), dtype=np.float64)
        y = reward + (0.0 if terminated else gamma * np.max(theta @ next_phi))  # y ← r + γ max_a' Q(s', a'; θ)
        theta[a] -= alpha * (theta[a] @ phi - y) * phi           # θ ← θ − α(Q(s, a; θ) − y) ∇_θ Q, ∇_θa Q = φ(s)
        phi = next_phi
        if terminated or truncated:
            if callback is not None:
                callback(episode, theta)
            episode += 1
            eps = scheduled(epsilon, episode + 1)
            phi = np.asarray(features(reset(env, rng, episode)), dtype=np.float64)
    return theta
