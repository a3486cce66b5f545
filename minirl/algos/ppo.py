"""PPO: proximal policy optimization, with a clipped surrogate (PPO-Clip) or a KL penalty (PPO-Penalty).

Book ch. 5.8, Algorithms 5.24 and 5.23 (appendix B.69, B.68); Schulman et al. 2017. PPO-Clip's box, line by line:

    for k = 0, 1, 2, ...                                   `_train`: one iteration per rollout
        run π_θk in the environment, store trajectories D_k    `_collect_rollout` (on_policy.py)
        compute returns Ĝ_t                                  buffer.compute_returns_and_advantages: λ-returns
        compute advantages Â_t with V_φk                      ... by GAE(γ, λ) (Schulman et al. 2016)
        for m = 1..M: Adam ascent on the clipped objective    `_update`: update_epochs × minibatches
            ℓ_t(θ') = π_θ'(A_t|S_t) / π_θk(A_t|S_t)            (5.39)  ratio
            max 1/|D_k|T Σ min(ℓ_t Â_t, clip(ℓ_t, 1−ε, 1+ε) Â_t)  (5.40)-(5.41)  `ppo_losses`
        for b = 1..B: gradient descent on (V_φ(S_t) − Ĝ_t)²   the value loss, in the same minibatch steps

PPO-Penalty (`loss="penalty"`, or the agent `ppo_penalty`) runs the same rollout and the same epochs with the
KL-penalised objective instead, and adapts the penalty's weight λ after each update:

    J_PPO(θ) = Σ_t ℓ_t(θ) Â_t − λ Ê_t[D_KL(π_old(·|S_t) ‖ π_θ(·|S_t))]      (5.37)      `ppo_penalty_loss`
    d = Ê_t[D_KL(π_old ‖ π_θ)] after the epochs:                                          `adapt_kl_coef`
        d < d_target / a:  λ ← λ / b;     d > d_target · a:  λ ← λ · b        (a = 1.5, b = 2)

The KL is the distributions' own (closed form), against π_old as the rollout saw it. The box's M policy steps
and B value steps are the same minibatch steps here, on the summed loss, as for PPO-Clip.

Implementation details (those of the PPO implementation studies, Engstrom et al. 2020, Huang et al. 2022):
 1. vectorized environments; a truncated episode bootstraps from the value of its true final observation,
    a terminated one does not;
 2. separate actor and critic MLPs, orthogonal init (networks.py); Adam with ε = 1e-5;
 3. advantages normalized per minibatch; 4. clipped value loss (optional); 5. entropy bonus;
 6. learning rate (and optionally the clip range) annealed linearly to 0; 7. global gradient-norm clipping;
 8. optional early stop of the epochs when the approximate KL exceeds `target_kl`;
 9. optional observation normalization (running mean/std, saved in checkpoints, frozen at evaluation) and
    reward scaling by the std of the discounted return; continuous actions are clipped to the action bounds.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.base import Hyperparameter
from minirl.algos.on_policy import ON_POLICY, OnPolicyActorCritic
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_


def ppo_losses(dist, values, actions, old_log_probs, old_values, advantages, returns, clip_coef,
               clip_value_loss=True, normalize_advantages=True):
    """The three PPO losses on one minibatch; returns (policy_loss, value_loss, entropy, stats)."""
    if normalize_advantages and advantages.size > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = dist.log_prob(actions) - old_log_probs
    ratio = ad.exp(log_ratio)  # ℓ_t(θ') = π_θ'(A|S) / π_θold(A|S)   (5.39)
    advantages = ad.tensor(advantages.astype(ratio.dtype))
    # −min(ℓ Â, clip(ℓ, 1−ε, 1+ε) Â) = max(−ℓ Â, −clip(ℓ) Â)   (5.40)-(5.41), as a loss to minimise
    policy_loss = ad.maximum(-advantages * ratio, -advantages * ad.clip(ratio, 1 - clip_coef, 1 + clip_coef)).mean()
    returns = ad.tensor(returns.astype(values.dtype))
    if clip_value_loss:
        old_values = ad.tensor(old_values.astype(values.dtype))
        clipped = old_values + ad.clip(values - old_values, -clip_coef, clip_coef)
        value_loss = 0.5 * ad.maximum((values - returns) ** 2, (clipped - returns) ** 2).mean()
    else:
        value_loss = 0.5 * ((values - returns) ** 2).mean()  # (V_φ(S_t) − Ĝ_t)²
    entropy = dist.entropy().mean()
    r, lr = ratio.numpy(), log_ratio.numpy()
    stats = {"approx_kl": float(np.mean((r - 1) - lr)),  # an unbiased, low-variance estimate of KL(old‖new)
             "clip_fraction": float(np.mean(np.abs(r - 1) > clip_coef))}
    return policy_loss, value_loss, entropy, stats


def ppo_penalty_loss(dist, old_dist, actions, old_log_probs, advantages, kl_coef, normalize_advantages=True):
    """−J_PPO(θ) of (5.37), averaged over the minibatch, and the mean KL(π_old ‖ π_θ) it penalises."""
    if normalize_advantages and advantages.size > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    ratio = ad.exp(dist.log_prob(actions) - old_log_probs)  # ℓ_t(θ) = π_θ(A|S) / π_old(A|S)
    kl = old_dist.kl(dist).mean()                            # Ê_t[D_KL(π_old(·|S_t) ‖ π_θ(·|S_t))]
    return -(ratio * ad.tensor(advantages.astype(ratio.dtype))).mean() + kl_coef * kl, kl


def adapt_kl_coef(kl_coef: float, kl: float, kl_target: float, a: float = 1.5, b: float = 2.0) -> float:
    """Algorithm 5.23's rule for λ: halve it when the update moved the policy less than d_target / a, double it
    when more than d_target · a (a = 1.5, b = 2 in the book)."""
    if kl < kl_target / a:
        return kl_coef / b
    if kl > kl_target * a:
        return kl_coef * b
    return kl_coef


class PPO(OnPolicyActorCritic):
    """PPO-Clip (Algorithm 5.24), or PPO-Penalty (Algorithm 5.23) with loss=penalty; GAE, minibatch epochs.

    Vectorized environments; the implementation details of the module docstring."""

    name = "ppo"
    hyperparameters = {
        **ON_POLICY,
        "num_minibatches": Hyperparameter(4, "minibatches per epoch", low=1),
        "update_epochs": Hyperparameter(4, "passes over each rollout (M in Algorithm 5.24)", low=1),
        "clip_coef": Hyperparameter(0.2, "ε, the clip range of the probability ratio", low=0.0),
        "anneal_clip": Hyperparameter(False, "decay ε linearly to 0 as well"),
        "clip_value_loss": Hyperparameter(True, "clip the value update around the old values, like the ratio"),
        "normalize_advantages": Hyperparameter(True, "normalize advantages within each minibatch"),
        "target_kl": Hyperparameter(None, "stop the epochs early when the approximate KL exceeds it (None: never)",
                                    above=0.0, kind=float),
        "loss": Hyperparameter("clip", "clip: PPO-Clip (5.38); penalty: PPO-Penalty's KL-penalised objective (5.37)",
                               choices=("clip", "penalty")),
        "kl_coef": Hyperparameter(1.0, "λ, PPO-Penalty's initial weight of the KL penalty", low=0.0),
        "kl_target": Hyperparameter(0.01, "d_target, the KL per update PPO-Penalty's λ adapts towards", low=0.0),
    }
    default_steps = {"CartPole-v1": 100_000, "Pendulum-v1": 300_000}
    env_defaults = {
        # tuned to reach the maximum return of 500 within 100k steps
        # target_kl: 20 full-batch epochs at this learning rate can push a policy that already balances off
        # its optimum (the return collapses late in training on some seeds); stopping the epochs at an
        # approximate KL of 0.02 keeps each update a small step
        "CartPole-v1": {"num_envs": 8, "num_steps": 32, "learning_rate": 1e-3, "gamma": 0.98, "gae_lambda": 0.8,
                        "num_minibatches": 1, "update_epochs": 20, "ent_coef": 0.0, "target_kl": 0.02},
        "Pendulum-v1": {"num_envs": 4, "num_steps": 512, "learning_rate": 1e-3, "gamma": 0.9, "gae_lambda": 0.95,
                        "num_minibatches": 16, "update_epochs": 10, "ent_coef": 0.0, "normalize_obs": True,
                        "normalize_reward": True, "clip_value_loss": False, "log_std_init": -0.5,
                        "max_grad_norm": 0.5},
    }

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        self.kl_coef = float(self.hp["kl_coef"])  # λ, adapted after every PPO-Penalty update

    def make_optimizer(self, parameters):
        return Adam(parameters, lr=self.hp["learning_rate"], eps=1e-5, fused=True)  # ε = 1e-5 (detail 2)

    # -- training -----------------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        hp = self.hp
        batch = hp["num_envs"] * hp["num_steps"]
        self._begin()
        while self.num_timesteps < total_steps:
            progress = self.num_timesteps / total_steps
            if hp["anneal_lr"]:
                self.optimizer.param_groups[0]["lr"] = hp["learning_rate"] * (1.0 - progress)
            if self._collect_rollout(hooks):  # a hook asked to stop
                return
            clip = hp["clip_coef"] * (1.0 - progress if hp["anneal_clip"] else 1.0)
            self.last_stats = self._update(clip, batch // hp["num_minibatches"])
            hooks.on_boundary(self)

    def _update(self, clip_coef, minibatch_size):
        hp, stats = self.hp, {}
        params = list(self.policy.parameters())
        penalty = hp["loss"] == "penalty"
        if penalty:  # π_old, before the update
            old_policy = self._old_policy()
        for _ in range(hp["update_epochs"]):
            for mb in self.buffer.minibatches(minibatch_size, self.rng):
                x = ad.tensor(mb.obs)
                dist = self.policy.distribution(x)
                values = self.policy.value(x)
                policy_loss, value_loss, entropy, stats = ppo_losses(
                    dist, values, mb.actions, mb.log_probs, mb.values, mb.advantages, mb.returns, clip_coef,
                    hp["clip_value_loss"], hp["normalize_advantages"])
                if penalty:  # the same minibatch step on (5.37) instead of the clipped surrogate
                    policy_loss, kl = ppo_penalty_loss(dist, old_policy(mb.index), mb.actions, mb.log_probs, mb.advantages,
                                                       self.kl_coef, hp["normalize_advantages"])
                loss = policy_loss - hp["ent_coef"] * entropy + hp["vf_coef"] * value_loss
                self.optimizer.zero_grad()
                loss.backward()
                clip_grad_norm_(params, hp["max_grad_norm"])
                self.optimizer.step()
            if hp["target_kl"] is not None and stats.get("approx_kl", 0.0) > hp["target_kl"]:
                break
        stats.update(policy_loss=policy_loss.item(), value_loss=value_loss.item(), entropy=entropy.item())
        if penalty:  # d = Ê_t[D_KL(π_old ‖ π_θ)] over the whole rollout, then λ's rule
            with ad.no_grad():
                stats["kl"] = old_policy().kl(self.policy.distribution(ad.tensor(self.buffer.batch().obs))).mean().item()
            stats["kl_coef"] = self.kl_coef = adapt_kl_coef(self.kl_coef, stats["kl"], hp["kl_target"])
        return stats

    def state_dict(self) -> dict:
        return {**super().state_dict(), "kl_coef": self.kl_coef}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.kl_coef = float(state["kl_coef"])


class PPOPenalty(PPO):
    """PPO-Penalty (Algorithm 5.23): PPO's rollout and epochs on the KL-penalised objective (5.37)."""

    name = "ppo_penalty"
    hyperparameters = {**PPO.hyperparameters,
                       "loss": Hyperparameter("penalty", "penalty: the KL-penalised objective (5.37); clip: PPO-Clip",
                                              choices=("clip", "penalty"))}
    env_defaults = {env: {k: v for k, v in table.items() if k != "target_kl"}
                    for env, table in PPO.env_defaults.items()}

__all__ = ["PPO", "PPOPenalty", "adapt_kl_coef", "ppo_losses", "ppo_penalty_loss"]
