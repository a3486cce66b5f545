"""The bandit protocol shared by every environment and agent of `minirl.bandits` (book ch. 2.2.2-2.2.3,
Algorithms 2.3 and 2.4).

One round of Algorithm 2.3 (stochastic arms) or Algorithm 2.4 (an adversary's arms):

    the environment fixes a reward vector R_t = (R_{1,t}, ..., R_{K,t})
    the agent chooses an arm A_t (the adversarial section writes I_t)
    the agent observes R_{A_t,t} (partial information) or the whole vector R_t (full information)

`Bandit` is the environment's side and `BanditAgent` the learner's. Both hold ``num_runs`` independent copies of
one problem in arrays with a leading ``num_runs`` axis, so a single array operation plays a round in every copy;
averaging over that axis estimates the expectations of the regret definitions (2.4)-(2.6). Randomness comes from
one `np.random.Generator` per object, given as ``seed`` (an int, None, or a Generator to share one stream); the
global NumPy random state is never used.

The vectorised building blocks of action selection live here too: an argmax that breaks ties at random (a table
that starts at zero has every arm tied, and always taking the first would never explore), sampling one arm per
run from a row of probabilities, and a numerically stable softmax.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import NamedTuple

import numpy as np


def as_generator(seed=None) -> np.random.Generator:
    """A `np.random.Generator` from an int seed, None (fresh entropy) or an existing generator (shared)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------------------------
# Argument checks: a learner's mistake should name what was expected and what came instead.

def check_count(name: str, value) -> int:
    """An integer >= 1 (k, num_runs, dim, steps)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


def check_probability(name: str, value) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


def check_positive(name: str, value) -> float:
    if not value > 0.0:
        raise ValueError(f"{name}: expected a number > 0, got {value!r}")
    return float(value)


def check_shape(name: str, array, shape: tuple) -> np.ndarray:
    """A finite float array of exactly `shape`."""
    array = np.asarray(array, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite values, got {array}")
    return array


def per_run(name: str, values, num_runs: int, shape: tuple) -> np.ndarray:
    """`values` of `shape`, shared by every run, or of ``(num_runs, *shape)``, one per run; returned per run."""
    values = np.asarray(values, dtype=np.float64)
    if values.shape == shape:
        values = np.broadcast_to(values, (num_runs, *shape))
    return check_shape(name, values, (num_runs, *shape)).copy()


def check_actions(actions, k: int, num_runs: int) -> np.ndarray:
    """One arm index in {0, ..., k-1} per run."""
    actions = np.asarray(actions)
    if actions.shape != (num_runs,) or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(f"actions: expected an integer array of shape ({num_runs},), "
                         f"got {actions.dtype} of shape {actions.shape}")
    if np.any((actions < 0) | (actions >= k)):
        raise ValueError(f"actions: expected arms in 0..{k - 1}, got {np.unique(actions)}")
    return actions


# ---------------------------------------------------------------------------------------------------------------
# Vectorised action selection.

def random_argmax(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """argmax over the last axis, one per run, choosing uniformly among tied maxima."""
    ties = values == values.max(axis=-1, keepdims=True)
    return np.argmax(np.where(ties, rng.random(values.shape), -1.0), axis=-1)


def sample_categorical(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One arm per row of ``(num_runs, k)`` probabilities, by inverting each row's cumulative distribution."""
    u = rng.random((probabilities.shape[0], 1))
    # arm i is drawn when cdf_{i-1} <= u < cdf_i, i.e. i = #{j: cdf_j <= u}; the minimum guards against rounding
    arms = (np.cumsum(probabilities, axis=-1) <= u).sum(axis=-1)
    return np.minimum(arms, probabilities.shape[-1] - 1)


def softmax(x: np.ndarray) -> np.ndarray:
    """exp(x_i) / Σ_j exp(x_j) over the last axis; shifting by the maximum changes nothing but avoids overflow."""
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------------------------
# The two sides of a round.

class Outcome(NamedTuple):
    """What one round produced, in every run.

    rewards        (num_runs,)    R_{A_t,t}, the reward of each pulled arm: partial-information feedback
    reward_vector  (num_runs, k)  R_t, every arm's reward this round: full-information feedback (Alg. 2.4)
    means          (num_runs, k)  every arm's expected reward this round: the ground truth that regret is
                                  measured against, never shown to an agent
    """
    rewards: np.ndarray
    reward_vector: np.ndarray
    means: np.ndarray


class Bandit(ABC):
    """``num_runs`` independent copies of a k-armed bandit, played together.

    A subclass says what the arms' expected rewards are this round (``means``), how a reward vector is drawn
    around them (``_draw_rewards``), and what changes between rounds (``_next_round``: drift, a new context,
    the next row of an adversary's table). ``context`` is None unless the bandit is contextual (ch. 2.2.4).
    ``full_information`` says whether the game reveals the whole reward vector (ch. 2.2.3).
    """

    context: np.ndarray | None = None

    def __init__(self, k: int, num_runs: int = 1, seed=None, full_information: bool = False):
        self.k = check_count("k", k)
        self.num_runs = check_count("num_runs", num_runs)
        self.rng = as_generator(seed)
        self.full_information = bool(full_information)
        self._runs = np.arange(self.num_runs)

    @property
    @abstractmethod
    def means(self) -> np.ndarray:
        """``(num_runs, k)``: every arm's expected reward in the coming round."""

    @abstractmethod
    def _draw_rewards(self, means: np.ndarray) -> np.ndarray:
        """``(num_runs, k)``: the reward vector R_t of the coming round."""

    def _next_round(self) -> None:
        """Stationary arms: nothing changes between rounds."""

    def step(self, actions) -> Outcome:
        """Play one round with one arm per run (Alg. 2.3 / 2.4)."""
        actions = check_actions(actions, self.k, self.num_runs)
        means = self.means
        reward_vector = self._draw_rewards(means)
        self._next_round()
        return Outcome(reward_vector[self._runs, actions], reward_vector, means)


class BanditAgent:
    """A learner for ``num_runs`` independent copies of a k-armed bandit.

    Non-contextual agents have ``act() -> actions`` and ``update(actions, rewards)``; contextual ones
    (``contextual = True``) take the round's context as a further argument of both. An agent with
    ``full_information = True`` is updated with the whole reward vector, ``(num_runs, k)``, instead of the
    pulled arms' rewards, ``(num_runs,)``. Actions are integer arrays of shape ``(num_runs,)``.
    """

    contextual = False
    full_information = False

    def __init__(self, k: int, num_runs: int = 1, seed=None):
        self.k = check_count("k", k)
        self.num_runs = check_count("num_runs", num_runs)
        self.rng = as_generator(seed)
        self._runs = np.arange(self.num_runs)

    def _check_feedback(self, actions, rewards) -> tuple[np.ndarray, np.ndarray]:
        reward_shape = (self.num_runs, self.k) if self.full_information else (self.num_runs,)
        return check_actions(actions, self.k, self.num_runs), check_shape("rewards", rewards, reward_shape)
