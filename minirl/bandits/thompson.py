"""Thompson sampling for stochastic bandits (not in the book; Thompson 1933, Russo et al. 2018 "A Tutorial on
Thompson Sampling"), vectorised over ``num_runs`` independent runs. It sits beside ε-greedy and UCB of
book ch. 2.2.1-2.2.2 as a third answer to the exploration-exploitation trade-off.

Keep a posterior over each arm's mean reward µ_a; every round, draw one plausible µ̃_a from each posterior and
pull argmax_a µ̃_a. An arm is pulled exactly as often as it is probably the best one: uncertain arms get tried,
arms known to be poor are left alone, and no ε or c needs tuning. Both posteriors here are conjugate, so an update
is a count:

    Bernoulli rewards, Beta(α_a, β_a) prior     α_a ← α_a + R,  β_a ← β_a + (1 - R)
    Gaussian rewards N(µ_a, σ²) with σ known,    τ_a ← τ_a + 1/σ²
    normal prior N(m_a, 1/τ_a) on µ_a            m_a ← (τ_a^old m_a + R/σ²) / τ_a    (precision-weighted mean)
"""

from __future__ import annotations

import numpy as np

from minirl.bandits.protocol import BanditAgent, check_positive


class ThompsonBernoulli(BanditAgent):
    """Thompson sampling for 0/1 rewards with a Beta(prior_alpha, prior_beta) prior on each arm's success
    probability (the default Beta(1, 1) is uniform)."""

    def __init__(self, k: int, prior_alpha: float = 1.0, prior_beta: float = 1.0, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.alpha = np.full((self.num_runs, self.k), check_positive("prior_alpha", prior_alpha))
        self.beta = np.full((self.num_runs, self.k), check_positive("prior_beta", prior_beta))

    def act(self) -> np.ndarray:
        # continuous samples are never tied, so a plain argmax is fair
        return np.argmax(self.rng.beta(self.alpha, self.beta), axis=1)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        if np.any((rewards != 0) & (rewards != 1)):
            raise ValueError(f"rewards: ThompsonBernoulli expects rewards 0 or 1, got {np.unique(rewards)}")
        self.alpha[self._runs, actions] += rewards  # one more success ...
        self.beta[self._runs, actions] += 1.0 - rewards  # ... or one more failure


class ThompsonGaussian(BanditAgent):
    """Thompson sampling for Gaussian rewards with known standard deviation ``noise_std`` and a
    N(prior_mean, prior_std²) prior on each arm's mean."""

    def __init__(self, k: int, noise_std: float = 1.0, prior_mean: float = 0.0, prior_std: float = 1.0,
                 num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.noise_precision = 1.0 / check_positive("noise_std", noise_std) ** 2  # 1/σ²
        self.posterior_mean = np.full((self.num_runs, self.k), float(prior_mean))
        self.posterior_precision = np.full((self.num_runs, self.k), 1.0 / check_positive("prior_std", prior_std) ** 2)

    def act(self) -> np.ndarray:
        noise = self.rng.standard_normal(self.posterior_mean.shape)
        return np.argmax(self.posterior_mean + noise / np.sqrt(self.posterior_precision), axis=1)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        chosen = (self._runs, actions)
        precision = self.posterior_precision[chosen] + self.noise_precision  # τ ← τ + 1/σ²
        self.posterior_mean[chosen] = (self.posterior_precision[chosen] * self.posterior_mean[chosen]
                                       + self.noise_precision * rewards) / precision  # m ← (τ_old m + R/σ²) / τ
        self.posterior_precision[chosen] = precision
