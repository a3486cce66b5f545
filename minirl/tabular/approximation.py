"""Linear value-function approximation: features and gradient MC / semi-gradient TD(0) / TD(λ)
(book ch. 2.7.2, eqs. 2.85-2.94; ch. 2.6.1, eqs. 2.61-2.63, Algorithm 2.11).

A linear approximator writes v(s, w) = wᵀφ(s), so ∇_w v(s, w) = φ(s) and every update below is
"w <- w + α (target - wᵀφ(S_t)) φ(S_t)" (2.61, 2.87) with a different target:

    gradient MC               G_t                              (2.89)
    semi-gradient TD(0)       R_{t+1} + γ wᵀφ(S_{t+1})          (2.91)  "semi": the target's own gradient is ignored
    semi-gradient TD(λ)       the λ-return G^λ_t (2.93), computed online by the eligibility trace
                              z_t = γλ z_{t-1} + φ(S_t) (2.63) and w <- w + α δ_t z_t (Alg. 2.11)

(2.89)-(2.94) print Δw = α(V - target)∇V; the step that lowers the squared error (2.85) is α(target - V)∇V,
as in (2.61).

Features (all map a state to a vector of length ``num_features``; continuous states are first scaled to
[0, 1] per dimension with ``low`` and ``high``):

- `OneHot`: one feature per state; linear approximation is then exactly the tabular method.
- `StateAggregation`: one feature per group of neighbouring states (coarse coding's simplest form).
- `Polynomial`: φ_i(s) = Π_j s_j^{c_ij}, every c_ij in {0, ..., N}: (N + 1)^d features.
- `Fourier`: φ_i(s) = cos(π c_i · s), every c_ij in {0, ..., N} (in one dimension cos(iπs), i = 0..N).
- `TileCoding`: several tilings of the box, each offset by a fraction of a tile; one active tile per tiling.
- `RBF`: φ_i(s) = exp(-‖s - c_i‖² / (2σ²)) around centres c_i on a grid.
"""

from __future__ import annotations

import itertools
from typing import Callable

import numpy as np

from minirl.tabular.experience import StateIndex, as_generator, as_policy, generate_episode, reset


class Features:
    """Base class: ``features(state) -> np.ndarray`` of shape (num_features,)."""

    num_features: int

    def __init__(self, low, high):
        self.low = np.atleast_1d(np.asarray(low, dtype=np.float64))
        self.high = np.atleast_1d(np.asarray(high, dtype=np.float64))
        if self.low.shape != self.high.shape or np.any(self.high <= self.low):
            raise ValueError(f"{type(self).__name__}: need low < high of one shape, got {low!r} and {high!r}")
        self.dims = self.low.shape[0]

    def scale(self, state) -> np.ndarray:
        """The state in [0, 1]^d (clipped)."""
        s = np.atleast_1d(np.asarray(state, dtype=np.float64))
        if s.shape != self.low.shape:
            raise ValueError(f"{type(self).__name__}: expected a state of shape {self.low.shape}, got {s.shape}")
        return np.clip((s - self.low) / (self.high - self.low), 0.0, 1.0)

    def __call__(self, state) -> np.ndarray:
        raise NotImplementedError

    def matrix(self, states) -> np.ndarray:
        """Φ, one row φ(s) per state."""
        return np.stack([self(s) for s in states])


class OneHot(Features):
    """φ(s) = e_s for integer states 0..n-1 (the tabular case)."""

    def __init__(self, n: int):
        self.n = self.num_features = int(n)

    def __call__(self, state) -> np.ndarray:
        phi = np.zeros(self.n)
        phi[int(state)] = 1.0
        return phi


class StateAggregation(Features):
    """States ``low..high`` (integers) in `groups` equal groups; φ is the one-hot of the group."""

    def __init__(self, groups: int, low, high):
        super().__init__(low, high)
        self.num_features = int(groups)

    def __call__(self, state) -> np.ndarray:
        phi = np.zeros(self.num_features)
        phi[min(int(self.scale(state)[0] * self.num_features), self.num_features - 1)] = 1.0
        return phi


def _exponents(order: int, dims: int) -> np.ndarray:
    """Every vector c in {0, ..., order}^dims, one per row: (order + 1)^dims rows."""
    return np.array(list(itertools.product(range(order + 1), repeat=dims)), dtype=np.float64)


class Polynomial(Features):
    """Polynomial basis of order N: φ_i(s) = Π_j s_j^{c_ij}, c_ij in {0..N} (on s scaled to [0, 1]^d)."""

    def __init__(self, order: int, low, high):
        super().__init__(low, high)
        self.exponents = _exponents(order, self.dims)
        self.num_features = self.exponents.shape[0]

    def __call__(self, state) -> np.ndarray:
        return np.prod(self.scale(state) ** self.exponents, axis=1)


class Fourier(Features):
    """Fourier cosine basis of order N: φ_i(s) = cos(π c_i · s), c_ij in {0..N}."""

    def __init__(self, order: int, low, high):
        super().__init__(low, high)
        self.frequencies = _exponents(order, self.dims)
        self.num_features = self.frequencies.shape[0]

    def __call__(self, state) -> np.ndarray:
        return np.cos(np.pi * self.frequencies @ self.scale(state))


