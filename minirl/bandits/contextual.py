"""Contextual bandits, also called associative search (book ch. 2.2.4), vectorised over ``num_runs`` runs.

Before each round the agent sees a context x_t, and the arms' expected rewards depend on it. The book's example:
every machine shows an LED colour, and machines showing red pay more than machines showing blue. A context-blind
learner can only find the arm that is best on average; a contextual one learns a policy, context -> arm, while its
actions still affect nothing but the immediate reward (a full RL problem would let them change the next context).
The book gives no algorithm; two standard ones:

- `ContextualEpsilonGreedy`: one ε-greedy learner (book 2.2.1) per context, for a finite set of contexts.
- `LinUCB` (Li, Chu, Langford & Schapire 2010, "disjoint" model): each arm's mean is linear in the context,
  E[R | x, a] = θ_aᵀx. Each arm keeps a ridge-regression estimate and acts on an upper confidence bound, the
  linear analogue of UCB (2.7):

      A_a = I + Σ x xᵀ,   b_a = Σ R x      over the rounds in which a was pulled
      θ̂_a = A_a⁻¹ b_a
      A_t = argmax_a [θ̂_aᵀx_t + α sqrt(x_tᵀ A_a⁻¹ x_t)]

  sqrt(xᵀA_a⁻¹x) bounds the standard deviation of θ̂_aᵀx (in units of the noise): large for contexts unlike
  those seen so far, small for familiar ones.

Environments: `LinearContextualBandit` draws x ~ N(0, I) and pays θ_aᵀx + noise; `DiscreteContextualBandit` is
the LED example, a colour out of ``num_contexts`` shown as its one-hot code, so θ_aᵀx picks the value of arm a
under that colour. Contexts are always arrays ``(num_runs, dim)``; a discrete context is its one-hot code.
"""

from __future__ import annotations

import numpy as np

from minirl.bandits.agents import check_step_size, epsilon_greedy, incremental_update
from minirl.bandits.protocol import (Bandit, BanditAgent, check_count, check_positive, check_probability,
                                     check_shape, per_run, random_argmax)


class LinearContextualBandit(Bandit):
    """Contexts x ~ N(0, I_dim), rewards R = θ_aᵀx + N(0, noise_std²), with θ_a ~ N(0, I) per arm and run.

    ``theta``: the true weights, ``(k, dim)`` for all runs or ``(num_runs, k, dim)``, instead of drawing them.
    """

    def __init__(self, k: int = 10, dim: int = 5, num_runs: int = 1, seed=None, noise_std: float = 1.0,
                 theta=None, full_information: bool = False):
        super().__init__(k, num_runs, seed, full_information)
        self.dim = check_count("dim", dim)
        self.noise_std = check_positive("noise_std", noise_std)
        if theta is None:
            theta = self.rng.standard_normal((self.num_runs, self.k, self.dim))
        self.theta = per_run("theta", theta, self.num_runs, (self.k, self.dim))
        self.context = self._draw_context()

    def _draw_context(self) -> np.ndarray:
        return self.rng.standard_normal((self.num_runs, self.dim))

    @property
    def means(self) -> np.ndarray:
        return np.einsum("rkd,rd->rk", self.theta, self.context)  # θ_aᵀx_t

    def _draw_rewards(self, means):
        return means + self.noise_std * self.rng.standard_normal(means.shape)

    def _next_round(self):
        self.context = self._draw_context()


class DiscreteContextualBandit(LinearContextualBandit):
    """The LED example: each round shows one of ``num_contexts`` colours, uniformly, as its one-hot code; the value
    of arm a under colour c is θ_{a,c} ~ N(0, 1), and rewards are N(θ_{a,c}, noise_std²)."""

    def __init__(self, k: int = 10, num_contexts: int = 4, num_runs: int = 1, seed=None, noise_std: float = 1.0,
                 theta=None, full_information: bool = False):
        super().__init__(k, num_contexts, num_runs, seed, noise_std, theta, full_information)

    def _draw_context(self) -> np.ndarray:
        return np.eye(self.dim)[self.rng.integers(self.dim, size=self.num_runs)]


