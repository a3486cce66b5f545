"""SAC: soft actor-critic, maximum-entropy off-policy learning with twin soft Q-networks (book ch. 6.4, Algorithm 6.28,
appendix B.66; Haarnoja et al. 2018), for continuous actions and, with exact expectations, for discrete ones
(Christodoulou 2019). The box, line by line:

    D = ∅; φ̃_i = φ_i for i = 1, 2                                            `__init__`
    for each step: sample A_t ~ π_θ(·|S_t), store (S_t, A_t, R_t, S_{t+1}) in D  `_train`
    gradient steps on a minibatch from D:                                     `_train_step`
        φ_i ← φ_i − λ_Q ∇J_Q(φ_i),  i = 1, 2                                  (6.25)  `soft_targets`, `critic_loss`
        θ ← θ − λ_π ∇J_π(θ)                                                   (6.26)–(6.28)  `policy_loss`
        α ← α − λ_α ∇J(α)                                                     (6.29)  `temperature_loss`
        φ̃_i ← τ φ_i + (1 − τ) φ̃_i                                             `soft_update`

The pieces, each beside its equation below:

- the soft Bellman target (6.25) y = R + γ (1 − terminated) V̄(S') with V̄(s') = E_{a'~π}[min_i Q̃_i(s', a') −
  α log π(a'|s')]: the minimum of the two target networks (as TD3's clipped double Q) and the entropy bonus. For
  continuous actions V̄ is estimated with one a' ~ π(·|S'); for discrete actions the sum over a' is exact.
- the policy: a = c + h ⊙ tanh(u), u ~ N(μ_θ(s), σ_θ(s)²) (6.27), μ and log σ from one network, log σ clipped to
  [−20, 2] so that σ neither vanishes nor explodes; c and h are the centre and half-width of the action bounds
  (an unbounded Box is refused). By the change of variables
      log π(a|s) = log N(u; μ, σ²) − Σ_i log(1 − tanh² u_i) − Σ_i log h_i,
  the last term the log-determinant of the scaling. It is a constant: it moves no gradient of θ or φ, but it is
  part of the entropy of the actions the environment receives, so κ (and the soft values) are measured in the
  environment's units. J_π (6.28) is differentiated through a = f_θ(s, ε), ε ~ N(0, I) (the reparameterisation,
  SVG(0)), and through both Q-networks, whose weights are frozen meanwhile. Discrete actions: a Categorical
  π_θ(·|s) and J_π = E_s[Σ_a π(a|s)(α log π(a|s) − min_i Q_i(s, a))], exact, with no sampling at all.
- the temperature (6.29): J(α) = E[−α log π(a|s) − α κ], whose gradient is H − κ with H = −E[log π] the policy's
  entropy: α falls while the entropy is above the target κ and rises while it is below. As Haarnoja et al.'s code
  does, log α is the parameter (α stays positive) and the loss is −log α · (log π + κ), whose gradient has the
  same sign. κ = −dim(A) for continuous actions (their heuristic); for discrete actions κ = ratio · log|A|,
  a fraction of the largest entropy, that of the uniform policy. `autotune=False` keeps α fixed.
- τ: throughout minirl τ is the weight of the *online* parameters, φ̃ ← τφ + (1 − τ)φ̃, so a small τ is a slow
  target. The book's box writes the retained weight instead, φ̃ ← (1 − τ)φ + τφ̃: its τ is our 1 − τ.

Only termination stops the bootstrap; a time limit (truncation) does not, and the stored next observation of a
copy whose episode ended is its true final observation (info["final_obs"]), not the reset one.

Exploration with `sde=True` (generalized state-dependent exploration, gSDE; Raffin et al. 2022, not in the book):
noise drawn afresh at every step averages out over a few steps, which is why SAC never rocks the car of
MountainCarContinuous up its hill. gSDE makes the noise a function of the state instead: u = μ_θ(s) + z(s)ᵀθ_ε,
z(s) the policy's last hidden layer and θ_ε a matrix with entries N(0, σ_jk²) redrawn only at the start of each
training round, so that one state always gets the same push within a round and the car swings. Given s, u is
Gaussian with variance Σ_j z_j(s)² σ_jk² per action k, and log π(a|s) follows as above (`StateDependentPolicy`).
"""

