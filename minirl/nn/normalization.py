"""Batch normalisation (book ch. 1.7.4 and its use in CNNs, §1.8) and layer normalisation (ch. 13.2.2).

Both standardise activations to mean 0 and variance 1 and then let the network rescale them:

    y = (x − μ) / √(σ² + ε) · γ + β.

They differ in where μ and σ² come from.

- BatchNorm: per channel, over the batch (and, for images, over every pixel). In training it uses the
  statistics of the current batch and keeps exponential moving averages of them; at test time it uses the
  moving averages, so a single example is normalised the same way however it is batched (§1.7.4). The batch
  statistics change with every random batch, which also acts as a regulariser.
- LayerNorm: per example, over its last dimensions; no running statistics, the same in training and test.

Names and update rules are PyTorch's: running_mean ← (1 − m)·running_mean + m·μ_batch and the same for
running_var with the *unbiased* batch variance (n/(n − 1)·σ²_batch), momentum m = 0.1; the batch itself is
normalised with the biased σ²_batch. (TensorFlow, in the book's CIFAR example, calls 1 − m the "decay": 0.99.)
"""

from __future__ import annotations

import numpy as np

from autodiff import Tensor, as_tensor, sqrt
from minirl.nn.conv import input_like
from minirl.nn.module import Module, Parameter


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise x (N, C, ...) per channel C. In training, with batch statistics, and the running
    statistics (Tensors of shape (C,), if given) are updated in place; otherwise with the running ones."""
    x = as_tensor(x) if weight is None else input_like(x, weight, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {x.shape}")
    shape = _channel_shape(x)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)   # biased σ², used to normalise
        x_hat = centred / sqrt(var + eps)
        if running_mean is not None:
            running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * mean.data.reshape(-1)
        if running_var is not None:  # the running estimate of the population variance is unbiased
            unbiased = var.data.reshape(-1) * (count / (count - 1))
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * unbiased
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        mean, var = running_mean.detach().reshape(shape), running_var.detach().reshape(shape)
        x_hat = (x - mean) / sqrt(var + eps)
    if weight is not None:
        x_hat = x_hat * as_tensor(weight).reshape(shape)
    if bias is not None:
        x_hat = x_hat + as_tensor(bias).reshape(shape)
    return x_hat


class _BatchNorm(Module):
    expected_ndim: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 *, dtype=np.float32):
        super().__init__()
        self.num_features, self.eps, self.momentum, self.affine = num_features, eps, momentum, affine
        if affine:  # γ = 1, β = 0: the layer starts as a pure standardisation
            self.weight = Parameter(np.ones(num_features), dtype=dtype)
            self.bias = Parameter(np.zeros(num_features), dtype=dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", Tensor(np.zeros(num_features), dtype=dtype))
        self.register_buffer("running_var", Tensor(np.ones(num_features), dtype=dtype))
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))

    def reset_running_stats(self) -> None:
        self.running_mean.data[...] = 0
        self.running_var.data[...] = 1
        self.num_batches_tracked.data[...] = 0

    def forward(self, x):
        x = input_like(x, self.running_mean, type(self).__name__)
        if x.ndim not in self.expected_ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected an input of rank "
                             f"{' or '.join(map(str, self.expected_ndim))} with {self.num_features} channels "
                             f"on axis 1, got shape {x.shape}")
        batches = int(self.num_batches_tracked.item()) + self.training
        # momentum None: a plain cumulative average of every batch seen so far
        momentum = 1.0 / batches if self.momentum is None and self.training else self.momentum
        y = batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, momentum,
                       self.eps)
        self.num_batches_tracked.data[...] = batches   # counted only once the batch was accepted
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per feature C (book ch. 1.7.4)."""

    expected_ndim = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) feature maps, per channel C over batch and pixels (book ch. 1.8)."""

    expected_ndim = (4,)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise each example over its last len(normalized_shape) axes (biased variance), then scale/shift."""
    x = as_tensor(x) if weight is None else input_like(x, weight, "layer_norm")
    normalized_shape = _as_shape(normalized_shape)
    k = len(normalized_shape)
    if x.shape[x.ndim - k:] != normalized_shape:
        raise ValueError(f"layer_norm: the input's last axes {x.shape} do not match normalized_shape "
                         f"{normalized_shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    x_hat = centred / sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


class LayerNorm(Module):
    """Layer normalisation (used by the book's ch. 13 networks): every example is standardised over its
    last axes `normalized_shape`, then multiplied by weight (ones) and shifted by bias (zeros), elementwise."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, *,
                 dtype=np.float32):
        super().__init__()
        self.normalized_shape, self.eps = _as_shape(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape), dtype=dtype)
            self.bias = Parameter(np.zeros(self.normalized_shape), dtype=dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
