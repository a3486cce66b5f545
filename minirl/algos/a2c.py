"""A2C: the synchronous advantage actor-critic (book ch. 5.5, Algorithm 5.20, L20653–20777; appendix B.62;
Mnih et al. 2016). The box, with its workers as the copies of a vector env:

    Master: for k = 0, 1, 2, ...                                                 `_train`
        (g_ψ, g_θ) = the sum of every worker's gradients                        one batch of all the copies
        ψ ← ψ − η_ψ g_ψ;  θ ← θ + η_θ g_θ                                        one RMSprop (or Adam) step
    Worker: run π_θ for L steps, keeping (S_t, A_t, R_t, S_{t+1})                `_collect_rollout` (on_policy.py)
        Â_t = R_t + γ V_ψ(S_{t+1}) − V_ψ(S_t)                                    GAE with λ = 0
        J(θ) = Σ_t log π_θ(A_t|S_t) Â_t,   J_V(ψ) = Σ_t Â_t²                      `a2c_losses`

The workers run in lockstep, so "sum the workers' gradients, then step" is one gradient of the losses summed
(here averaged) over the num_envs × num_steps samples of a rollout. `gae_lambda` sets Â: 0 is the box's
one-step TD error; the default 1 is the n-step return of the rollout minus V (Mnih et al.'s A2C/A3C), each
step's return bootstrapped from V at the end of the rollout. Actor and critic share one optimizer, the critic's
loss weighted by `vf_coef`, with an entropy bonus (`ent_coef`).
"""

from __future__ import annotations

import autodiff as ad
from minirl.algos.base import Hyperparameter
from minirl.algos.on_policy import ON_POLICY, OnPolicyActorCritic
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_
from minirl.optim.rmsprop import RMSprop


def a2c_losses(dist, values, actions, advantages, returns, normalize_advantages: bool = False):
    """−J(θ) and J_V(ψ) as batch means, and the entropy: −mean log π(A|S) Â, mean (V(S) − Ĝ)², mean H[π(·|S)]."""
    if normalize_advantages and advantages.size > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    policy_loss = -(dist.log_prob(actions) * ad.tensor(advantages.astype(values.dtype))).mean()   # −J(θ)
    value_loss = ((values - ad.tensor(returns.astype(values.dtype))) ** 2).mean()                # J_V(ψ): Â²
    return policy_loss, value_loss, dist.entropy().mean()


class A2C(OnPolicyActorCritic):
    """Synchronous advantage actor-critic over a vector env (Algorithm 5.20)."""

    name = "a2c"
    hyperparameters = {
        **ON_POLICY,
        # rl-zoo's CartPole settings for A2C (Stable-Baselines3's defaults): 8 copies × 5 steps, RMSprop 7e-4
        "num_envs": Hyperparameter(8, "environment copies stepped together (the workers)", low=1),
        "num_steps": Hyperparameter(5, "L: steps per copy in each rollout", low=1),
        "learning_rate": Hyperparameter(7e-4, "the optimizer's step size at the start", above=0.0),
        "anneal_lr": Hyperparameter(False, "decay the learning rate linearly to 0 over training"),
        "gae_lambda": Hyperparameter(1.0, "λ of GAE: 0 the box's one-step TD error, 1 the n-step return",
                                     low=0.0, high=1.0),
        "ent_coef": Hyperparameter(0.0, "weight of the entropy bonus", low=0.0),
        "optimizer": Hyperparameter("rmsprop", "rmsprop (as Mnih et al. and rl-zoo) or adam",
                                    choices=("rmsprop", "adam")),
        "rms_alpha": Hyperparameter(0.99, "RMSprop's decay of the squared-gradient average", low=0.0, high=1.0),
        "rms_eps": Hyperparameter(1e-5, "the optimizer's ε (RMSprop's or Adam's)", low=0.0),
        "normalize_advantages": Hyperparameter(False, "normalize advantages within each rollout"),
    }
    default_steps = {"CartPole-v1": 200_000, "Pendulum-v1": 300_000}
    env_defaults = {
        # rl-zoo's A2C settings for Pendulum (8 copies × 8 steps, γ = 0.9, normalized observations and rewards,
        # RMSprop) without its gSDE exploration, which we do not have: with a state-independent std the learning
        # rate is raised to 2.5e-3, not annealed, and λ = 1. Final returns −206, −1082, −799, −808, −317 on seeds
        # 0–4 after 300k steps; whether a seed swings the pendulum up by then is sensitive (2e-3 or 3e-3: 2 of 5)
        "Pendulum-v1": {"num_envs": 8, "num_steps": 8, "learning_rate": 2.5e-3, "gamma": 0.9, "gae_lambda": 1.0,
                        "normalize_obs": True, "normalize_reward": True, "log_std_init": 0.0},
    }

    def make_optimizer(self, parameters):
        hp = self.hp
        if hp["optimizer"] == "adam":
            return Adam(parameters, lr=hp["learning_rate"], eps=hp["rms_eps"], fused=True)
        return RMSprop(parameters, lr=hp["learning_rate"], alpha=hp["rms_alpha"], eps=hp["rms_eps"], fused=True)

    def _train(self, total_steps, hooks):
        hp = self.hp
        self._begin()
        while self.num_timesteps < total_steps:
            if hp["anneal_lr"]:
                self.optimizer.param_groups[0]["lr"] = hp["learning_rate"] * (1.0 - self.num_timesteps / total_steps)
            if self._collect_rollout(hooks):  # a hook asked to stop
                return
            self.last_stats = self._update()
            hooks.on_boundary(self)

    def _update(self) -> dict:
        stats = self.compute_gradients()
        self.optimizer.step()
        return stats

    def compute_gradients(self) -> dict:
        """The worker's part of the box: the gradients of the losses on the rollout in the buffer, clipped, left in
        the parameters' `.grad` (A3C's workers send them to the shared parameters instead of stepping here)."""
        hp, batch = self.hp, self.buffer.batch()
        x = ad.tensor(batch.obs)
        policy_loss, value_loss, entropy = a2c_losses(self.policy.distribution(x), self.policy.value(x),
                                                      batch.actions, batch.advantages, batch.returns,
                                                      hp["normalize_advantages"])
        loss = policy_loss - hp["ent_coef"] * entropy + hp["vf_coef"] * value_loss
        self.optimizer.zero_grad()
        loss.backward()
        if hp.get("max_grad_norm") is not None:  # (ACKTR has none: its trust region bounds the step)
            clip_grad_norm_(self.optimizer.param_groups[0]["params"], hp["max_grad_norm"])
        return {"policy_loss": policy_loss.item(), "value_loss": value_loss.item(), "entropy": entropy.item()}


__all__ = ["A2C", "a2c_losses"]