from __future__ import annotations

import copy
import math

import numpy as np

import autodiff as ad
from minirl import nn
from minirl.algos.base import Agent, Hyperparameter
from minirl.algos.dqn import _crossed
from minirl.algos.networks import (StateActionQ, check_bounded, check_replay_settings, flat_dim, mlp, parse_hidden,
                                   soft_update)
from minirl.algos.q_networks import as_batch, as_input
from minirl.buffers import ReplayBuffer
from minirl.distributions import Categorical, TanhGaussian
from minirl.distributions.gaussian import log1m_tanh_squared
from minirl.envs import spaces
from minirl.errors import ConfigurationError, IncompatibleEnvironmentError
from minirl.nn.loss import mse_loss
from minirl.optim.adam import Adam

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # the clip of log σ_θ(s) (Haarnoja et al.; the book's code)


def soft_targets(rewards, discounts, terminated, next_value):
    """y = R + γ (1 − terminated) V̄(S')  (6.25); `discounts` is γ per transition, as the replay memory stores it."""
    return rewards + discounts * (1.0 - terminated) * next_value


def soft_value_sampled(next_q1, next_q2, next_log_prob, alpha):
    """V̄(s') ≈ min_i Q̃_i(s', a') − α log π(a'|s') with one a' ~ π(·|s') (continuous actions)."""
    return np.minimum(next_q1, next_q2) - alpha * next_log_prob


def soft_value_exact(next_q1, next_q2, next_log_probs, alpha):
    """V̄(s') = Σ_a' π(a'|s') (min_i Q̃_i(s', a') − α log π(a'|s')) (discrete actions: the sum is exact)."""
    return (np.exp(next_log_probs) * (np.minimum(next_q1, next_q2) - alpha * next_log_probs)).sum(axis=-1)


class BoundedPolicy(nn.Module):
    """What the continuous policies share: actions a = c + h ⊙ tanh(u) inside the bounds of a Box, c and h its
    centre and half-width, and the constant Σ_i log h_i that the scaling adds to −log π."""

    def __init__(self, action_space):
        super().__init__()
        check_bounded(action_space, "sac")
        self.action_dim = flat_dim(action_space)
        low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
        self.center, self.half_range = (high + low) / 2, (high - low) / 2
        self.log_scale = float(np.log(self.half_range).sum())  # Σ_i log h_i, the log-determinant of the scaling

    def squash(self, u: np.ndarray) -> np.ndarray:
        """c + h ⊙ tanh(u) on arrays (acting)."""
        return self.center + self.half_range * np.tanh(u)

    def scale(self, squashed: ad.Tensor) -> ad.Tensor:
        """c + h ⊙ t for t = tanh(u) in the graph (training)."""
        return squashed * ad.tensor(self.half_range) + ad.tensor(self.center)


class SquashedGaussianPolicy(BoundedPolicy):
    """π_θ(·|s): a = c + h ⊙ tanh(u), u ~ N(μ_θ(s), σ_θ(s)²) (6.27); one MLP outputs μ and log σ (clipped)."""

    def __init__(self, observation_space, action_space, hidden, activation, rng):
        super().__init__(action_space)
        self.net = mlp([flat_dim(observation_space), *hidden, 2 * self.action_dim], rng, activation, output_gain=0.01)

    def distribution(self, obs) -> TanhGaussian:
        out = self.net(obs)
        log_std = ad.clip(out[:, self.action_dim:], LOG_STD_MIN, LOG_STD_MAX)
        return TanhGaussian(out[:, :self.action_dim], log_std)

    def rsample(self, obs, rng):
        """a = f_θ(s, ε) and log π(a|s), differentiable in θ (6.27): the tanh sample scaled into the bounds."""
        squashed, log_prob = self.distribution(obs).rsample_and_log_prob(rng)
        return self.scale(squashed), log_prob - self.log_scale

    def head(self, obs) -> np.ndarray:
        """The network's output [μ, log σ] for a batch (arrays, no graph)."""
        return self.net.infer(obs)

    def act(self, head: np.ndarray, rng=None) -> np.ndarray:
        """Actions from the network's output (arrays): a sample, or with no `rng` the mode c + h ⊙ tanh(μ)."""
        mean = head[:, :self.action_dim]
        if rng is not None:
            log_std = np.clip(head[:, self.action_dim:], LOG_STD_MIN, LOG_STD_MAX)
            mean = mean + np.exp(log_std) * rng.standard_normal(mean.shape).astype(mean.dtype)
        return self.squash(mean)


