"""The Q-network of the DQN family: a torso, then a head of |A| × N outputs (book ch. 4.3, 4.5, 4.7).

One class serves every agent of chapter 4, switch by switch:

- the torso: an MLP on vector observations, the Nature CNN of §4.8 on stacked frames (C, H, W);
- the head: |A| outputs per atom, N = 1 atom for DQN (Q itself), N = 51 probabilities' logits for C51 (4.21),
  N quantiles for QR-DQN (4.26);
- `dueling`: the head splits into a state value V(s) and advantages A(s, a), recombined by (4.13) or (4.14),
  atom by atom (4.23 for C51);
- `noisy`: the head's layers are `NoisyLinear` (4.19), so exploration comes from the weights; the torso stays
  deterministic (as the convolutions of the Atari Rainbow do), which keeps the noise where it chooses actions and
  the cost of the noise small.

`forward(obs)` returns (B, |A|) when N = 1, else (B, |A|, N): the agents turn that into Q-values themselves.
"""

from __future__ import annotations

import math

import numpy as np

import autodiff as ad
import kernels
from minirl import nn
from minirl.algos.networks import ACTIVATIONS, flat_dim, layer
from minirl.envs import spaces

DUELING = ("none", "mean", "max")


def dueling_aggregate(values, advantages, mode: str = "mean"):
    """Q = V + A − mean_a A (4.14) or Q = V + A − max_a A (4.13), over the action axis 1.

    Q = V + A alone (4.12) is unidentifiable (V + c and A − c give the same Q); subtracting the mean or the max
    of A pins it down. `values` (B, 1, ...) and `advantages` (B, |A|, ...), Tensors or arrays."""
    if mode == "mean":
        return values + advantages - advantages.mean(axis=1, keepdims=True)  # (4.14)
    if mode == "max":
        return values + advantages - advantages.max(axis=1, keepdims=True)   # (4.13)
    raise ValueError(f"dueling: expected 'mean' or 'max', got {mode!r}")


class QNetwork(nn.Module):
    """Q(s, ·; θ) with an MLP or Nature-CNN torso and a plain or dueling head of |A| × `num_atoms` outputs."""

    def __init__(self, observation_space, num_actions: int, hidden=(64, 64), activation: str = "relu",
                 rng=None, num_atoms: int = 1, dueling: str = "none", noisy: bool = False):
        super().__init__()
        if dueling not in DUELING:
            raise ValueError(f"QNetwork: dueling must be one of {DUELING}, got {dueling!r}")
        rng = np.random.default_rng() if rng is None else rng
        self.num_actions, self.num_atoms, self.dueling, self.noisy = int(num_actions), int(num_atoms), dueling, noisy

        def head(n_in, n_out):
            return nn.NoisyLinear(n_in, n_out, rng=rng) if noisy else layer(n_in, n_out, 1.0, rng)

        if isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 3:  # stacked frames
            from minirl.algos.networks import NatureCNN

            self.torso = NatureCNN(observation_space.shape[0], rng=rng)
            features = self.torso.out_features
        else:
            layers, features = [], flat_dim(observation_space)
            for width in hidden:
                layers += [layer(features, width, math.sqrt(2), rng), ACTIVATIONS[activation]()]
                features = width
            self.torso = nn.DenseStack(*layers)  # one graph node (hidden is never empty: `parse_hidden`)
        outputs = self.num_actions * self.num_atoms
        if dueling == "none":
            self.head = head(features, outputs)
        else:
            self.value_head = head(features, self.num_atoms)  # V(s): one value per atom
            self.advantage_head = head(features, outputs)     # A(s, a)
        self.noisy_layers = [module for module in self.modules() if isinstance(module, nn.NoisyLinear)]
        # dense layers all the way, head included (not the CNN, not noisy layers): one DenseStack computes them
        self._dense = isinstance(self.torso, nn.DenseStack) and dueling == "none" and type(self.head) is nn.Linear

    def forward(self, obs):
        if self._dense:  # the torso's layers and the head: one graph node
            out = self.torso(obs, head=self.head)
            return out if self.num_atoms == 1 else out.reshape(out.shape[0], self.num_actions, self.num_atoms)
        x = self.torso(obs)
        batch = x.shape[0]
        if self.dueling == "none":
            if self.num_atoms == 1:
                return self.head(x)  # (B, |A|): Q itself
            out = self.head(x).reshape(batch, self.num_actions, self.num_atoms)
        else:
            values = self.value_head(x).reshape(batch, 1, self.num_atoms)
            advantages = self.advantage_head(x).reshape(batch, self.num_actions, self.num_atoms)
            out = dueling_aggregate(values, advantages, self.dueling)
        return out.reshape(batch, self.num_actions) if self.num_atoms == 1 else out

    def infer(self, obs):
        """`forward` as inference: an array of observations in, an array out, nothing recorded (acting and TD
        targets need the numbers only). Dense layers and a plain head run as the dense kernels the recorded node
        runs, so the values are the same; a dueling or noisy head runs as modules under no_grad."""
        if self.dueling != "none" or self.noisy:
            return super().infer(obs)
        if self._dense:  # the torso's layers and the head: one loop of dense kernels
            out = self.torso.infer(obs, head=self.head)
        else:
            out = kernels.dense_forward(self.torso.infer(obs), self.head.weight.data, self.head.bias.data)
        return out if self.num_atoms == 1 else out.reshape(len(out), self.num_actions, self.num_atoms)

    def reset_noise(self, rng: np.random.Generator) -> None:
        """Draw new noise in every noisy layer (nothing to do without `noisy`)."""
        for module in self.noisy_layers:
            module.reset_noise(rng)


def as_input(obs, dtype=np.float32) -> np.ndarray:
    """Observations as the network takes them: float32 (frames stay uint8: the CNN scales them itself)."""
    obs = np.asarray(obs)
    return obs if obs.dtype == np.uint8 else obs.astype(dtype, copy=False)


def as_batch(obs, dtype=np.float32) -> ad.Tensor:
    """Observations as a constant Tensor, for a forward pass that records a graph."""
    return ad.tensor(as_input(obs, dtype))