def check_context(context, num_runs: int, dim: int) -> np.ndarray:
    if context is None:
        raise ValueError(f"context: expected an array of shape ({num_runs}, {dim}), got None "
                         "(is the bandit contextual?)")
    return check_shape("context", context, (num_runs, dim))


class ContextualEpsilonGreedy(BanditAgent):
    """One ε-greedy action-value learner per context (a table Q(c, a)); contexts are one-hot codes
    ``(num_runs, num_contexts)``, as `DiscreteContextualBandit` shows them."""

    contextual = True

    def __init__(self, k: int, num_contexts: int, epsilon: float, step_size: float | None = None,
                 initial_value: float = 0.0, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.num_contexts = check_count("num_contexts", num_contexts)
        self.epsilon = check_probability("epsilon", epsilon)
        self.step_size = check_step_size(step_size)
        self.Q = np.full((self.num_runs, self.num_contexts, self.k), float(initial_value))
        self.N = np.zeros((self.num_runs, self.num_contexts, self.k), dtype=np.int64)

    def _colour(self, context) -> np.ndarray:
        """The index c of each run's one-hot context."""
        context = check_context(context, self.num_runs, self.num_contexts)
        if np.any((context != 0) & (context != 1)) or np.any(context.sum(axis=1) != 1):
            raise ValueError("context: expected one-hot rows (one 1, zeros elsewhere)")
        return context.argmax(axis=1)

    def act(self, context) -> np.ndarray:
        return epsilon_greedy(self.Q[self._runs, self._colour(context)], self.epsilon, self.rng)

    def update(self, actions, rewards, context) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        incremental_update(self.Q, self.N, (self._runs, self._colour(context), actions), rewards, self.step_size)


class LinUCB(BanditAgent):
    """LinUCB with disjoint linear models: ridge regression per arm and the bonus α sqrt(xᵀA_a⁻¹x)."""

    contextual = True

    def __init__(self, k: int, dim: int, alpha: float = 1.0, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.dim = check_count("dim", dim)
        if not alpha >= 0.0:
            raise ValueError(f"alpha: expected a number >= 0, got {alpha!r}")
        self.alpha = float(alpha)
        # A_a⁻¹ rather than A_a: each round changes A_a by a rank-one term, so its inverse is updated in O(dim²)
        self.A_inv = np.broadcast_to(np.eye(self.dim), (self.num_runs, self.k, self.dim, self.dim)).copy()
        self.b = np.zeros((self.num_runs, self.k, self.dim))

    @property
    def theta(self) -> np.ndarray:
        """θ̂_a = A_a⁻¹ b_a, ``(num_runs, k, dim)``."""
        return np.einsum("rkde,rke->rkd", self.A_inv, self.b)

    def upper_bounds(self, context) -> np.ndarray:
        """θ̂_aᵀx + α sqrt(xᵀA_a⁻¹x) for every arm, ``(num_runs, k)``."""
        x = check_context(context, self.num_runs, self.dim)
        variance = np.einsum("rd,rkde,re->rk", x, self.A_inv, x)  # xᵀA_a⁻¹x
        return np.einsum("rkd,rd->rk", self.theta, x) + self.alpha * np.sqrt(variance)

    def act(self, context) -> np.ndarray:
        return random_argmax(self.upper_bounds(context), self.rng)

    def update(self, actions, rewards, context) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        x = check_context(context, self.num_runs, self.dim)
        chosen = (self._runs, actions)
        A_inv_x = np.einsum("rde,re->rd", self.A_inv[chosen], x)
        # Sherman-Morrison: (A + xxᵀ)⁻¹ = A⁻¹ - A⁻¹x xᵀA⁻¹ / (1 + xᵀA⁻¹x)   (A⁻¹ is symmetric)
        denominator = 1.0 + np.einsum("rd,rd->r", A_inv_x, x)
        self.A_inv[chosen] -= np.einsum("rd,re->rde", A_inv_x, A_inv_x) / denominator[:, None, None]
        self.b[chosen] += rewards[:, None] * x  # b_a ← b_a + R x
