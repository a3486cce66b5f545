"""What the on-policy actor-critics share (book ch. 5): a vector env of copies, an actor and a critic (separate
MLPs, networks.py), a rollout buffer with GAE (buffers/rollout.py, buffers/gae.py), optional observation
normalization and reward scaling (the normalizers of the wrappers), and the rollout loop. An algorithm file
(a2c.py, ppo.py) adds its hyperparameters, its optimizer (`make_optimizer`) and its update from the rollout.

    run π_θ in num_envs copies for num_steps steps each, storing (S, A, log π(A|S), R, V(S))   `_collect_rollout`
    Â by GAE(γ, λ) (λ = 1: the n-step returns minus V), Ĝ = Â + V                     compute_returns_and_advantages

A truncated episode bootstraps from the value of its true final observation, a terminated one does not;
continuous actions are clipped to the action bounds.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.base import Agent, Hyperparameter
from minirl.algos.networks import ActorCritic, parse_hidden
from minirl.buffers import RolloutBuffer
from minirl.envs import spaces
from minirl.envs.wrappers.normalize import ObservationNormalizer, ReturnScaler

# the hyperparameters of the rollout, the networks and the losses' weights, shared by the on-policy agents
ON_POLICY = {
    "num_envs": Hyperparameter(4, "environment copies stepped together", low=1),
    "num_steps": Hyperparameter(128, "steps per copy in each rollout (rollout size = num_envs × num_steps)", low=1),
    "learning_rate": Hyperparameter(2.5e-4, "the optimizer's step size at the start", above=0.0),
    "anneal_lr": Hyperparameter(True, "decay the learning rate linearly to 0 over training"),
    "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
    "gae_lambda": Hyperparameter(0.95, "λ of GAE: 0 gives one-step TD errors, 1 Monte Carlo returns",
                                 low=0.0, high=1.0),
    "ent_coef": Hyperparameter(0.01, "weight of the entropy bonus", low=0.0),
    "vf_coef": Hyperparameter(0.5, "weight of the value loss", low=0.0),
    "max_grad_norm": Hyperparameter(0.5, "global gradient-norm clip", low=0.0),
    "hidden": Hyperparameter("64,64", "hidden layer sizes of actor and critic"),
    "activation": Hyperparameter("tanh", "tanh or relu", choices=("tanh", "relu")),
    "normalize_obs": Hyperparameter(False, "normalize observations by running mean and std"),
    "normalize_reward": Hyperparameter(False, "scale rewards by the running std of the discounted return"),
    "log_std_init": Hyperparameter(0.0, "initial log std of a Gaussian policy"),
}


def checked_spaces(envs, name: str):
    """The copies' observation and action spaces, as an actor-critic of this chapter needs them: a Box of
    observations and a Box or Discrete action space."""
    obs_space, act_space = envs.single_observation_space, envs.single_action_space
    if not isinstance(obs_space, spaces.Box) or not isinstance(act_space, (spaces.Box, spaces.Discrete)):
        raise TypeError(f"{name}: needs a Box observation space and a Box or Discrete action space, got "
                        f"{obs_space} and {act_space}")
    return obs_space, act_space


class OnPolicyActorCritic(Agent):
    """An actor-critic trained from rollouts of a vector env: subclasses write `make_optimizer` and `_train`."""

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        parse_hidden(values["hidden"], f"{cls.name}.hidden")

    def make_optimizer(self, parameters):
        raise NotImplementedError

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.envs = self.make_vector_env(hp["num_envs"])
        obs_space, act_space = checked_spaces(self.envs, self.name)
        self.policy = ActorCritic(obs_space, act_space, parse_hidden(hp["hidden"]), hp["activation"], rng=self.rng,
                                  log_std_init=hp["log_std_init"])
        self.optimizer = self.make_optimizer(self.policy.parameters())
        self.discrete = isinstance(act_space, spaces.Discrete)
        self.buffer = RolloutBuffer(hp["num_steps"], hp["num_envs"], obs_space.shape,
                                    () if self.discrete else act_space.shape,
                                    action_dtype=np.int64 if self.discrete else np.float32)
        # the normalizers the NormalizeObservation / NormalizeReward wrappers use, held here so that the copies
        # keep raw observations and rewards (the logged returns are the environment's own); an agent whose table
        # lacks these settings (A3C) has neither
        self.obs_normalizer = ObservationNormalizer(obs_space.shape, clip=10.0) if hp.get("normalize_obs") else None
        self.reward_scaler = ReturnScaler(hp["num_envs"], hp["gamma"]) if hp.get("normalize_reward") else None
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

    # -- the rollout -----------------------------------------------------------------------------------------
    def _begin(self) -> None:
        """The copies' first reset (seeded), unless a rollout already left observations (or a checkpoint did)."""
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
            if self.obs_normalizer is not None:
                self.obs_normalizer.update(self._obs)

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
                stop = self._record_vector_step(rewards, terminated, truncated, hooks) or stop
            last_values = self.policy.value(ad.tensor(self._normalize(self._obs))).numpy()
        buffer.compute_returns_and_advantages(last_values, hp["gamma"], hp["gae_lambda"])
        return stop

    def _old_policy(self):
        """π_old, frozen before an update: `old(index)` is the distribution the rollout's policy gave the samples at
        `index` (in `buffer.batch()` order; all of them by default), a constant the update's KL is measured from."""
        with ad.no_grad():
            heads = self.policy.policy_head(ad.tensor(self.buffer.batch().obs)).numpy()
        log_std = None if self.policy.discrete else ad.tensor(self.policy.log_std.numpy().copy())
        return lambda index=slice(None): self.policy.distribution_from(ad.tensor(heads[index]), log_std)

    def _scale_rewards(self, rewards, done):
        return rewards if self.reward_scaler is None else self.reward_scaler(rewards, done)

    # -- checkpoints -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {**super().state_dict(), **self._vector_progress(), "policy": self.policy.state_dict(),
                 "optimizer": self.optimizer.state_dict()}
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
        self._load_vector_progress(state)
        if self.obs_normalizer is not None:
            self.obs_normalizer.load_state_dict(state["obs_rms"])
        if self.reward_scaler is not None:
            self.reward_scaler.load_state_dict(state["return_rms"])
            self.reward_scaler.discounted_return = np.array(state["discounted_return"], dtype=np.float64)


