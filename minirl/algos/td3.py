"""TD3: twin delayed DDPG, three changes to DDPG's loop against the over-estimation of Q.

Book ch. 6.3, Algorithm 6.27 (appendix B.65); Fujimoto et al. 2018. The box, line by line:

    inputs: τ (the book's ρ), γ, clip c, exploration σ, target noise σ̃, delay d, batch size N   `__init__`
    initialise actor μ_θ, critics Q_w1, Q_w2 and their targets θ', w'_1, w'_2                     `DDPG.__init__`
    for each step:
        A = clip(μ_θ(S) + ε, low, high),  ε ~ N(0, σ²)                                             `DDPG._train`
        execute A, observe R, D, S'; store (S, A, R, D, S') in D                                    `DDPG._train`
        sample N transitions from D                                                            `DDPG._train_step`
        ã = clip(μ_θ'(S') + clip(ε̃, −c, c), low, high),  ε̃ ~ N(0, σ̃²)   (6.15)–(6.16)
                                                                                         `smoothed_target_actions`
        y = R + γ(1 − D) min_{i=1,2} Q_w'_i(S', ã)                       (6.12)–(6.14)           `critic_targets`
        w_i ← w_i − λ ∇ mean (Q_wi(S, A) − y)²   for i = 1, 2                              `DDPG._train_step`
        if t mod d == 0:                                                                            `policy_delay`
            θ ← θ + λ mean ∇_a Q_w1(S, a)|_{a=μ_θ(S)} ∇_θ μ_θ(S)         (6.6), with the first critic
            θ' ← τθ + (1 − τ)θ',  w'_i ← τw_i + (1 − τ)w'_i              (6.7)–(6.8)

(The book prints the target noise as "ε ∼ clip(N(0, σ, ˜ −c, c))" and the delay test as "if t mod d then"; they
mean clip(N(0, σ̃), −c, c) and t mod d = 0.)

Why each change: the minimum of two critics trained on the same targets counters the upward bias that a max, or
an actor climbing a critic's errors, puts into Q (6.9)–(6.11); a delayed actor climbs a critic whose errors have
had d steps to shrink; the smoothing noise makes the target the value of a small neighbourhood of actions, so a
narrow false peak of Q' cannot be exploited. Here t counts critic steps (`critic_updates`).
"""

from __future__ import annotations

import numpy as np

from minirl.algos.base import Hyperparameter
from minirl.algos.ddpg import DDPG


def smoothed_target_actions(next_actions, sigma: float, clip: float, low, high, rng: np.random.Generator):
    """ã = clip(μ_θ'(S') + clip(ε̃, −c, c), low, high), ε̃ ~ N(0, σ̃²) per action component (6.15)–(6.16)."""
    epsilon = np.clip(sigma * rng.standard_normal(next_actions.shape), -clip, clip)
    return np.clip(next_actions + epsilon, low, high).astype(np.float32)


class TD3(DDPG):
    """Twin delayed DDPG: clipped double Q, delayed actor updates, target policy smoothing (Algorithm 6.27)."""

    name = "td3"
    num_critics = 2
    hyperparameters = {
        **DDPG.hyperparameters,
        "policy_delay": Hyperparameter(2, "d: critic steps per actor step and soft target update", low=1),
        "target_noise": Hyperparameter(0.2, "σ̃ of the target policy smoothing noise (6.15), in action units",
                                       low=0.0),
        "target_noise_clip": Hyperparameter(0.5, "c: the smoothing noise is clipped to [−c, c] (6.15)", low=0.0),
    }
    default_steps = dict(DDPG.default_steps)
    env_defaults = dict(DDPG.env_defaults)

    @property
    def policy_delay(self) -> int:
        return self.hp["policy_delay"]

    def target_actions(self, next_obs) -> np.ndarray:
        return smoothed_target_actions(self.actor_target.infer(next_obs), self.hp["target_noise"],
                                       self.hp["target_noise_clip"], self.low, self.high, self.rng)
