"""TRPO: trust region policy optimization (book ch. 5.7, Algorithm 5.22, L21691–21801; appendix B.66; Schulman
et al. 2015). The box, line by line:

    for k = 0, 1, 2, ...                                                               `_train`
        run π_k = π(θ_k) in the environment, keeping the trajectories D_k               `_collect_rollout`
        the returns Ĝ_t, and the advantages Â_t from V_φk                               GAE(γ, λ) (on_policy.py)
        ĝ_k = ∇_θ L(θ)|θ_k, L(θ) = Ê_t[π_θ(A_t|S_t)/π_k(A_t|S_t) Â_t]       (5.31)     `surrogate`, flat_grad
        x̂_k ≈ Ĥ_k⁻¹ ĝ_k by conjugate gradient, Ĥ_k = ∇²Ê_t KL(π_k ‖ π_θ)      (5.32)     fisher_vector_product
        θ_{k+1} = θ_k + α^j sqrt(2δ / (x̂ᵀ Ĥ x̂)) x̂                             (5.33)     `_line_search`
            with j the smallest of 0 … K−1 whose step improves L and keeps Ê_t KL ≤ δ
        φ_{k+1} = argmin_φ Ê_t (V_φ(S_t) − Ĝ_t)²,  by several Adam epochs            (5.34)     `_fit_value`

Where (5.33) comes from: to second order around θ_k, L(θ) ≈ ĝᵀΔ and KL ≈ ½ΔᵀĤΔ (its gradient is 0 at θ_k), so
the best step within KL ≤ δ is along Ĥ⁻¹ĝ, scaled until ½ΔᵀĤΔ = δ (5.29)–(5.30). Ĥ, the Fisher information of
the policy, is never built: conjugate gradient needs only the products Ĥv, each one a second backward pass
through ∇KL (`minirl.optim.conjugate_gradient`), plus damping·v. The line search guards the approximation: a
step that does not improve the surrogate, or leaves the trust region, is halved (by α) up to K times; when no
step passes, the policy stays where it was for this iteration, which the agent counts (`rejected_updates`) and
logs, and training goes on.
"""

from __future__ import annotations

import logging

import numpy as np

import autodiff as ad
from minirl.algos.base import Hyperparameter
from minirl.algos.on_policy import ON_POLICY, OnPolicyActorCritic
from minirl.optim.adam import Adam
from minirl.optim.conjugate_gradient import (conjugate_gradient, fisher_vector_product, flat_grad,
                                             parameters_to_vector, vector_to_parameters)

log = logging.getLogger(__name__)

NOT_DIFFERENTIABLE = ("trpo: the policy's distribution does not depend differentiably on its parameters, so no "
                      "natural-gradient step exists; the policy network (trpo.hidden, trpo.activation) must be "
                      "differentiable in θ, twice (its KL's Hessian is the Fisher)")

SHARED = ("num_envs", "num_steps", "gamma", "gae_lambda", "hidden", "activation", "normalize_obs", "normalize_reward",
          "log_std_init")


def surrogate_advantage(dist, actions, old_log_probs, advantages):
    """L(θ) = Ê_t[π_θ(A_t|S_t) / π_old(A_t|S_t) Â_t] (5.19)–(5.24): equal to Ê_t[Â_t] at θ = θ_old, with the
    policy gradient as its gradient there."""
    ratio = ad.exp(dist.log_prob(actions) - ad.tensor(old_log_probs.astype(np.float32)))
    return (ratio * ad.tensor(advantages.astype(np.float32))).mean()


