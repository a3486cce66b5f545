"""QR-DQN: distributional DQN by quantile regression (book ch. 4.7, eqs. 4.24–4.26, L18921–19023; Dabney et al.
2018).

C51 fixes the atoms' locations and learns their probabilities; QR-DQN fixes the probabilities (1/N each) and
learns the locations: N quantiles θ_1..θ_N of the return distribution Z(s, a), at the midpoint fractions

    τ̂_i = i/N − 1/(2N),  i = 1..N                                                       (book, L19021)

so no projection and no support bounds are needed. A quantile is what minimises the pinball loss: the median
minimises the absolute error (4.24), and the τ-quantile minimises E[ρ_τ(u)], ρ_τ(u) = u (τ − 1{u < 0}) (4.25).
The target distribution has N samples T θ_j = r + γ^n (1 − terminated) θ̂_j(S', a*), a* = argmax_a Q(S', a),
and every predicted quantile regresses on all of them (4.26):

    L = Σ_i (1/N) Σ_j ρ^κ_{τ̂_i}(T θ_j − θ_i(S, A)),   ρ^κ_τ(u) = |τ − 1{u < 0}| L_κ(u) / κ

with the Huber loss L_κ (4.27, κ = 1) smoothing the kink at 0 (`loss="quantile"`: κ = 0, the plain ρ_τ of 4.25).
Q(s, a) = (1/N) Σ_i θ_i(s, a), the mean of the distribution, chooses the actions. The loss itself is
`minirl.nn.loss.quantile_huber_loss`; the loop is DQN's (dqn.py).
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.base import Hyperparameter
from minirl.algos.dqn import CARTPOLE_ROUNDS, DQN, greedy_next_actions, weighted_mean
from minirl.algos.q_networks import as_batch
from minirl.nn.loss import quantile_huber_loss


def quantile_midpoints(n: int) -> np.ndarray:
    """τ̂_i = i/N − 1/(2N) for i = 1..N: the middle of each of the N equal probability slices."""
    return np.arange(1, n + 1) / n - 1 / (2 * n)


class QRDQN(DQN):
    """Quantile-regression DQN: N quantiles per action, regressed on the target's quantiles (4.26)."""

    name = "qrdqn"
    losses = ("quantile_huber", "quantile")
    loss_note = " (QR-DQN regresses quantiles: the quantile Huber loss (4.26) or the pinball loss (4.25))"
    hyperparameters = {
        **DQN.hyperparameters,
        "loss": Hyperparameter("quantile_huber", "quantile_huber (4.26, κ = 1) or quantile (4.25, κ = 0)"),
        "num_quantiles": Hyperparameter(50, "N, the quantiles per action", low=1),
    }
    default_steps = {"CartPole-v1": 50_000}
    env_defaults = {"CartPole-v1": {**CARTPOLE_ROUNDS, "double_q": True, "num_quantiles": 10}}

    @property
    def num_atoms(self) -> int:
        return self.hp["num_quantiles"]

    def q_from_output(self, output):
        """Q(s, a) = (1/N) Σ_i θ_i(s, a)."""
        return output.mean(axis=2)

    def td_loss(self, batch, weights=None):
        """The quantile Huber loss (4.26) between θ_i(S, A) and the target samples r + γ^n θ̂_j(S', a*)."""
        with ad.no_grad():
            next_quantiles = self.target_network(as_batch(batch.next_obs)).numpy()               # θ̂(S', ·)
        next_online = self.q_values(batch.next_obs, noise=True) if self.hp["double_q"] else None
        best = greedy_next_actions(next_quantiles.mean(axis=2), next_online)
        rows = np.arange(len(best))
        bootstrap = batch.discounts * (1.0 - batch.terminated.astype(np.float32))
        targets = (batch.rewards[:, None] + bootstrap[:, None] * next_quantiles[rows, best]).astype(np.float32)
        quantiles = self.q_network(as_batch(batch.obs))[rows, batch.actions.astype(np.int64)]   # θ_i(S, A)
        kappa = 1.0 if self.hp["loss"] == "quantile_huber" else 0.0
        per_transition = quantile_huber_loss(quantiles, targets, quantile_midpoints(self.num_atoms), kappa,
                                             reduction="none")
        loss = weighted_mean(per_transition, weights)
        return loss, per_transition.numpy()
