"""PPO-Clip: proximal policy optimization with a clipped surrogate objective.

Book ch. 5.8, Algorithm 5.24 (appendix B.69); Schulman et al. 2017. The book's box, line by line:

    for k = 0, 1, 2, ...                                   `_train`: one iteration per rollout
        run π_θk in the environment, store trajectories D_k    `_collect_rollout` (num_envs × num_steps)
        compute returns Ĝ_t                                  buffer.compute_returns_and_advantages: λ-returns
        compute advantages Â_t with V_φk                      ... by GAE(γ, λ) (Schulman et al. 2016)
        for m = 1..M: Adam ascent on the clipped objective    `_update`: update_epochs × minibatches
            ℓ_t(θ') = π_θ'(A_t|S_t) / π_θk(A_t|S_t)            (5.39)  ratio
            max 1/|D_k|T Σ min(ℓ_t Â_t, clip(ℓ_t, 1−ε, 1+ε) Â_t)  (5.40)-(5.41)  `ppo_losses`
        for b = 1..B: gradient descent on (V_φ(S_t) − Ĝ_t)²   the value loss, in the same minibatch steps

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
from minirl.algos.base import Agent, Hyperparameter
from minirl.algos.networks import ActorCritic
from minirl.buffers import RolloutBuffer
from minirl.envs import make_vec, spaces
from minirl.envs.wrappers.normalize import ObservationNormalizer, ReturnScaler
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


class PPO(Agent):
    """PPO-Clip with GAE, vectorized environments and minibatch epochs (Algorithm 5.24)."""

    name = "ppo"
    hyperparameters = {
        "num_envs": Hyperparameter(4, "environment copies stepped together", low=1),
        "num_steps": Hyperparameter(128, "steps per copy in each rollout (rollout size = num_envs × num_steps)", low=1),
        "learning_rate": Hyperparameter(2.5e-4, "Adam's step size at the start", low=0.0),
        "anneal_lr": Hyperparameter(True, "decay the learning rate linearly to 0 over training"),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "gae_lambda": Hyperparameter(0.95, "λ of GAE: 0 gives one-step TD errors, 1 Monte Carlo returns",
                                     low=0.0, high=1.0),
        "num_minibatches": Hyperparameter(4, "minibatches per epoch", low=1),
        "update_epochs": Hyperparameter(4, "passes over each rollout (M in Algorithm 5.24)", low=1),
        "clip_coef": Hyperparameter(0.2, "ε, the clip range of the probability ratio", low=0.0),
        "anneal_clip": Hyperparameter(False, "decay ε linearly to 0 as well"),
        "clip_value_loss": Hyperparameter(True, "clip the value update around the old values, like the ratio"),
        "normalize_advantages": Hyperparameter(True, "normalize advantages within each minibatch"),
        "ent_coef": Hyperparameter(0.01, "weight of the entropy bonus", low=0.0),
        "vf_coef": Hyperparameter(0.5, "weight of the value loss", low=0.0),
        "max_grad_norm": Hyperparameter(0.5, "global gradient-norm clip", low=0.0),
        "target_kl": Hyperparameter(None, "stop the epochs early when the approximate KL exceeds it (None: never)"),
        "hidden": Hyperparameter("64,64", "hidden layer sizes of actor and critic"),
        "activation": Hyperparameter("tanh", "tanh or relu", choices=("tanh", "relu")),
        "normalize_obs": Hyperparameter(False, "normalize observations by running mean and std"),
        "normalize_reward": Hyperparameter(False, "scale rewards by the running std of the discounted return"),
        "log_std_init": Hyperparameter(0.0, "initial log std of a Gaussian policy"),
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
        hp = self.hp
        if self.env_id is None:
            raise ValueError("ppo: pass a registered environment id (it trains on a vector env of copies)")
        self.envs = make_vec(self.env_id, hp["num_envs"], seed=seed)
        obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        if not isinstance(obs_space, spaces.Box) or not isinstance(act_space, (spaces.Box, spaces.Discrete)):
            raise TypeError(f"ppo: needs a Box observation space and a Box or Discrete action space, got "
                            f"{obs_space} and {act_space}")
        hidden = tuple(int(h) for h in str(hp["hidden"]).split(","))
        self.policy = ActorCritic(obs_space, act_space, hidden, hp["activation"], rng=self.rng,
                                  log_std_init=hp["log_std_init"])
        self.optimizer = Adam(self.policy.parameters(), lr=hp["learning_rate"], eps=1e-5, fused=True)
        self.discrete = isinstance(act_space, spaces.Discrete)
        self.buffer = RolloutBuffer(hp["num_steps"], hp["num_envs"], obs_space.shape,
                                    () if self.discrete else act_space.shape,
                                    action_dtype=np.int64 if self.discrete else np.float32)
        # the normalizers the NormalizeObservation / NormalizeReward wrappers use, held here so that the copies
        # keep raw observations and rewards (the logged returns are the environment's own)
        self.obs_normalizer = ObservationNormalizer(obs_space.shape, clip=10.0) if hp["normalize_obs"] else None
        self.reward_scaler = ReturnScaler(hp["num_envs"], hp["gamma"]) if hp["normalize_reward"] else None
        self.action_low, self.action_high = (None, None) if self.discrete else (act_space.low, act_space.high)
        self._obs = None  # the current observations of the copies (raw), between rollouts
        self.episode_returns = np.zeros(hp["num_envs"])
        self.episode_lengths = np.zeros(hp["num_envs"], dtype=np.int64)
        self.last_stats: dict = {}

    # -- acting -----------------------------------------------------------------------------------------
    def _normalize(self, obs):
        obs = np.asarray(obs, dtype=np.float32)
        return obs if self.obs_normalizer is None else self.obs_normalizer(obs)

    def _env_action(self, actions):
        return actions if self.discrete else np.clip(actions, self.action_low, self.action_high)

    def act(self, obs, deterministic: bool = True):
        single = np.ndim(obs) == len(self.envs.single_observation_space.shape)
        x = self._normalize(np.asarray(obs)[None] if single else obs)
        with ad.no_grad():
            dist = self.policy.distribution(ad.tensor(x))
        action = dist.mode() if deterministic else dist.sample(self.rng)
        action = self._env_action(action)
        return action[0] if single else action

    # -- training -----------------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        hp = self.hp
        batch = hp["num_envs"] * hp["num_steps"]
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
            if self.obs_normalizer is not None:
                self.obs_normalizer.update(self._obs)
        while self.num_timesteps < total_steps:
            progress = self.num_timesteps / total_steps
            if hp["anneal_lr"]:
                self.optimizer.param_groups[0]["lr"] = hp["learning_rate"] * (1.0 - progress)
            if self._collect_rollout(hooks):  # a hook asked to stop
                return
            clip = hp["clip_coef"] * (1.0 - progress if hp["anneal_clip"] else 1.0)
            self.last_stats = self._update(clip, batch // hp["num_minibatches"])
            hooks.on_boundary(self)

    def _collect_rollout(self, hooks) -> bool:
        """Fill the rollout buffer with num_steps steps of every copy, then GAE; True if a hook asked to stop."""
        hp, buffer = self.hp, self.buffer
        buffer.reset()
        stop = False
        with ad.no_grad():
            for _ in range(hp["num_steps"]):
                obs = self._normalize(self._obs)
                x = ad.tensor(obs)
                dist = self.policy.distribution(x)
                values = self.policy.value(x).numpy()
                actions = dist.sample(self.rng)
                log_probs = dist.log_prob(actions).numpy()
                next_obs, rewards, terminated, truncated, info = self.envs.step(self._env_action(actions))
                final_values = None
                if truncated.any():
                    final_obs = self._normalize(info["final_obs"])
                    final_values = self.policy.value(ad.tensor(final_obs)).numpy()
                buffer.add(obs, actions, log_probs, self._scale_rewards(rewards, terminated | truncated), values,
                           terminated, truncated, final_values)
                if self.obs_normalizer is not None:
                    self.obs_normalizer.update(next_obs)
                self._obs = next_obs
                stop = self._record_vector_step(rewards, terminated | truncated, hooks) or stop
            last_values = self.policy.value(ad.tensor(self._normalize(self._obs))).numpy()
        buffer.compute_returns_and_advantages(last_values, hp["gamma"], hp["gae_lambda"])
        return stop

    def _scale_rewards(self, rewards, done):
        return rewards if self.reward_scaler is None else self.reward_scaler(rewards, done)

    def _update(self, clip_coef, minibatch_size):
        hp, stats = self.hp, {}
        params = list(self.policy.parameters())
        for _ in range(hp["update_epochs"]):
            for mb in self.buffer.minibatches(minibatch_size, self.rng):
                x = ad.tensor(mb.obs)
                dist = self.policy.distribution(x)
                values = self.policy.value(x)
                policy_loss, value_loss, entropy, stats = ppo_losses(
                    dist, values, mb.actions, mb.log_probs, mb.values, mb.advantages, mb.returns, clip_coef,
                    hp["clip_value_loss"], hp["normalize_advantages"])
                loss = policy_loss - hp["ent_coef"] * entropy + hp["vf_coef"] * value_loss
                self.optimizer.zero_grad()
                loss.backward()
                clip_grad_norm_(params, hp["max_grad_norm"])
                self.optimizer.step()
            if hp["target_kl"] is not None and stats.get("approx_kl", 0.0) > hp["target_kl"]:
                break
        stats.update(policy_loss=policy_loss.item(), value_loss=value_loss.item(), entropy=entropy.item())
        return stats

    # -- checkpoints -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {**super().state_dict(), "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "episode_returns": self.episode_returns, "episode_lengths": self.episode_lengths}
        if self._obs is not None and hasattr(self.envs, "state_dict"):  # resume mid-episode, exactly
            state["envs"], state["obs"] = self.envs.state_dict(), self._obs
        if self.obs_normalizer is not None:
            state["obs_rms"] = self.obs_normalizer.state_dict()
        if self.reward_scaler is not None:
            state["return_rms"] = self.reward_scaler.state_dict()
            state["discounted_return"] = self.reward_scaler.discounted_return
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.episode_returns = np.array(state["episode_returns"], dtype=np.float64)
        self.episode_lengths = np.array(state["episode_lengths"], dtype=np.int64)
        if "envs" in state:
            self.envs.load_state_dict(state["envs"])
            self._obs = np.array(state["obs"])
        if self.obs_normalizer is not None:
            self.obs_normalizer.load_state_dict(state["obs_rms"])
        if self.reward_scaler is not None:
            self.reward_scaler.load_state_dict(state["return_rms"])
            self.reward_scaler.discounted_return = np.array(state["discounted_return"], dtype=np.float64)


__all__ = ["PPO", "ppo_losses"]
