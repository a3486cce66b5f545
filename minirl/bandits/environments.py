"""Stochastic k-armed bandits (book ch. 2.2.1-2.2.2, Algorithm 2.3), vectorised over ``num_runs`` copies.

Each arm a has a fixed reward distribution with mean q(a) = E[R_t | A_t = a] (the book's action value); the
agent does not know it and must learn it by pulling arms. Every run draws its own arms, so averaging a learner's
curve over runs averages over bandit problems as well as over rewards, as in the 10-armed testbed of Sutton &
Barto (2018, §2.3).

- `GaussianBandit`: the 10-armed testbed, q*(a) ~ N(q_star_mean, 1) per run, rewards R ~ N(q*(a), noise_std²).
- `BernoulliBandit`: arm a pays 1 with probability p_a and 0 otherwise, the setting of Algorithm 2.3
  (rewards in [0, 1]).
- `NonStationaryBandit`: the testbed with drifting values, q*(a) <- q*(a) + N(0, walk_std²) after every round
  (Sutton & Barto, exercise 2.5). The book offers UCB (2.7) for reward distributions that stay fixed; these do not,
  and old rewards mislead a sample average.
"""

from __future__ import annotations

import numpy as np

from minirl.bandits.protocol import Bandit, check_count, check_positive, per_run


class GaussianBandit(Bandit):
    """The k-armed testbed: q*(a) ~ N(q_star_mean, 1) drawn once per run, rewards R ~ N(q*(a), noise_std²).

    ``q_star``: the true values, ``(k,)`` for all runs or ``(num_runs, k)``, instead of drawing them.
    """

    def __init__(self, k: int = 10, num_runs: int = 1, seed=None, q_star_mean: float = 0.0,
                 noise_std: float = 1.0, q_star=None, full_information: bool = False):
        super().__init__(k, num_runs, seed, full_information)
        self.noise_std = check_positive("noise_std", noise_std)
        if q_star is None:
            q_star = self.rng.normal(q_star_mean, 1.0, size=(self.num_runs, self.k))
        self.q_star = per_run("q_star", q_star, self.num_runs, (self.k,))

    @property
    def means(self) -> np.ndarray:
        return self.q_star

    def _draw_rewards(self, means):
        return means + self.noise_std * self.rng.standard_normal(means.shape)


class BernoulliBandit(Bandit):
    """Arms that pay 1 with probability p_a, else 0.

    ``probs``: the success probabilities, ``(k,)`` for all runs or ``(num_runs, k)``; or an integer k, and each
    run draws its own p_a ~ U(0, 1).
    """

    def __init__(self, probs, num_runs: int = 1, seed=None, full_information: bool = False):
        if np.ndim(probs) == 0:
            super().__init__(check_count("probs (the number of arms)", probs), num_runs, seed, full_information)
            probs = self.rng.random((self.num_runs, self.k))
        else:
            super().__init__(np.shape(probs)[-1], num_runs, seed, full_information)
        self.probs = per_run("probs", probs, self.num_runs, (self.k,))
        if np.any((self.probs < 0) | (self.probs > 1)):
            raise ValueError(f"probs: expected probabilities in [0, 1], got {probs}")

    @property
    def means(self) -> np.ndarray:
        return self.probs

    def _draw_rewards(self, means):
        return (self.rng.random(means.shape) < means).astype(np.float64)


class NonStationaryBandit(GaussianBandit):
    """The testbed with values that random-walk: every round, q*(a) <- q*(a) + N(0, walk_std²), independently
    per arm and run. All values start equal (at 0) unless ``q_star`` is given."""

    def __init__(self, k: int = 10, num_runs: int = 1, seed=None, walk_std: float = 0.01,
                 noise_std: float = 1.0, q_star=None, full_information: bool = False):
        if q_star is None:
            q_star = np.zeros(check_count("k", k))
        super().__init__(k, num_runs, seed, noise_std=noise_std, q_star=q_star, full_information=full_information)
        self.walk_std = check_positive("walk_std", walk_std)

    def _next_round(self):
        # a new array, not an in-place update: the `means` handed out with the last round must stay as they were
        self.q_star = self.q_star + self.walk_std * self.rng.standard_normal(self.q_star.shape)