class TileCoding(Features):
    """`num_tilings` grids of `tiles` × ... × `tiles` tiles over the box, grid k shifted by k/num_tilings of a
    tile times the displacement (1, 3, 5, ...) (Sutton & Barto 2018, §9.5.4, asymmetric offsets).

    Each grid has one extra tile per dimension so that the shifted grids still cover the box; exactly
    `num_tilings` features are 1. A step size of about α/num_tilings keeps updates the size of α.
    """

    def __init__(self, num_tilings: int, tiles: int, low, high):
        super().__init__(low, high)
        self.num_tilings, self.tiles = int(num_tilings), int(tiles)
        displacement = 2 * np.arange(self.dims) + 1
        self.offsets = (np.arange(self.num_tilings)[:, None] * displacement / self.num_tilings) % 1.0
        self.tiles_per_tiling = (self.tiles + 1) ** self.dims
        self.num_features = self.num_tilings * self.tiles_per_tiling

    def active(self, state) -> np.ndarray:
        """The indices of the `num_tilings` active tiles."""
        coords = np.floor(self.scale(state) * self.tiles + self.offsets).astype(np.int64)  # (tilings, d)
        coords = np.minimum(coords, self.tiles)
        flat = np.ravel_multi_index(coords.T, (self.tiles + 1,) * self.dims)
        return np.arange(self.num_tilings) * self.tiles_per_tiling + flat

    def __call__(self, state) -> np.ndarray:
        phi = np.zeros(self.num_features)
        phi[self.active(state)] = 1.0
        return phi


class RBF(Features):
    """Gaussian radial basis functions φ_i(s) = exp(-‖s - c_i‖² / (2σ²)) with centres on a grid of
    `centers` points per dimension over [0, 1]^d (s scaled); σ defaults to the grid spacing."""

    def __init__(self, centers: int, low, high, sigma: float | None = None):
        super().__init__(low, high)
        grid = np.linspace(0.0, 1.0, int(centers))
        self.centers = np.array(list(itertools.product(grid, repeat=self.dims)))
        self.sigma = float(sigma) if sigma is not None else 1.0 / max(int(centers) - 1, 1)
        self.num_features = self.centers.shape[0]

    def __call__(self, state) -> np.ndarray:
        d2 = np.sum((self.scale(state) - self.centers) ** 2, axis=1)
        return np.exp(-d2 / (2.0 * self.sigma**2))


def linear_value(w: np.ndarray, features: Callable, states) -> np.ndarray:
    """v(s, w) = wᵀφ(s) for each state."""
    return np.array([w @ features(s) for s in states])


def _setup(env, policy, features, w0, seed):
    rng = as_generator(seed)
    if not callable(policy):
        policy = as_policy(policy, StateIndex(env.observation_space))
    w = np.zeros(features.num_features) if w0 is None else np.array(w0, dtype=np.float64)
    return rng, policy, w


def gradient_mc_prediction(env, policy, features: Callable, episodes: int, *, alpha: float = 0.01,
                           gamma: float = 1.0, w0=None, seed=None, callback: Callable | None = None) -> np.ndarray:
    """Gradient Monte Carlo (2.89): after each episode, for t = T-1..0, w += α(G_t - wᵀφ(S_t))φ(S_t).
    Returns w. With `OneHot` features it is every-visit constant-α MC."""
    rng, act, w = _setup(env, policy, features, w0, seed)
    for episode in range(episodes):
        ep = generate_episode(env, act, rng, lambda obs: obs, episode)  # raw states, for the features
        G = 0.0
        for t in range(len(ep) - 1, -1, -1):
            G = gamma * G + ep.rewards[t]
            phi = features(ep.states[t])
            w += alpha * (G - w @ phi) * phi  # (2.89), ∇v = φ
        if callback is not None:
            callback(episode, w)
    return w


def semi_gradient_td0(env, policy, features: Callable, episodes: int, *, alpha: float = 0.01,
                      gamma: float = 1.0, w0=None, seed=None, callback: Callable | None = None) -> np.ndarray:
    """Semi-gradient TD(0) (2.91): w += α(R_{t+1} + γwᵀφ(S_{t+1}) - wᵀφ(S_t))φ(S_t). Returns w."""
    rng, act, w = _setup(env, policy, features, w0, seed)
    for episode in range(episodes):
        obs = reset(env, rng, episode)
        phi = features(obs)
        while True:
            obs, reward, terminated, truncated, _ = env.step(act(obs, rng))
            phi_next = features(obs)
            target = reward + (0.0 if terminated else gamma * (w @ phi_next))
            w += alpha * (target - w @ phi) * phi  # (2.91)
            if terminated or truncated:
                break
            phi = phi_next
        if callback is not None:
            callback(episode, w)
    return w


def semi_gradient_td_lambda(env, policy, features: Callable, episodes: int, lam: float, *,
                            alpha: float = 0.01, gamma: float = 1.0, w0=None, seed=None,
                            callback: Callable | None = None) -> np.ndarray:
    """Semi-gradient TD(λ) with an accumulating trace (Alg. 2.11). Returns w."""
    rng, act, w = _setup(env, policy, features, w0, seed)
    for episode in range(episodes):
        obs = reset(env, rng, episode)
        phi = features(obs)
        z = np.zeros_like(w)  # z_{-1} = 0  (2.62)
        while True:
            obs, reward, terminated, truncated, _ = env.step(act(obs, rng))
            phi_next = features(obs)
            z = gamma * lam * z + phi  # z <- γλz + ∇V(S_t, w)  (2.63)
            delta = reward + (0.0 if terminated else gamma * (w @ phi_next)) - w @ phi  # δ_t  (2.67)
            w += alpha * delta * z  # w <- w + αδz
            if terminated or truncated:
                break
            phi = phi_next
        if callback is not None:
            callback(episode, w)
    return w