class StateDependentPolicy(BoundedPolicy):
    """π_θ(·|s) with gSDE: a = c + h ⊙ tanh(u), u = μ_θ(s) + z(s)ᵀθ_ε, θ_ε ~ N(0, σ²) entrywise (see the module's
    docstring). z(s) is the trunk's last hidden layer; σ = exp(log_std), one learned σ_jk per feature j and action
    k; μ is clipped to [−2, 2] (tanh saturates beyond, as in Raffin et al.'s code). The features z enter the
    noise as constants: the noise moves σ, not the trunk."""

    MEAN_CLIP = 2.0
    VARIANCE_FLOOR = 1e-6  # keeps log of the variance finite where every feature is 0 (ReLU)

    def __init__(self, observation_space, action_space, hidden, activation, rng, log_std_init: float):
        super().__init__(action_space)
        features = hidden[-1]
        self.trunk = mlp([flat_dim(observation_space), *hidden], rng, activation, activate_output=True)  # z(s)
        self.mean = mlp([features, self.action_dim], rng, output_gain=0.01)  # μ_θ(s) from z(s)
        self.log_std = nn.Parameter(np.full((features, self.action_dim), log_std_init, dtype=np.float32))
        self.register_buffer("exploration_matrix", np.zeros((features, self.action_dim), dtype=np.float32))  # θ_ε

    def resample(self, rng) -> None:
        """θ_ε ← σ ⊙ ε, ε ~ N(0, I): the exploration of the next training round."""
        noise = rng.standard_normal(self.log_std.shape).astype(np.float32)
        self.exploration_matrix.data[...] = np.exp(self.log_std.data) * noise

    def head(self, obs) -> np.ndarray:
        """[μ_θ(s), z(s)] for a batch (arrays, no graph)."""
        features = self.trunk.infer(obs)
        return np.concatenate([self.mean.infer(features), features], axis=1)

    def act(self, head: np.ndarray, rng=None) -> np.ndarray:
        """The mode c + h ⊙ tanh(μ) or, with `rng` (exploring), c + h ⊙ tanh(μ + zᵀθ_ε) under the current θ_ε."""
        u = np.clip(head[:, :self.action_dim], -self.MEAN_CLIP, self.MEAN_CLIP)
        if rng is not None:
            u = u + head[:, self.action_dim:] @ self.exploration_matrix.data
        return self.squash(u)

    def rsample(self, obs, rng):
        """a = f_θ(s, ε) and log π(a|s) for a batch, with one fresh θ_ε = σ ⊙ ε for the whole batch, differentiable
        in the trunk and μ (through u) and in σ (through θ_ε and the variance)."""
        features = self.trunk(obs)
        mean = ad.clip(self.mean(features), -self.MEAN_CLIP, self.MEAN_CLIP)
        z = ad.tensor(features.numpy())  # z(s) as a constant
        sigma = ad.exp(self.log_std)
        theta = sigma * ad.tensor(rng.standard_normal(self.log_std.shape).astype(np.float32))  # θ_ε = σ ⊙ ε
        noise = z @ theta                                                 # zᵀθ_ε
        variance = (z * z) @ (sigma * sigma) + self.VARIANCE_FLOOR         # Var[u_k | s] = Σ_j z_j² σ_jk²
        u = mean + noise
        log_normal = (-0.5 * noise * noise / variance - 0.5 * ad.log(2 * math.pi * variance)).sum(axis=-1)
        log_prob = log_normal - log1m_tanh_squared(u).sum(axis=-1) - self.log_scale
        return self.scale(ad.tanh(u)), log_prob


