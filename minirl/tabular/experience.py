"""How a model-free tabular learner meets an environment (book ch. 2.1, 2.2.1, 2.5, 2.6).

Everything the files `mc.py`, `td.py`, `control.py`, `planning.py` and `approximation.py` share, written once:

- `StateIndex` turns an observation into the row of a value table: a `Discrete` observation is its own
  index; a tuple of discrete parts (Blackjack's ``(player sum, dealer card, usable ace)``) is flattened
  row-major, so ``V.reshape(index.shape)`` gives the table back in the observation's own axes.
- ε-greedy action selection (book 2.2.1) with ties broken at random: a table that starts at zero has every
  action tied, and always taking the first one would never explore.
- `generate_episode` follows a policy for one episode (the "generate an episode S0, A0, R1, ..." line of
  Algorithms 2.8 and 2.9).
- Policies are ``(S, A)`` probability arrays, as in `minirl.tabular.mdp`, or any callable
  ``policy(obs, rng) -> action`` (handy for Blackjack's "stick on 20 or 21").
- Randomness: every function takes ``seed`` (an int, None, or a `np.random.Generator` to share one stream
  across calls) and draws everything from it, the environment's reset seed included. No global state.
- Step sizes α and exploration rates ε are numbers, or callables: ``alpha(n)`` of the visit count ``n`` of
  the entry being updated (Robbins-Monro, Theorem 2.1: ``alpha=lambda n: 1 / n``), ``epsilon(k)`` of the
  episode number ``k = 1, 2, ...`` (GLIE, Lemma 2.1: ``epsilon=lambda k: 1 / k``). Where one update moves
  many entries at once (TD(λ)'s traces, the linear methods, Dyna-Q's planning) α is a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from minirl.errors import IncompatibleEnvironmentError
from minirl.tabular.mdp import greedy_policy_from


def as_generator(seed=None) -> np.random.Generator:
    """A `np.random.Generator` from an int seed, None (fresh entropy) or an existing generator (shared)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def reset(env, rng: np.random.Generator, episode: int, options: dict | None = None):
    """Start an episode: the first one reseeds the environment from `rng`, later ones continue its stream."""
    seed = int(rng.integers(2**31 - 1)) if episode == 0 else None
    obs, _ = env.reset(seed=seed, options=options)
    return obs


class StateIndex:
    """Observation -> row of a table, for `Discrete` spaces and tuples of them.

    ``index.n`` is the number of rows, ``index.shape`` the observation's own axes (``(n,)`` for a
    `Discrete` space, ``(32, 11, 2)`` for Blackjack) and ``index(obs)`` the row.
    """

    def __init__(self, space):
        parts = getattr(space, "spaces", None)
        if parts is None:
            parts = (space,)
        elif isinstance(parts, dict):
            raise IncompatibleEnvironmentError(
                f"tabular methods need a Discrete observation space (or a tuple of them), got {space!r}")
        for part in parts:
            if not hasattr(part, "n"):
                raise IncompatibleEnvironmentError(
                    f"tabular methods need a Discrete observation space (or a tuple of them), got {space!r}; "
                    "use minirl.tabular.approximation for continuous states")
        self.tuple = getattr(space, "spaces", None) is not None
        self.starts = tuple(int(getattr(p, "start", 0)) for p in parts)
        self.shape = tuple(int(p.n) for p in parts)
        self.n = int(np.prod(self.shape))
        self.strides = tuple(int(np.prod(self.shape[i + 1:])) for i in range(len(self.shape)))  # row-major

    def __call__(self, obs) -> int:
        if not self.tuple:
            return int(obs) - self.starts[0]
        return sum((int(o) - start) * stride for o, start, stride in zip(obs, self.starts, self.strides))


def num_actions(env) -> int:
    n = getattr(env.action_space, "n", None)
    if n is None:
        raise IncompatibleEnvironmentError(f"tabular control needs a Discrete action space, got {env.action_space!r}")
    return int(n)


def scheduled(x, n: int) -> float:
    """A number, or a schedule called with `n` (a visit count or an episode number)."""
    return float(x(n)) if callable(x) else float(x)


def greedy_action(q: np.ndarray, rng: np.random.Generator) -> int:
    """argmax_a q(a) (2.52), ties broken uniformly at random."""
    best = np.flatnonzero(q == q.max())
    return int(best[0]) if best.size == 1 else int(best[rng.integers(best.size)])


def epsilon_greedy(q: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """With probability ε a uniformly random action, otherwise a greedy one (book 2.2.1)."""
    if rng.random() < epsilon:
        return int(rng.integers(q.shape[0]))
    return greedy_action(q, rng)


def epsilon_greedy_policy(Q: np.ndarray, epsilon: float) -> np.ndarray:
    """The (S, A) ε-greedy policy of a Q table: ε/|A| on every action, 1 - ε shared by the greedy ones."""
    return epsilon / Q.shape[1] + (1.0 - epsilon) * greedy_policy_from(Q, ties="split")


def as_policy(policy, index: StateIndex) -> Callable:
    """A callable ``(obs, rng) -> action`` from an (S, A) probability array or a callable."""
    if callable(policy):
        return policy
    table = np.asarray(policy, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] != index.n:
        raise ValueError(f"policy: expected an ({index.n}, A) probability array, got shape {table.shape}")
    cumulative = np.cumsum(table, axis=1)

    def sample(obs, rng):
        row = cumulative[index(obs)]
        return int(min(np.searchsorted(row, rng.random() * row[-1], side="right"), row.shape[0] - 1))

    return sample


@dataclass
class Episode:
    """One episode: ``states[t]``, ``actions[t]`` and ``rewards[t]`` = R_{t+1}; ``states`` has one entry more
    (the state the episode stopped in); ``terminated`` says whether that state is terminal (value 0) or
    the episode was truncated (its value should be bootstrapped)."""

    states: list
    actions: list
    rewards: list
    terminated: bool

    def __len__(self) -> int:
        return len(self.rewards)


def generate_episode(env, policy: Callable, rng: np.random.Generator, index: StateIndex, episode: int,
                     first_action: int | None = None, options: dict | None = None) -> Episode:
    """Follow `policy` from a reset until the episode ends; `first_action` forces A_0 and `options` go to
    ``env.reset`` (exploring starts)."""
    obs = reset(env, rng, episode, options)
    states, actions, rewards = [index(obs)], [], []
    while True:
        action = first_action if first_action is not None and not actions else policy(obs, rng)
        obs, reward, terminated, truncated, _ = env.step(action)
        actions.append(int(action))
        rewards.append(float(reward))
        states.append(index(obs))
        if terminated or truncated:
            return Episode(states, actions, rewards, bool(terminated))


@dataclass
class ControlResult:
    """What a control run returns: the Q table and, per episode, the undiscounted return and the length."""

    Q: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray

    @property
    def V(self) -> np.ndarray:
        """V(s) = max_a Q(s, a)."""
        return self.Q.max(axis=1)

    @property
    def policy(self) -> np.ndarray:
        """The greedy (S, A) policy of Q (one-hot; ties go to the lowest action)."""
        return greedy_policy_from(self.Q)
