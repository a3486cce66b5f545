"""ACKTR: actor-critic using Kronecker-factored trust region (book ch. 5.9, Algorithm 5.25, L22279–22410; Wu et
al. 2017). A2C's rollouts and losses, with the gradient step replaced by K-FAC's natural-gradient step. The box:

    for k = 0, 1, 2, ...                                                              `A2C._train`
        run π_k in the copies for L steps, the returns G_t, the advantages Â_t from V_φk   `_collect_rollout`
        ĝ_k = (1/|D_k|) Σ ∇_θ log π_θ(A_t|S_t) Â_t                          (5.42)    `a2c_losses`, backward
        for each layer l:  vec(Δθ_l) = vec(S_l⁻¹ ∇_{θ_l}ĝ_k A_l⁻¹)                       `KFAC.natural_gradients`
            A_l = E[a_l a_lᵀ] (layer inputs), S_l = E[∇s_l ∇s_lᵀ] (output gradients),
            running averages over the rollouts, their damped inverses refreshed every `inverse_every` updates
        θ_{k+1} = θ_k + η_k Δθ_k,  η_k = min(η_max, sqrt(2δ / (Δθᵀ Ĥ Δθ))),  Ĥ_l = A_l ⊗ S_l     (5.43)  `KFAC.step`
        φ_{k+1}: the critic's squared error (5.44) by the same Gauss–Newton step                one KFAC for both

Where S_l comes from. The Fisher of the policy is the covariance of its own score: the output gradients must be
those of log π(a|s) for actions a drawn from π itself, not the actions taken (whose advantages weigh the policy
gradient). So each update first runs a backward pass of −log π(ã|s), ã ~ π(·|s), inside `accumulate_stats`
(`fisher_loss`). The critic's Gauss–Newton matrix is the Fisher of a Gaussian model of the return around V(s):
its output gradients are those of (V(s) − ỹ)², ỹ = V(s) + ε, ε ~ N(0, 1), weighted by `vf_fisher_coef`.

(The book prints η = min(η_max, sqrt(2δ/(θᵀĤθ))); the quadratic form belongs to the step Δθ, as in Wu et al. and
in `minirl.optim.kfac`, whose docstring also gives its damping and momentum.)
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.a2c import A2C
from minirl.algos.base import Hyperparameter
from minirl.optim.kfac import KFAC

# A2C's settings that ACKTR replaces: the first-order optimizer and the gradient-norm clip (the trust region bounds
# each step instead)
REPLACED = ("optimizer", "rms_alpha", "rms_eps", "max_grad_norm")


def fisher_loss(dist, values, rng: np.random.Generator, vf_fisher_coef: float = 1.0):
    """The loss whose backward gives K-FAC the Fisher statistics: −mean log π(ã|s) with ã ~ π(·|s) (the policy's
    Fisher), plus `vf_fisher_coef` · mean (V(s) − ỹ)² with ỹ = V(s) + ε, ε ~ N(0, 1) (the critic's Gauss–Newton)."""
    sampled_actions = dist.sample(rng)
    noisy_values = values.numpy() + rng.standard_normal(values.shape).astype(values.dtype)
    return -dist.log_prob(sampled_actions).mean() + vf_fisher_coef * ((values - ad.tensor(noisy_values)) ** 2).mean()


class ACKTR(A2C):
    """A2C with K-FAC's natural-gradient step inside a KL trust region (Algorithm 5.25)."""

    name = "acktr"
    hyperparameters = {
        **{key: h for key, h in A2C.hyperparameters.items() if key not in REPLACED},
        # Wu et al.'s (and Stable-Baselines' ACKTR) settings
        "num_envs": Hyperparameter(8, "environment copies stepped together", low=1),
        "num_steps": Hyperparameter(20, "L: steps per copy in each rollout", low=1),
        "learning_rate": Hyperparameter(0.25, "η_max, the largest step along the natural gradient", above=0.0),
        "anneal_lr": Hyperparameter(True, "decay η_max linearly to 0 over training"),
        "vf_coef": Hyperparameter(0.25, "weight of the value loss", low=0.0),
        "kl_clip": Hyperparameter(0.001, "δ, the trust region: the largest KL of a step", above=0.0),
        "damping": Hyperparameter(0.01, "λ, Tikhonov damping of the Kronecker factors", low=0.0),
        "stat_decay": Hyperparameter(0.99, "running-average decay of the factors A_l and S_l", low=0.0, high=1.0),
        "momentum": Hyperparameter(0.9, "momentum of the natural-gradient steps", low=0.0, high=1.0),
        "inverse_every": Hyperparameter(10, "updates between refreshes of the factors' inverses", low=1),
        "vf_fisher_coef": Hyperparameter(1.0, "weight of the critic's Gauss–Newton term in the statistics", low=0.0),
    }
    default_steps = {"CartPole-v1": 200_000}
    env_defaults = {
        # with raw advantages the final policy of 4 of seeds 0–4 stayed below 400; normalized, 500 on each
        "CartPole-v1": {"normalize_advantages": True},
    }

    def make_optimizer(self, parameters):
        hp = self.hp
        return KFAC(self.policy, lr=hp["learning_rate"], momentum=hp["momentum"], stat_decay=hp["stat_decay"],
                    damping=hp["damping"], kl_clip=hp["kl_clip"], Tinv=hp["inverse_every"], empirical_fisher=False)

    def compute_gradients(self) -> dict:
        x = ad.tensor(self.buffer.batch().obs)
        with self.optimizer.accumulate_stats():  # A_l and S_l from the model's own predictions
            fisher_loss(self.policy.distribution(x), self.policy.value(x), self.rng,
                        self.hp["vf_fisher_coef"]).backward()
        return super().compute_gradients()  # zeroes those gradients, then ĝ of A2C's losses (5.42), (5.44)


__all__ = ["ACKTR", "fisher_loss"]