class TRPO(OnPolicyActorCritic):
    """Trust region policy optimization: a conjugate-gradient natural step and a line search (Algorithm 5.22).

    The line search accepts the first shrunk step that improves the surrogate within KL ≤ δ."""

    name = "trpo"
    hyperparameters = {
        **{key: ON_POLICY[key] for key in SHARED},
        # Stable-Baselines3's TRPO defaults
        "num_envs": Hyperparameter(2, "environment copies stepped together", low=1),
        "num_steps": Hyperparameter(1024, "steps per copy in each rollout (one TRPO iteration)", low=1),
        "max_kl": Hyperparameter(0.01, "δ, the trust region: the largest mean KL(π_old ‖ π_new) of a step",
                                 above=0.0),
        "cg_iters": Hyperparameter(15, "conjugate-gradient iterations for x ≈ H⁻¹g", low=1),
        "cg_damping": Hyperparameter(0.1, "added to the Fisher's diagonal: (H + damping·I)x = g", low=0.0),
        "backtrack_coef": Hyperparameter(0.8, "α: each rejected step is shrunk by this factor", above=0.0, high=1.0),
        "backtrack_iters": Hyperparameter(10, "K: the steps tried before the update is given up", low=1),
        "learning_rate": Hyperparameter(1e-3, "Adam's step size for the value function", above=0.0),
        "value_epochs": Hyperparameter(10, "passes of the value fit (5.34) over each rollout", low=1),
        "value_batch_size": Hyperparameter(128, "minibatch size of the value fit", low=1),
        "normalize_advantages": Hyperparameter(True, "normalize advantages within each rollout"),
    }
    default_steps = {"CartPole-v1": 100_000, "Pendulum-v1": 300_000}
    env_defaults = {
        # rl-zoo's tuned CartPole settings
        "CartPole-v1": {"num_envs": 2, "num_steps": 512, "cg_damping": 1e-3, "gae_lambda": 0.98,
                        "value_epochs": 20, "value_batch_size": 512},
        "Pendulum-v1": {"num_envs": 2, "num_steps": 1024, "gamma": 0.9, "value_epochs": 15},
    }

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        super().check_hyperparameters(values)
        if values["backtrack_coef"] == 1.0:
            raise ValueError("trpo.backtrack_coef: expected α < 1 (α = 1 would try the same step K times), got 1.0")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        self.actor_params = [p for name, p in self.policy.named_parameters() if not name.startswith("critic.")]
        self.rejected_updates = 0

    def make_optimizer(self, parameters):
        return Adam(self.policy.critic.parameters(), lr=self.hp["learning_rate"], fused=True)  # V_φ's only

    def _train(self, total_steps, hooks):
        self._begin()
        while self.num_timesteps < total_steps:
            if self._collect_rollout(hooks):  # a hook asked to stop
                return
            self.last_stats = {**self._update_policy(), **self._fit_value()}
            hooks.on_boundary(self)

    # -- the policy step: (5.31)–(5.33) -------------------------------------------------------------------------
    def _update_policy(self) -> dict:
        hp, batch = self.hp, self.buffer.batch()
        advantages = batch.advantages
        if hp["normalize_advantages"] and advantages.size > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        x, old_policy, params = ad.tensor(batch.obs), self._old_policy(), self.actor_params

        def surrogate():
            return surrogate_advantage(self.policy.distribution(x), batch.actions, batch.log_probs, advantages)

        def kl():  # Ê_t KL(π_old(·|S_t) ‖ π_θ(·|S_t)), closed form
            return old_policy().kl(self.policy.distribution(x)).mean()

        loss = surrogate()
        if not loss.requires_grad:
            raise ValueError(NOT_DIFFERENTIABLE)
        g = flat_grad(loss, params)                                                  # ĝ          (5.31)
        if not np.all(np.isfinite(g)):
            raise FloatingPointError("trpo: the policy gradient has non-finite entries; lower learning rates will "
                                     "not help here: check the rewards and observations (normalize_obs?)")
        fvp = fisher_vector_product(kl, params, hp["cg_damping"])                    # v ↦ (Ĥ + damping·I)v
        direction = conjugate_gradient(fvp, g, hp["cg_iters"])                       # x̂ ≈ Ĥ⁻¹ĝ  (5.32)
        curvature = float(direction @ fvp(direction))                                 # x̂ᵀĤx̂
        if not curvature > 0:
            probe = np.ones_like(g)
            if not np.any(fvp(probe) - hp["cg_damping"] * probe):  # Ĥ = 0: π does not move when θ does
                raise ValueError(NOT_DIFFERENTIABLE)
            return self._reject("the Fisher-vector product gave a non-positive curvature")
        full_step = np.sqrt(2 * hp["max_kl"] / curvature) * direction                # (5.30)
        tries = self._line_search(params, full_step, surrogate, kl, loss.item())      # (5.33)
        if tries is None:
            return self._reject(f"no step of the line search improved the surrogate within KL ≤ {hp['max_kl']}")
        with ad.no_grad():
            return {"surrogate_gain": surrogate().item() - loss.item(), "kl": kl().item(), "line_search_steps": tries,
                    "accepted": True}

    def _line_search(self, params, full_step, surrogate, kl, surrogate_before):
        """The smallest j in 0 … K−1 for which θ + α^j·full_step improves the surrogate and keeps the mean KL
        within δ; the parameters are left there. None, with the parameters restored, if no j does."""
        hp, theta = self.hp, parameters_to_vector(params)
        for j in range(hp["backtrack_iters"]):
            vector_to_parameters(theta + hp["backtrack_coef"] ** j * full_step, params)
            with ad.no_grad():
                gain, divergence = surrogate().item() - surrogate_before, kl().item()
            if divergence <= hp["max_kl"] and gain > 0:
                return j
        vector_to_parameters(theta, params)
        return None

    def _reject(self, why: str) -> dict:
        self.rejected_updates += 1
        log.info("trpo: the policy keeps its parameters at step %d: %s", self.num_timesteps, why)
        return {"accepted": False}

    # -- the value function: (5.34) ----------------------------------------------------------------------------
    def _fit_value(self) -> dict:
        hp, value_loss = self.hp, None
        for _ in range(hp["value_epochs"]):
            for mb in self.buffer.minibatches(hp["value_batch_size"], self.rng):
                error = ((self.policy.value(ad.tensor(mb.obs)) - ad.tensor(mb.returns)) ** 2).mean()  # (V − Ĝ)²
                self.optimizer.zero_grad()
                error.backward()
                self.optimizer.step()
                value_loss = error.item()
        return {"value_loss": value_loss}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "rejected_updates": self.rejected_updates}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.rejected_updates = int(state["rejected_updates"])


__all__ = ["TRPO", "surrogate_advantage"]
