"""C51: categorical distributional DQN (book ch. 4.7, eqs. 4.20–4.23; code L19663–19767; Bellemare et al. 2017).

Instead of the expected return Q(s, a), the network predicts the distribution Z(s, a) of the return, on N
fixed atoms z_i = V_min + i Δz, Δz = (V_max − V_min) / (N − 1): one softmax over N logits per action. The
distributional Bellman equation (4.20), Z(s, a) =_D R + γ Z(S', A'), gives a target distribution whose atoms
r + γ z_j fall between the fixed ones; the categorical projection Φ (4.21) puts each atom's probability back on
its two neighbours, in proportion to closeness:

    T z_j = clip(r + γ^n (1 − terminated) z_j, V_min, V_max),   b_j = (T z_j − V_min) / Δz,
    l = ⌊b_j⌋, u = ⌈b_j⌉:   m_l += p_j(S', a*) (u − b_j),   m_u += p_j(S', a*) (b_j − l)         (4.21)

with a* = argmax_a Σ_i z_i p_i(S', a) (of the online network with `double_q`, as in Rainbow). The loss is the
cross-entropy −Σ_i m_i log p_i(S, A; θ) (4.22), the KL divergence KL(m ‖ p) up to the target's entropy, which
is constant in θ; KL itself is the priority of a transition in prioritized replay. Q(s, a) = Σ_i z_i p_i(s, a)
chooses the actions. With `dueling`, V and A are combined atom by atom before the softmax (4.23).

Everything else (replay, target network, ε-greedy or noisy exploration, n-step returns) is DQN's loop
(dqn.py); this file holds what makes C51 itself.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.base import Hyperparameter
from minirl.algos.dqn import CARTPOLE_ROUNDS, DQN, greedy_next_actions, weighted_mean
from minirl.algos.q_networks import as_batch


def categorical_projection(next_probs, rewards, discounts, terminated, support):
    """Φ T Z (4.21): the target distribution r + γ^n (1 − terminated) Z(S', a*) projected onto `support`.

    `next_probs` (B, N) are p_j(S', a*); `rewards`, `discounts` (γ^n) and `terminated` are (B,); `support` is the
    N evenly spaced atoms. Returns m (B, N), each row a distribution over the atoms."""
    next_probs = np.asarray(next_probs, dtype=np.float64)
    batch, atoms = next_probs.shape
    v_min, v_max = float(support[0]), float(support[-1])
    delta_z = (v_max - v_min) / (atoms - 1)
    bootstrap = (np.asarray(discounts, dtype=np.float64) * (1.0 - np.asarray(terminated, dtype=np.float64)))
    shifted = np.clip(np.asarray(rewards, dtype=np.float64)[:, None] + bootstrap[:, None] * support[None, :],
                      v_min, v_max)                                                  # T z_j
    b = (shifted - v_min) / delta_z                                                   # b_j ∈ [0, N − 1]
    lower, upper = np.floor(b).astype(np.int64), np.ceil(b).astype(np.int64)
    # an atom that lands exactly on z_l (l = u) gives it all its mass: (u − b) + 1 = 1 and (b − l) = 0
    to_lower = next_probs * (upper - b + (lower == upper))
    to_upper = next_probs * (b - lower)
    rows = np.arange(batch)[:, None] * atoms
    m = np.bincount((rows + lower).ravel(), to_lower.ravel(), minlength=batch * atoms)
    m += np.bincount((rows + upper).ravel(), to_upper.ravel(), minlength=batch * atoms)
    return m.reshape(batch, atoms)


class C51(DQN):
    """Categorical distributional DQN: 51 atoms, the projected distributional target, the cross-entropy loss."""

    name = "c51"
    losses = ("cross_entropy",)
    loss_note = " (C51 fits a distribution: it minimises the cross-entropy (4.22) to its projected target)"
    hyperparameters = {
        **DQN.hyperparameters,
        "loss": Hyperparameter("cross_entropy", "cross_entropy (4.22) between the projected target and Z(s, a)"),
        "num_atoms": Hyperparameter(51, "N, the atoms of the return distribution", low=2),
        "v_min": Hyperparameter(-10.0, "V_min, the smallest atom"),
        "v_max": Hyperparameter(10.0, "V_max, the largest atom"),
    }
    env_defaults = {
        "CartPole-v1": {**CARTPOLE_ROUNDS, "double_q": True, "v_min": 0.0, "v_max": 100.0},  # returns ≤ 1/(1 − γ)
    }

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        super().check_hyperparameters(values)
        if values["v_min"] >= values["v_max"]:
            raise ValueError(f"{cls.name}.v_min: the support [V_min, V_max] needs V_min < V_max, got "
                             f"v_min={values['v_min']} and v_max={values['v_max']}")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.support = np.linspace(hp["v_min"], hp["v_max"], hp["num_atoms"])  # z_i = V_min + i Δz

    @property
    def num_atoms(self) -> int:
        return self.hp["num_atoms"]

    def q_from_output(self, output):
        """Q(s, a) = Σ_i z_i p_i(s, a), with p the softmax over each action's atoms."""
        return (ad.softmax(ad.tensor(output), axis=2).numpy() * self.support.astype(np.float32)).sum(axis=2)

    def td_loss(self, batch, weights=None):
        """Cross-entropy to the projected target (4.21)–(4.22); each transition's KL(m ‖ p) is its priority."""
        with ad.no_grad():
            next_probs = ad.softmax(self.target_network(as_batch(batch.next_obs)), axis=2).numpy()  # p(S', ·; θ̂)
        next_online = self.q_values(batch.next_obs, noise=True) if self.hp["double_q"] else None
        best = greedy_next_actions(next_probs @ self.support, next_online)
        rows = np.arange(len(best))
        target = categorical_projection(next_probs[rows, best], batch.rewards, batch.discounts, batch.terminated,
                                        self.support)                                          # m   (4.21)
        logits = self.q_network(as_batch(batch.obs))[rows, batch.actions.astype(np.int64)]     # (B, N)
        log_probs = ad.log_softmax(logits, axis=1)
        cross_entropy = -(ad.tensor(target.astype(np.float32)) * log_probs).sum(axis=1)        # (4.22)
        loss = weighted_mean(cross_entropy, weights)
        entropy = -np.sum(target * np.log(np.where(target > 0, target, 1.0)), axis=1)
        return loss, cross_entropy.numpy() - entropy                                           # KL(m ‖ p)
