"""What the distributions share: parameters as Tensors, random generators passed explicitly."""

from __future__ import annotations

import numpy as np

import autodiff as ad


class Distribution:
    batch_shape: tuple

    def sample(self, rng=None):
        raise NotImplementedError

    def rsample(self, rng=None):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample; use sample() with "
                                  f"the score-function gradient ∇ log π")

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def kl(self, other):
        raise NotImplementedError

    def mode(self):
        raise NotImplementedError


def as_param(x) -> ad.Tensor:
    """Parameters as Tensors: Tensors pass (keeping their graph), arrays become float constants."""
    if isinstance(x, ad.Tensor):
        return x
    array = np.asarray(x)
    return ad.tensor(array, dtype=array.dtype if array.dtype.kind == "f" else np.float32)


def default_rng(rng) -> np.random.Generator:
    return rng if rng is not None else np.random.default_rng()


def noise_like(noise: np.ndarray, like: ad.Tensor) -> ad.Tensor:
    """A constant Tensor of `noise` with the dtype and device of `like`."""
    return ad.tensor(noise.astype(like.dtype), device=like.device)
