"""Action-value and preference methods for stochastic bandits (book ch. 2.2.1-2.2.2, eqs. 2.3 and 2.7),
vectorised over ``num_runs`` independent runs.

Action-value methods keep an estimate Q_t(a) of q(a) = E[R_t | A_t = a] for every arm and act on it:

    sample average      Q_t(a) = Σ_{i<t} R_i 1[A_i = a] / Σ_{i<t} 1[A_i = a], kept incrementally as
                        Q_{n+1} = Q_n + (1/n)(R_n - Q_n)                                     (book 2.2.1)
    constant step size  Q_{n+1} = Q_n + α(R_n - Q_n) = (1-α)^n Q_1 + Σ_i α(1-α)^{n-i} R_i: a recency-weighted
                        average, which keeps tracking arms that drift       (Sutton & Barto 2018, eq. 2.6)
    greedy              A_t = argmax_a Q_t(a)                                                (2.3)
    ε-greedy            a uniformly random arm with probability ε, else greedy               (book 2.2.1)
    UCB                 A_t = argmax_a [Q_t(a) + c sqrt(ln t / N_t(a))], untried arms first  (2.7)

An optimistic initial value Q_1(a) (e.g. 5 on the testbed, whose values are about N(0, 1)) makes even a greedy
learner try every arm: each reward disappoints, so the next arm looks better (Sutton & Barto §2.6). With sample
averages the first reward replaces Q_1 entirely, so optimism needs a constant step size.

The gradient bandit (not in the book beyond its glossary; Sutton & Barto §2.8) learns preferences H_t(a) instead,
acts with π_t(a) = softmax(H_t)(a), and climbs the gradient of E[R_t]:

    H_{t+1}(a) = H_t(a) + α (R_t - R̄_t)(1[a = A_t] - π_t(a))    for every arm a

where the baseline R̄_t is the average of the rewards before round t (R̄_1 = R_1). Any baseline that does not
depend on A_t leaves the expected step unchanged; this one makes it far less noisy when rewards are all large.
"""

from __future__ import annotations

import numpy as np

from minirl.bandits.protocol import (BanditAgent, check_positive, check_probability, random_argmax,
                                     sample_categorical, softmax)


def epsilon_greedy(Q: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """One arm per row of ``Q (num_runs, k)``: uniformly random with probability ε, else greedy (2.3)."""
    num_runs, k = Q.shape
    explore = rng.random(num_runs) < epsilon
    return np.where(explore, rng.integers(k, size=num_runs), random_argmax(Q, rng))


def incremental_update(Q: np.ndarray, N: np.ndarray, index: tuple, rewards: np.ndarray, step_size) -> None:
    """Q ← Q + α(R - Q) at ``index``, in place; α = 1/N(a) (the sample average) when ``step_size`` is None."""
    N[index] += 1
    alpha = 1.0 / N[index] if step_size is None else step_size
    Q[index] += alpha * (rewards - Q[index])  # Q_{n+1} = Q_n + α (R_n - Q_n)


def check_step_size(step_size) -> float | None:
    """None (sample averages) or a constant α in (0, 1]."""
    if step_size is not None and not 0.0 < step_size <= 1.0:
        raise ValueError(f"step_size: expected None (sample averages) or a number in (0, 1], got {step_size!r}")
    return step_size


class EpsilonGreedy(BanditAgent):
    """ε-greedy on action-value estimates (book 2.2.1); ``epsilon=0`` is the greedy method (2.3).

    step_size: None for sample averages, or a constant α (recency-weighted averages).
    initial_value: Q_1(a) for every arm; large values make the learner optimistic.
    """

    def __init__(self, k: int, epsilon: float, step_size: float | None = None, initial_value: float = 0.0,
                 num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.epsilon = check_probability("epsilon", epsilon)
        self.step_size = check_step_size(step_size)
        self.Q = np.full((self.num_runs, self.k), float(initial_value))
        self.N = np.zeros((self.num_runs, self.k), dtype=np.int64)

    def act(self) -> np.ndarray:
        return epsilon_greedy(self.Q, self.epsilon, self.rng)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        incremental_update(self.Q, self.N, (self._runs, actions), rewards, self.step_size)


class UCB(BanditAgent):
    """Upper confidence bound action selection (2.7) on sample-average estimates.

    sqrt(ln t / N_t(a)) is the uncertainty of Q_t(a) (from Hoeffding's inequality): it shrinks as a is pulled
    and grows slowly, with ln t, while other arms are. An arm with N_t(a) = 0 counts as maximal.
    """

    def __init__(self, k: int, c: float = 2.0, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        if not c >= 0.0:
            raise ValueError(f"c: expected a number >= 0, got {c!r}")
        self.c = float(c)
        self.Q = np.zeros((self.num_runs, self.k))
        self.N = np.zeros((self.num_runs, self.k), dtype=np.int64)

    def upper_bounds(self) -> np.ndarray:
        """Q_t(a) + c sqrt(ln t / N_t(a)) (2.7), +inf for untried arms; ``(num_runs, k)``."""
        t = self.N.sum(axis=1, keepdims=True) + 1  # this round's number, t = 1, 2, ...
        bonus = self.c * np.sqrt(np.log(t) / np.maximum(self.N, 1))
        return np.where(self.N == 0, np.inf, self.Q + bonus)

    def act(self) -> np.ndarray:
        return random_argmax(self.upper_bounds(), self.rng)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        incremental_update(self.Q, self.N, (self._runs, actions), rewards, None)


class GradientBandit(BanditAgent):
    """Softmax preferences climbed by stochastic gradient ascent on the expected reward (Sutton & Barto §2.8).

    baseline: compare each reward with the average of the earlier ones (True) or with 0 (False).
    """

    def __init__(self, k: int, step_size: float = 0.1, baseline: bool = True, num_runs: int = 1, seed=None):
        super().__init__(k, num_runs, seed)
        self.step_size = check_positive("step_size", step_size)
        self.baseline = bool(baseline)
        self.H = np.zeros((self.num_runs, self.k))  # preferences H_1(a) = 0: every arm equally likely
        self.average_reward = np.zeros(self.num_runs)
        self.steps = 0

    def probabilities(self) -> np.ndarray:
        """π_t(a) = exp(H_t(a)) / Σ_b exp(H_t(b)); ``(num_runs, k)``."""
        return softmax(self.H)

    def act(self) -> np.ndarray:
        return sample_categorical(self.probabilities(), self.rng)

    def update(self, actions, rewards) -> None:
        actions, rewards = self._check_feedback(actions, rewards)
        pi = self.probabilities()
        if not self.baseline:
            baseline = 0.0
        elif self.steps == 0:
            baseline = rewards  # R̄_1 = R_1: the first step changes nothing
        else:
            baseline = self.average_reward  # R̄_t, the mean of R_1..R_{t-1}: it does not depend on A_t
        chosen = np.zeros_like(pi)
        chosen[self._runs, actions] = 1.0
        self.H += self.step_size * (rewards - baseline)[:, None] * (chosen - pi)  # H(a) += α(R-R̄)(1[a=A]-π(a))
        self.steps += 1
        self.average_reward += (rewards - self.average_reward) / self.steps
