"""AlphaZero's policy-value network f_θ(s) = (p, v) and its loss (book ch. 15.4, fig. 15.19, L37601–37669).

One residual tower reads the board planes of `BoardGame.observation()` (4 × size × size: the player to move's
stones, the opponent's, the last move, and whether the player to move moved first) and feeds two heads:

    trunk    conv 3×3 → BatchNorm → ReLU, then `blocks` residual blocks
             x ← ReLU(x + BN(conv(ReLU(BN(conv(x))))))                       (fig. 15.19, He et al. 2016)
    policy   conv 1×1 (2 planes) → BN → ReLU → dense → log-softmax over the size² moves: log p
    value    conv 1×1 (1 plane) → BN → ReLU → dense → ReLU → dense → tanh: v ∈ [−1, 1]

The book's network has 19 residual blocks of 256 channels (Table 15.1); here `blocks` and `channels` are
hyperparameters with small defaults that a two-core CPU trains in minutes on tic-tac-toe.

The loss of one position with search probabilities π and game outcome z:

    l = (z − v)² − πᵀ log p + c ‖θ‖²                                        (book L37665)

`alphazero_loss` computes it with the L2 term written out (not hidden in the optimizer), averaged over a batch.
Illegal moves get probability 0 when log p becomes the tree's priors (`legal_priors`).
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl import nn
from minirl.nn import functional as F


class ResidualBlock(nn.Module):
    """x ← ReLU(x + BN(conv(ReLU(BN(conv(x)))))), two 3×3 convolutions that keep the board's size."""

    def __init__(self, channels: int, rng: np.random.Generator, dtype=np.float32):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype, rng=rng)
        self.bn1 = nn.BatchNorm2d(channels, dtype=dtype)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype, rng=rng)
        self.bn2 = nn.BatchNorm2d(channels, dtype=dtype)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(y)))


class PolicyValueNet(nn.Module):
    """f_θ(s) = (log p, v) for a size × size board (fig. 15.19): a residual tower and two heads."""

    def __init__(self, size: int, blocks: int = 2, channels: int = 32, value_hidden: int = 64, in_planes: int = 4,
                 seed: int = 0, dtype=np.float32):
        super().__init__()
        for name, value, low in (("size", size, 1), ("blocks", blocks, 0), ("channels", channels, 1),
                                 ("value_hidden", value_hidden, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"PolicyValueNet: {name} must be an integer >= {low}, got {value!r}")
        self.size, self.in_planes = int(size), int(in_planes)
        rng, moves, kw = np.random.default_rng(seed), size * size, {"dtype": dtype}
        self.stem = nn.Sequential(nn.Conv2d(in_planes, channels, 3, padding=1, bias=False, rng=rng, **kw),
                                  nn.BatchNorm2d(channels, **kw), nn.ReLU())
        self.tower = nn.Sequential(*[ResidualBlock(channels, rng, dtype) for _ in range(blocks)])
        self.policy_conv = nn.Sequential(nn.Conv2d(channels, 2, 1, bias=False, rng=rng, **kw),
                                         nn.BatchNorm2d(2, **kw), nn.ReLU())
        self.policy_fc = nn.Linear(2 * moves, moves, rng=rng, **kw)
        self.value_conv = nn.Sequential(nn.Conv2d(channels, 1, 1, bias=False, rng=rng, **kw),
                                        nn.BatchNorm2d(1, **kw), nn.ReLU())
        self.value_fc1 = nn.Linear(moves, value_hidden, rng=rng, **kw)
        self.value_fc2 = nn.Linear(value_hidden, 1, rng=rng, **kw)

    def forward(self, planes):
        """planes (B, 4, size, size) → (log p (B, size²), v (B,))."""
        if planes.ndim != 4 or tuple(planes.shape[1:]) != (self.in_planes, self.size, self.size):
            raise ValueError(f"PolicyValueNet: expected planes of shape (batch, {self.in_planes}, {self.size}, "
                             f"{self.size}), got {tuple(planes.shape)}")
        x = self.tower(self.stem(planes))
        batch = planes.shape[0]
        log_p = F.log_softmax(self.policy_fc(self.policy_conv(x).reshape(batch, -1)), dim=-1)
        hidden = F.relu(self.value_fc1(self.value_conv(x).reshape(batch, -1)))
        v = F.tanh(self.value_fc2(hidden)).reshape(batch)
        return log_p, v

    def predict(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log p, v) as arrays, without a graph: what the tree search asks for (BatchNorm in eval mode)."""
        was_training = self.training
        self.eval()
        try:
            with ad.no_grad():
                first = next(iter(self.parameters()))
                log_p, v = self(ad.as_tensor(np.asarray(planes, dtype=first.data.dtype)))
        finally:
            self.train(was_training)
        return log_p.data, v.data


def legal_priors(log_p: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """The prior P(s, ·) over the legal moves only: p restricted to them and renormalised (illegal moves get 0)."""
    logits = np.asarray(log_p, dtype=np.float64)[legal]
    priors = np.exp(logits - logits.max())
    return priors / priors.sum()


def l2_penalty(parameters) -> ad.Tensor:
    """‖θ‖², the sum of the squares of all the parameters (BatchNorm's scale and shift too)."""
    return sum((p * p).sum() for p in parameters)


def alphazero_loss(log_p, v, pi, z, parameters=(), c: float = 1e-4):
    """l = (z − v)² − πᵀ log p + c ‖θ‖², averaged over the batch (book L37665); returns (total, value, policy).

    log_p (B, A) and v (B,) are the network's outputs (Tensors); pi (B, A) the search's move probabilities and
    z (B,) the outcomes from each position's player-to-move view."""
    pi = ad.as_tensor(np.asarray(pi, dtype=log_p.dtype))
    z = ad.as_tensor(np.asarray(z, dtype=v.dtype))
    value_loss = ((z - v) ** 2).mean()                        # (z − v)²
    policy_loss = -(pi * log_p).sum(axis=1).mean()            # −πᵀ log p
    total = value_loss + policy_loss
    if c:
        total = total + c * l2_penalty(parameters)            # + c ‖θ‖²
    return total, value_loss, policy_loss


__all__ = ["PolicyValueNet", "ResidualBlock", "alphazero_loss", "l2_penalty", "legal_priors"]