class CategoricalPolicy(nn.Module):
    """π_θ(·|s) = softmax of one MLP's logits over the |A| actions."""

    def __init__(self, observation_space, num_actions, hidden, activation, rng):
        super().__init__()
        self.net = mlp([flat_dim(observation_space), *hidden, num_actions], rng, activation, output_gain=0.01)

    def distribution(self, obs) -> Categorical:
        return Categorical(self.net(obs))

    def head(self, obs) -> np.ndarray:
        """The logits for a batch (arrays, no graph)."""
        return self.net.infer(obs)

    def act(self, head: np.ndarray, rng=None) -> np.ndarray:
        """Actions from the logits (arrays): a sample (Gumbel-max), or with no `rng` the most probable action."""
        if rng is not None:
            head = head - np.log(-np.log(rng.uniform(np.finfo(np.float32).tiny, 1.0, head.shape)))
        return np.argmax(head, axis=-1)


class SAC(Agent):
    """Soft actor-critic (Algorithm 6.28): twin soft Q-networks, a stochastic policy, automatic entropy tuning."""

    name = "sac"
    hyperparameters = {
        "num_envs": Hyperparameter(1, "environment copies stepped together", low=1),
        "buffer_size": Hyperparameter(100_000, "N, the replay memory's capacity", low=1),
        "learning_rate": Hyperparameter(3e-4, "λ_Q = λ_π = λ_α, Adam's step size for critics, policy and α",
                                        above=0.0),
        "batch_size": Hyperparameter(256, "transitions per gradient step", low=1),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "tau": Hyperparameter(0.005, "target update φ̃ ← τφ + (1 − τ)φ̃ after every gradient step, τ in (0, 1]",
                              above=0.0, high=1.0),
        "learning_starts": Hyperparameter(100, "steps of uniformly random actions before learning begins", low=0),
        "train_frequency": Hyperparameter(1, "environment steps between training rounds", low=1),
        "gradient_steps": Hyperparameter(1, "gradient steps per training round", low=1),
        "alpha": Hyperparameter(1.0, "α, the entropy temperature: its start with autotune, else fixed", low=0.0),
        "autotune": Hyperparameter(True, "learn α toward the target entropy κ (6.29)"),
        "target_entropy": Hyperparameter(None, "κ; None: −dim(A) for Box actions, ratio · log|A| for Discrete",
                                         kind=float),
        "target_entropy_ratio": Hyperparameter(0.98, "discrete actions: κ as a fraction of log|A|",
                                               low=0.0, high=1.0),
        "hidden": Hyperparameter("256,256", "hidden layer sizes of the policy and of each Q-network"),
        "activation": Hyperparameter("relu", "relu or tanh", choices=("relu", "tanh")),
        "sde": Hyperparameter(False, "gSDE: state-dependent exploration noise z(s)ᵀθ_ε, θ_ε redrawn every training "
                                     "round (continuous actions)"),
        "sde_log_std_init": Hyperparameter(-3.0, "gSDE: the starting log σ of θ_ε's entries"),
    }
    default_steps = {"Pendulum-v1": 10_000, "MountainCarContinuous-v0": 50_000, "CartPole-v1": 100_000}
    env_defaults = {
        # rl-zoo's Pendulum-v1 (Stable-Baselines3's defaults, learning rate 1e-3) with 64-64 networks, four times
        # faster here than 256-256: the final policy scored -123 to -134 on seeds 0-4 after 10k steps
        "Pendulum-v1": {"learning_rate": 1e-3, "hidden": "64,64"},
        # rl-zoo's tuned settings, with its state-dependent exploration (gSDE). Without gSDE they do not learn: noise
        # drawn afresh at every step does not rock the car up the hill, and the policy learns to stand still (final
        # return 0 on seed 0 after 50k steps)
        "MountainCarContinuous-v0": {"learning_rate": 3e-4, "buffer_size": 50_000, "batch_size": 512,
                                     "autotune": False, "alpha": 0.1, "train_frequency": 32, "gradient_steps": 32,
                                     "gamma": 0.9999, "tau": 0.01, "learning_starts": 0, "hidden": "64,64",
                                     "sde": True, "sde_log_std_init": -3.67},
        # discrete SAC. The entropy bonus α H(π) is paid on every step the pole stays up, so it rewards survival
        # too; with κ = 0.8 log 2 the temperature settles near 100-200 and the final policy scored 476, 444, 435,
        # 480, 491 on seeds 0-4 after 50k steps, and 499.9, 483.1, 487.2, 500, 499.8 after 100k (the default run;
        # κ = 0.98 log 2, Christodoulou's choice, learns faster on seed 0, but α grows without bound; κ = 0.5 or
        # 0.2 log 2 stalled near 250)
        "CartPole-v1": {"hidden": "64,64", "batch_size": 64, "learning_starts": 1000, "target_entropy_ratio": 0.8},
    }

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        parse_hidden(values["hidden"], f"{cls.name}.hidden")
        check_replay_settings(cls.name, values)
        if values["autotune"] and values["alpha"] <= 0.0:
            raise ValueError(f"{cls.name}.alpha: autotune learns log α, so the starting α must be positive, got "
                             f"{values['alpha']!r}")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.envs = self.make_vector_env(hp["num_envs"])
        obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        if not isinstance(obs_space, spaces.Box):
            raise IncompatibleEnvironmentError(f"{self.name}: needs a Box observation space, got {obs_space}")
        hidden, activation = parse_hidden(hp["hidden"]), hp["activation"]
        self.discrete = isinstance(act_space, spaces.Discrete)
        if self.discrete and hp["sde"]:
            raise ConfigurationError(f"{self.name}.sde: state-dependent exploration perturbs continuous actions; "
                                     f"{self.env_id} has {act_space}", "drop sde for discrete actions")
        if self.discrete:  # one Q-value per action: Q(s, ·)
            self.num_actions = int(act_space.n)
            self.policy = CategoricalPolicy(obs_space, self.num_actions, hidden, activation, self.rng)
            self.q1, self.q2 = (mlp([flat_dim(obs_space), *hidden, self.num_actions], self.rng, activation)
                                for _ in range(2))
            kappa = hp["target_entropy_ratio"] * math.log(self.num_actions)
            action_shape, action_dtype = (), np.int64
        else:
            check_bounded(act_space, self.name)
            if hp["sde"]:
                self.policy = StateDependentPolicy(obs_space, act_space, hidden, activation, self.rng,
                                                   hp["sde_log_std_init"])
            else:
                self.policy = SquashedGaussianPolicy(obs_space, act_space, hidden, activation, self.rng)
            self.q1, self.q2 = (StateActionQ(obs_space, act_space, hidden, activation, self.rng) for _ in range(2))
            kappa = -float(flat_dim(act_space))
            action_shape, action_dtype = act_space.shape, np.float32
        self.target_entropy = kappa if hp["target_entropy"] is None else float(hp["target_entropy"])
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)  # φ̃_i = φ_i
        self._critic_parameters = [*self.q1.parameters(), *self.q2.parameters()]
        self._target_pairs = [*zip(self.q1_target.parameters(), self.q1.parameters()),
                              *zip(self.q2_target.parameters(), self.q2.parameters())]
        lr = hp["learning_rate"]
        self.critic_optimizer = Adam(self._critic_parameters, lr=lr, fused=True)
        self.policy_optimizer = Adam(list(self.policy.parameters()), lr=lr, fused=True)
        self.log_alpha = nn.Parameter(np.array([math.log(hp["alpha"]) if hp["alpha"] > 0 else -np.inf],
                                               dtype=np.float32))
        self.alpha_optimizer = Adam([self.log_alpha], lr=lr)
        self.buffer = ReplayBuffer(hp["buffer_size"], obs_space.shape, action_shape, obs_dtype=obs_space.dtype,
                                   action_dtype=action_dtype, num_envs=hp["num_envs"], gamma=hp["gamma"],
                                   seed=self.rng)
        self.action_space = act_space
        self._obs = None
        self.episode_returns = np.zeros(hp["num_envs"])
        self.episode_lengths = np.zeros(hp["num_envs"], dtype=np.int64)
        self.last_losses = None

    @property
    def alpha(self) -> float:
        return float(np.exp(self.log_alpha.data[0]))

    # -- acting -----------------------------------------------------------------------------------------
    def _policy_head(self, obs) -> np.ndarray:
        """The policy network's output for a batch (arrays), refused when not finite: a NaN action would reach
        the environment, which clips or casts it without a word."""
        head = self.policy.head(as_input(obs))
        if not np.all(np.isfinite(head)):
            raise FloatingPointError(f"{self.name}: the actor (policy network) gave non-finite outputs at step "
                                     f"{self.num_timesteps}: {int((~np.isfinite(head)).sum())} of {head.size} "
                                     f"values; training diverged (try a lower learning_rate)")
        return head

    def act(self, obs, deterministic: bool = True):
        """The policy's mode (c + h ⊙ tanh μ_θ(s), or argmax_a π(a|s)); with `deterministic=False`, a sample."""
        single = np.ndim(obs) == len(self.envs.single_observation_space.shape)
        batch = np.asarray(obs)[None] if single else obs
        actions = self.policy.act(self._policy_head(batch), None if deterministic else self.rng)
        return (int(actions[0]) if self.discrete else actions[0]) if single else actions

    def _random_actions(self, n: int) -> np.ndarray:
        """n uniformly random actions (the play before learning starts)."""
        if self.discrete:
            return self.rng.integers(self.num_actions, size=n)
        low, high = self.action_space.low, self.action_space.high
        return (low + (high - low) * self.rng.random((n, *low.shape))).astype(np.float32)

    # -- training ---------------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        hp, n = self.hp, self.hp["num_envs"]
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
        while self.num_timesteps < total_steps:
            if hp["sde"] and self.num_timesteps // n % hp["train_frequency"] == 0:
                self.policy.resample(self.rng)  # gSDE: a new θ_ε for the round
            if self.num_timesteps < hp["learning_starts"]:
                actions = self._random_actions(n)
            else:
                actions = self.act(self._obs, deterministic=False)  # A_t ~ π_θ(·|S_t)
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions)
            real_next = info["final_obs"] if "final_obs" in info else next_obs  # the true s' of ended copies
            self.buffer.add(self._obs, actions, rewards, real_next, terminated, truncated)
            self._obs = next_obs
            stop = self._record_vector_step(rewards, terminated, truncated, hooks)
            if self.num_timesteps > hp["learning_starts"] and _crossed(self.num_timesteps, n,
                                                                        hp["train_frequency"]):
                for _ in range(hp["gradient_steps"]):
                    self.last_losses = self._train_step()
            hooks.on_boundary(self)  # the whole state, environments included, is in state_dict() here
            if stop:
                return

    def _train_step(self) -> dict:
        batch = self.buffer.sample(self.hp["batch_size"])
        alpha = self.alpha  # the α of this step, for the critics' target and the policy alike
        critic_loss = self.critic_loss(batch, alpha)
        self.critic_optimizer.zero_grad()
        critic_loss.backward()
        self.critic_optimizer.step()  # φ_i ← φ_i − λ_Q ∇J_Q(φ_i)

        with self.q1.frozen(), self.q2.frozen():  # J_π flows through Q into a, not into φ
            policy_loss, entropy = self.policy_loss(batch.obs, alpha)
            self.policy_optimizer.zero_grad()
            policy_loss.backward()
        self.policy_optimizer.step()  # θ ← θ − λ_π ∇J_π(θ)

        if self.hp["autotune"]:
            alpha_loss = self.temperature_loss(entropy)
            self.alpha_optimizer.zero_grad()
            alpha_loss.backward()
            self.alpha_optimizer.step()  # α ← α − λ_α ∇J(α)
        soft_update(self._target_pairs, self.hp["tau"])  # φ̃_i ← τφ_i + (1 − τ)φ̃_i
        return {"critic_loss": critic_loss.item(), "policy_loss": policy_loss.item(), "entropy": entropy,
                "alpha": alpha}

    def soft_target(self, batch, alpha: float) -> np.ndarray:
        """y = R + γ (1 − terminated) V̄(S') (6.25), V̄ from the target networks and the current policy."""
        next_obs = as_input(batch.next_obs)
        with ad.no_grad():
            if self.discrete:
                next_log_probs = self.policy.distribution(next_obs).log_probs.numpy()
                next_value = soft_value_exact(self.q1_target.infer(next_obs), self.q2_target.infer(next_obs),
                                              next_log_probs, alpha)
            else:
                next_actions, next_log_prob = self.policy.rsample(as_batch(next_obs), self.rng)  # a' ~ π(·|S')
                next_value = soft_value_sampled(self.q1_target(next_obs, next_actions).numpy(),
                                                self.q2_target(next_obs, next_actions).numpy(),
                                                next_log_prob.numpy(), alpha)
        return soft_targets(batch.rewards, batch.discounts, batch.terminated.astype(np.float32),
                            next_value).astype(np.float32)

    def _q_taken(self, q, obs, actions) -> ad.Tensor:
        """Q_φ(S, A) for the stored actions: the network on (s, a), or the entry A of Q_φ(s, ·)."""
        if self.discrete:
            return ad.take_along_axis(q(obs), actions.astype(np.int64)[:, None], axis=1).reshape(-1)
        return q(obs, ad.tensor(actions))

    def critic_loss(self, batch, alpha: float) -> ad.Tensor:
        """J_Q(φ_1) + J_Q(φ_2): each network's mean squared soft Bellman residual (Q_φi(S, A) − y)² (6.25)."""
        y = ad.tensor(self.soft_target(batch, alpha))
        obs = as_batch(batch.obs)
        return mse_loss(self._q_taken(self.q1, obs, batch.actions), y) + \
            mse_loss(self._q_taken(self.q2, obs, batch.actions), y)

    def policy_loss(self, obs, alpha: float):
        """J_π(θ) (6.26) as a batch mean, and the policy's entropy H = −E[log π] (a float, for the α step).

        Continuous: α log π(f_θ(s, ε)|s) − min_i Q_i(s, f_θ(s, ε)), one ε ~ N(0, I) per state (6.28).
        Discrete:   Σ_a π(a|s) (α log π(a|s) − min_i Q_i(s, a)), exact."""
        obs = as_batch(obs)
        if self.discrete:
            dist = self.policy.distribution(obs)
            min_q = np.minimum(self.q1.infer(obs), self.q2.infer(obs))
            loss = (dist.probs * (alpha * dist.log_probs - ad.tensor(min_q))).sum(axis=-1).mean()
            return loss, float(dist.entropy().numpy().mean())
        actions, log_prob = self.policy.rsample(obs, self.rng)
        min_q = ad.minimum(self.q1(obs, actions), self.q2(obs, actions))
        return (alpha * log_prob - min_q).mean(), float(-log_prob.numpy().mean())

    def temperature_loss(self, entropy: float) -> ad.Tensor:
        """−log α · (log π + κ) averaged, i.e. log α · (H − κ): the gradient H − κ has the sign of ∂J(α)/∂α (6.29),
        so α falls while the entropy H is above κ and rises while it is below."""
        return (self.log_alpha * (entropy - self.target_entropy)).sum()

    # -- checkpoints ------------------------------------------------------------------------------------
    NETWORKS = ("policy", "q1", "q2", "q1_target", "q2_target")
    OPTIMIZERS = ("critic_optimizer", "policy_optimizer", "alpha_optimizer")

    def state_dict(self) -> dict:
        state = {**super().state_dict(), **self._vector_progress(), **{name: getattr(self, name).state_dict() for name in self.NETWORKS},
                 **{name: getattr(self, name).state_dict() for name in self.OPTIMIZERS},
                 "log_alpha": self.log_alpha.data.copy(), "buffer": self.buffer.state_dict()}
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        for name in (*self.NETWORKS, *self.OPTIMIZERS):
            getattr(self, name).load_state_dict(state[name])
        self.log_alpha.data[...] = state["log_alpha"]
        self.buffer.load_state_dict(state["buffer"])
        self._load_vector_progress(state)
