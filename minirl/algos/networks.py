"""The networks deep agents share: MLPs with orthogonal initialisation, the actor-critic pair, and the parts of
the off-policy actor-critics for continuous actions (book ch. 6): a Q-network on (s, a), a deterministic actor
scaled to the action bounds, and the soft target update.

Orthogonal initialisation with gain √2 for hidden layers, a small gain (0.01) for the policy's output layer
(so the first policy is close to uniform) and 1 for value heads is the setting of the PPO implementation
studies (Engstrom et al. 2020; Huang et al. 2022), and what our learning targets are measured with.
"""

from __future__ import annotations

import math

import numpy as np

import autodiff as ad
from minirl import nn
from minirl.distributions import Categorical, DiagGaussian
from minirl.envs import spaces
from minirl.errors import IncompatibleEnvironmentError

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def layer(in_features: int, out_features: int, gain: float, rng: np.random.Generator) -> nn.Linear:
    linear = nn.Linear(in_features, out_features, rng=rng)
    nn.init.orthogonal_(linear.weight, gain=gain, rng=rng)
    nn.init.zeros_(linear.bias)
    return linear


def mlp(sizes, rng: np.random.Generator, activation: str = "tanh", output_gain: float = 1.0,
        activate_output: bool = False) -> nn.DenseStack:
    """Linear layers of the given sizes with `activation` between them (none after the last, unless
    `activate_output`: a trunk that heads sit on), as one graph node (`nn.DenseStack`; `nn.Sequential` of the
    same layers computes the same, one node per module)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(layer(n_in, n_out, output_gain if last else math.sqrt(2), rng))
        if not last or activate_output:
            layers.append(ACTIVATIONS[activation]())
    return nn.DenseStack(*layers)


def parse_hidden(value, name: str = "hidden") -> tuple[int, ...]:
    """"128,128" → (128, 128): the hidden layer sizes as the command line writes them (`name` for errors)."""
    try:
        sizes = tuple(int(h) for h in str(value).split(",") if h.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise ValueError(f"{name}: expected comma-separated positive layer sizes such as '128,128', got {value!r}")
    return sizes


def flat_dim(space) -> int:
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    raise IncompatibleEnvironmentError(f"unsupported space {space}: expected Box or Discrete")


class ActorCritic(nn.Module):
    """A policy π_θ(a|s) and a critic as two separate MLPs (book ch. 5.3: actor and critic), or, with
    `shared_trunk`, as two linear heads on one MLP trunk that both train (the book: the two networks often share
    their lower layers as a common state representation, L20480). The critic is V_ψ(s), or with `q_critic`
    Q_ψ(s, ·), one output per discrete action. Discrete actions get a Categorical over logits; Box actions a
    DiagGaussian whose log std is a state-independent parameter. The critic's parameters are named `critic.*`,
    the actor's `actor.*` and `log_std`, the shared trunk's `trunk.*`."""

    def __init__(self, observation_space, action_space, hidden=(64, 64), activation="tanh", rng=None,
                 log_std_init: float = 0.0, q_critic: bool = False, shared_trunk: bool = False):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        obs_dim = flat_dim(observation_space)
        self.discrete = isinstance(action_space, spaces.Discrete)
        out = action_space.n if self.discrete else flat_dim(action_space)
        if q_critic and not self.discrete:
            raise ValueError(f"ActorCritic: a Q critic has one output per action and needs a Discrete action space, "
                             f"got {action_space}")
        self.q_critic = q_critic
        critic_outputs = out if q_critic else 1
        if shared_trunk:
            self.trunk = mlp([obs_dim, *hidden], rng, activation, output_gain=math.sqrt(2), activate_output=True)
            self.critic = nn.DenseStack(layer(hidden[-1], critic_outputs, 1.0, rng))
            self.actor = nn.DenseStack(layer(hidden[-1], out, 0.01, rng))
        else:
            self.trunk = None
            self.critic = mlp([obs_dim, *hidden, critic_outputs], rng, activation, output_gain=1.0)
            self.actor = mlp([obs_dim, *hidden, out], rng, activation, output_gain=0.01)
        if not self.discrete:
            self.log_std = nn.Parameter(np.full(out, log_std_init, dtype=np.float32))

    def _features(self, obs):
        return obs if self.trunk is None else self.trunk(obs)

    def _critic(self, features):
        values = self.critic(features)
        return values if self.q_critic else values.reshape(-1)

    def value(self, obs) -> ad.Tensor:
        """V(s), shape (B,); or Q(s, ·), shape (B, n), for a Q critic."""
        return self._critic(self._features(obs))

    def distribution(self, obs):
        return self.distribution_from(self.policy_head(obs))

    def policy_head(self, obs) -> ad.Tensor:
        """The actor's output for s (logits, or the Gaussian's mean), through the trunk if there is one."""
        return self.actor(self._features(obs))

    def distribution_from(self, head, log_std=None):
        """π(·|s) from the actor's output for s (and a log std other than the current one, for a Gaussian)."""
        if self.discrete:
            return Categorical(head)
        return DiagGaussian(head, self.log_std if log_std is None else log_std)

    def distribution_and_value(self, obs):
        """π(·|s) and the critic's output, from one pass through the trunk."""
        features = self._features(obs)
        return self.distribution_from(self.actor(features)), self._critic(features)


