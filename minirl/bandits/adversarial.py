"""Adversarial bandits: Hedge and Exp3 (book ch. 2.2.3, Algorithms 2.4 and 2.5; Exp3 from Auer et al. 1995,
"Gambling in a rigged casino", in its journal form Auer, Cesa-Bianchi, Freund & Schapire 2002).

No distribution stands behind the rewards: an adversary picks every round's reward vector R_t ∈ [0, 1]^K
(Algorithm 2.4). `AdversarialBandit` is an oblivious adversary, one that fixed the whole (T, K) table before play
began. Against any deterministic player the adversary can make the regret at least n/2, so the player must
randomise; regret is measured against the best single arm in hindsight, max_j Σ_t R_{j,t}.

Hedge (Algorithm 2.5), for the full-information game, where every arm's reward is revealed each round:

    G_i(0) = 0
    p_i(t) = exp(η G_i(t-1)) / Σ_j exp(η G_j(t-1))          draw I_t ~ p(t)
    G_i(t) = G_i(t-1) + g_i^t   for every arm i

Erratum: Algorithm 2.5 prints "G_i(t) = G(t-1) + g_i^t" without the index i on G(t-1) (BOOK_MAP §5.1.4).
Hoeffding's lemma bounds Hedge's expected regret by ln K / η + η T / 8 for every reward table; η = sqrt(8 ln K / T)
makes that sqrt(T ln K / 2).

Exp3, for the partial-information game, where only the pulled arm's reward g_{I_t}^t is seen:

    p_i(t) = (1 - γ) exp(η Ĝ_i(t-1)) / Σ_j exp(η Ĝ_j(t-1)) + γ / K     Hedge mixed with the uniform distribution
    ĝ_i^t  = g_i^t / p_i(t) if i = I_t, else 0                          importance weighting: E[ĝ_i^t] = g_i^t
    Ĝ_i(t) = Ĝ_i(t-1) + ĝ_i^t

The γ/K floor keeps every arm tried and every 1/p_i(t) at most K/γ. Auer et al. take η = γ/K; with
γ = min(1, sqrt(K ln K / ((e - 1) g))) for any g >= max_j Σ_t R_{j,t}, the expected regret is at most
2 sqrt(e - 1) sqrt(g K ln K) (Corollary 3.2).
"""

from __future__ import annotations

import numpy as np

from minirl.bandits.protocol import Bandit, BanditAgent, check_positive, sample_categorical, softmax


class AdversarialBandit(Bandit):
    """An oblivious adversary: a fixed ``(T, k)`` table of rewards in [0, 1], row t played in round t of every run.

    full_information: whether the whole row is revealed (Hedge's game) or only the pulled arm's entry (Exp3's).
    The table is the expected reward too (nothing is random), so regret and pseudo-regret coincide.
    """

    def __init__(self, rewards, num_runs: int = 1, full_information: bool = False):
        table = np.asarray(rewards, dtype=np.float64)
        if table.ndim != 2 or 0 in table.shape:
            raise ValueError(f"rewards: expected a (T, k) table, got shape {table.shape}")
        if not np.all((table >= 0.0) & (table <= 1.0)):
            raise ValueError("rewards: expected every reward in [0, 1] (Algorithm 2.4)")
        super().__init__(table.shape[1], num_runs, None, full_information)
        self.table = table
        self.t = 0

    @property
    def means(self) -> np.ndarray:
        if self.t == len(self.table):
            raise IndexError(f"AdversarialBandit: all {len(self.table)} rounds of the reward table were played")
        return np.broadcast_to(self.table[self.t], (self.num_runs, self.k))

    def _draw_rewards(self, means):
        return means

    def _next_round(self):
        self.t += 1


class Hedge(BanditAgent):
    """Hedge, exponential weights on cumulative gains (Algorithm 2.5). Full information: ``update`` takes the whole
    reward vector, ``(num_runs, k)``; the pulled arms do not matter to it."""

    full_information = True

    def __init__(self, k: int, eta: float, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.eta = check_positive("eta", eta)
        self.G = np.zeros((self.num_runs, self.k))  # G_i(0) = 0

    def probabilities(self) -> np.ndarray:
        """p(t), ``(num_runs, k)``: p_i(t) = exp(η G_i(t-1)) / Σ_j exp(η G_j(t-1))."""
        return softmax(self.eta * self.G)

    def act(self) -> np.ndarray:
        return sample_categorical(self.probabilities(), self.rng)

    def update(self, actions, rewards) -> None:
        _, gains = self._check_feedback(actions, rewards)
        self.G += gains  # G_i(t) = G_i(t-1) + g_i^t, ∀i


def importance_weighted_gains(actions: np.ndarray, rewards: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """ĝ^t, ``(num_runs, k)``: g/p(t) at each pulled arm, 0 elsewhere. Unbiased, as the pulled arm is drawn from p:
    E[ĝ_i] = p_i (g_i / p_i) + (1 - p_i) 0 = g_i."""
    runs = np.arange(len(actions))
    gains = np.zeros_like(probabilities)
    gains[runs, actions] = rewards / probabilities[runs, actions]
    return gains


class Exp3(BanditAgent):
    """Exp3: Hedge on importance-weighted gain estimates, mixed with uniform exploration γ (partial information).

    eta: the learning rate of the exponential weights; Auer et al.'s γ/k when None.
    """

    def __init__(self, k: int, gamma: float, eta: float | None = None, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma: expected a number in (0, 1], got {gamma!r}")
        self.gamma = float(gamma)
        self.eta = self.gamma / self.k if eta is None else check_positive("eta", eta)
        self.G = np.zeros((self.num_runs, self.k))  # Ĝ_i(0) = 0, the estimated cumulative gains

    def probabilities(self) -> np.ndarray:
        """p(t), ``(num_runs, k)``: (1 - γ) softmax(η Ĝ(t-1)) + γ/k."""
        return (1.0 - self.gamma) * softmax(self.eta * self.G) + self.gamma / self.k

    def act(self) -> np.ndarray:
        return sample_categorical(self.probabilities(), self.rng)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        self.G += importance_weighted_gains(actions, rewards, self.probabilities())  # Ĝ_i(t) = Ĝ_i(t-1) + ĝ_i^t
