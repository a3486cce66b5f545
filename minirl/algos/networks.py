"""The networks deep agents share: MLPs with orthogonal initialisation and the actor-critic pair.

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

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def layer(in_features: int, out_features: int, gain: float, rng: np.random.Generator) -> nn.Linear:
    linear = nn.Linear(in_features, out_features, rng=rng)
    nn.init.orthogonal_(linear.weight, gain=gain, rng=rng)
    nn.init.zeros_(linear.bias)
    return linear


def mlp(sizes, rng: np.random.Generator, activation: str = "tanh", output_gain: float = 1.0) -> nn.Sequential:
    """Linear layers of the given sizes with `activation` between them (none after the last)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(layer(n_in, n_out, output_gain if last else math.sqrt(2), rng))
        if not last:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def flat_dim(space) -> int:
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    raise TypeError(f"unsupported space {space}: expected Box or Discrete")


class ActorCritic(nn.Module):
    """A policy π_θ(a|s) and a state-value function V_φ(s) as two separate MLPs (book ch. 5.3: actor and
    critic). Discrete actions get a Categorical over logits; Box actions a DiagGaussian whose log std is a
    state-independent parameter."""

    def __init__(self, observation_space, action_space, hidden=(64, 64), activation="tanh", rng=None,
                 log_std_init: float = 0.0):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        obs_dim = flat_dim(observation_space)
        self.discrete = isinstance(action_space, spaces.Discrete)
        out = action_space.n if self.discrete else flat_dim(action_space)
        self.critic = mlp([obs_dim, *hidden, 1], rng, activation, output_gain=1.0)
        self.actor = mlp([obs_dim, *hidden, out], rng, activation, output_gain=0.01)
        if not self.discrete:
            self.log_std = nn.Parameter(np.full(out, log_std_init, dtype=np.float32))

    def value(self, obs) -> ad.Tensor:
        return self.critic(obs).reshape(-1)

    def distribution(self, obs):
        head = self.actor(obs)
        return Categorical(head) if self.discrete else DiagGaussian(head, self.log_std)