class NatureCNN(nn.Module):
    """The convolutional torso of DQN for Atari frames (book ch. 4.3 L18283 and the Q-network of ch. 4.8,
    L19299–19345; Mnih et al. 2015): φ(s) = 4 stacked 84×84 grey frames → 512 features.

        conv 32 kernels 8×8 stride 4 → ReLU     (4, 84, 84) → (32, 20, 20)     (84 − 8)/4 + 1 = 20  (eq. 1.24)
        conv 64 kernels 4×4 stride 2 → ReLU                → (64, 9, 9)        (20 − 4)/2 + 1 = 9
        conv 64 kernels 3×3 stride 1 → ReLU                → (64, 7, 7)         9 − 3 + 1    = 7
        flatten                                            → 3136 = 7·7·64
        linear 3136 → 512 → ReLU                           → out_features = 512

    Input: (B, C, H, W) frames as uint8 (what the replay memory should store: a quarter of float32's bytes) or
    float, scaled by 1/255 here, as the book's network does. A head on top gives one Q-value per action
    (DQN: ``Linear(512, |A|)``). All weights are orthogonal with gain √2 and biases 0, as `layer` does for MLPs.
    `in_channels` is the number of stacked frames (the observation space's shape[0]); `image_size` (H, W) other
    than 84×84 changes the flattened size.
    """

    out_features = 512

    def __init__(self, in_channels: int = 4, rng: np.random.Generator | None = None, image_size=(84, 84)):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        height, width = (int(n) for n in image_size)
        self.input_shape = (int(in_channels), height, width)
        for kernel, stride in ((8, 4), (4, 2), (3, 1)):
            height, width = (height - kernel) // stride + 1, (width - kernel) // stride + 1  # eq. 1.24, no padding
        if height < 1 or width < 1:
            raise ValueError(f"NatureCNN: frames of {tuple(image_size)} are too small for its three convolutions")
        self.cnn = nn.Sequential(
            nn.Conv2d(in_channels, 32, 8, stride=4, rng=rng), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2, rng=rng), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1, rng=rng), nn.ReLU(),
            nn.Flatten(),
        )
        self.flat_features = 64 * height * width  # 3136 for 84×84 frames
        self.linear = nn.DenseStack(layer(self.flat_features, self.out_features, math.sqrt(2), rng), nn.ReLU())
        for conv in self.cnn[0], self.cnn[2], self.cnn[4]:
            nn.init.orthogonal_(conv.weight, gain=math.sqrt(2), rng=rng)
            nn.init.zeros_(conv.bias)

    def forward(self, frames) -> ad.Tensor:
        if isinstance(frames, ad.Tensor):
            x = (frames if frames.dtype == np.float32 else frames.astype(np.float32)) / 255.0
        else:
            x = ad.tensor(np.asarray(frames, dtype=np.float32) / np.float32(255.0))
        if x.ndim != 4 or x.shape[1:] != self.input_shape:
            raise ValueError(f"NatureCNN: expected frames of shape (B, {', '.join(map(str, self.input_shape))}), "
                             f"got {x.shape}")
        return self.linear(self.cnn(x))


def soft_update(pairs, tau: float) -> None:
    """θ' ← τθ + (1 − τ)θ' for each (target θ', online θ) pair of parameters, written θ' += τ(θ − θ') (book
    (6.7)–(6.8); τ = 1 is DQN's hard copy). τ is the weight of the *online* parameters throughout minirl (the book's
    SAC box writes the retained weight instead)."""
    for target, online in pairs:
        if tau == 1.0:
            target.data[...] = online.data
        else:
            target.data += tau * (online.data - target.data)


def check_replay_settings(name: str, values: dict) -> None:
    """The settings the off-policy actor-critics (DDPG, TD3, SAC) share that are checked together: a replay memory
    that holds at least one batch. (τ's range, (0, 1], is its own: 0 would never move the targets.)"""
    if values["buffer_size"] < values["batch_size"]:
        raise ValueError(f"{name}.buffer_size: the replay memory ({values['buffer_size']}) must hold at least one "
                         f"batch (batch_size = {values['batch_size']})")


def check_bounded(action_space, who: str) -> None:
    """A Box of finite bounds, as an actor that squashes into them needs; a clear error otherwise."""
    if not isinstance(action_space, spaces.Box):
        raise IncompatibleEnvironmentError(f"{who}: needs continuous actions (a Box action space), got {action_space}")
    if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
        raise ValueError(f"{who}: squashes its actions into the bounds of the action space, which must be finite; "
                         f"got low={action_space.low}, high={action_space.high}")


class StateActionQ(nn.Module):
    """Q_w(s, a): an MLP on the concatenated observation and action, one output (book ch. 6.1, the critic of
    DDPG, TD3 and SAC)."""

    def __init__(self, observation_space, action_space, hidden=(256, 256), activation="relu", rng=None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.q = mlp([flat_dim(observation_space) + flat_dim(action_space), *hidden, 1], rng, activation)

    def forward(self, obs, action) -> ad.Tensor:
        obs, action = (x if isinstance(x, ad.Tensor) else ad.tensor(np.asarray(x, dtype=np.float32))
                       for x in (obs, action))
        return self.q(ad.concatenate([obs, action], axis=-1)).reshape(-1)


class DeterministicActor(nn.Module):
    """μ_θ(s) = center + half_range · tanh(MLP(s)): a deterministic policy inside finite action bounds (DDPG,
    TD3)."""

    def __init__(self, observation_space, action_space, hidden=(256, 256), activation="relu", rng=None):
        super().__init__()
        check_bounded(action_space, "DeterministicActor")
        rng = np.random.default_rng() if rng is None else rng
        self.mu = mlp([flat_dim(observation_space), *hidden, flat_dim(action_space)], rng, activation)
        low, high = action_space.low.astype(np.float32), action_space.high.astype(np.float32)
        self.center, self.half_range = (high + low) / 2, (high - low) / 2

    def forward(self, obs) -> ad.Tensor:
        obs = obs if isinstance(obs, ad.Tensor) else ad.tensor(np.asarray(obs, dtype=np.float32))
        return ad.tanh(self.mu(obs)) * ad.tensor(self.half_range) + ad.tensor(self.center)
