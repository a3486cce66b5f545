"""Weight initializers, in place, with PyTorch's names and formulas (`torch.nn.init`).

Training starts from random weights (book §1.6.2, Algorithm 1.1: "initialise θ"). Their scale matters: too
large and tanh/sigmoid saturate, too small and the signal (and the gradient, §1.6.1) shrinks layer by layer.
Xavier/Glorot keeps the variance of activations and gradients equal across layers for linear/tanh units;
Kaiming/He corrects the factor for ReLU, which zeroes half its inputs. The book's reference models use
truncated normals (CIFAR CNN, §1.10.5), N(0, σ) and U(a, b), and orthogonal initialisation appears in its PPO
and SAC code.

Every initializer writes into ``tensor.data`` and returns the tensor. Randomness comes only from the `rng`
argument (a ``numpy.random.Generator``; a fresh unseeded one when omitted), never from NumPy's global state,
so one seed controls a whole network.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff.ops.shape import move_array

__all__ = [
    "calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_", "orthogonal_",
    "trunc_normal_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]


def _rng(rng):
    return np.random.default_rng() if rng is None else rng


def _fill(tensor, values):
    """Write `values` (NumPy, any float dtype) into the tensor's array in place, keeping dtype and device."""
    values = np.asarray(values).astype(tensor.dtype, copy=False)
    tensor.data[...] = move_array(values, tensor.device)
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which `nonlinearity` shrinks the standard deviation of its input, to be undone by the
    initialisation: 1 for linear/sigmoid, 5/3 for tanh, √2 for ReLU, √(2 / (1 + a²)) for leaky ReLU."""
    linear = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = inputs per output unit, fan_out = outputs per input unit. A weight is (out, in, *kernel)
    (Linear: (out, in); Conv2d: (out, in, kh, kw)), so each counts the kernel's receptive field too."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return max(fan_in if mode == "fan_in" else fan_out, 1)  # a zero-size tensor: nothing to fill


def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    """U(a, b)."""
    return _fill(tensor, _rng(rng).uniform(a, b, tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    """N(mean, std²)."""
    return _fill(tensor, _rng(rng).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, rng=None):
    """N(mean, std²) conditioned on a ≤ x ≤ b (absolute bounds, as in PyTorch). TensorFlow's
    `truncated_normal(stddev=σ)` of the book's CIFAR model (§1.10.5) is ``a=mean−2σ, b=mean+2σ``.
    Samples outside are drawn again (rejection), so the result is exactly the truncated distribution."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = _rng(rng)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    for _ in range(1000):
        if not outside.any():
            break
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    else:  # [a, b] lies far in a tail: fall back to clipping rather than loop forever
        values = np.clip(values, a, b)
    return _fill(tensor, values)


def constant_(tensor, val: float):
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """The identity matrix (a 2-D tensor): a layer that starts by passing its input through."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: need a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    """Glorot & Bengio (2010): U(−a, a), a = gain·√(6 / (fan_in + fan_out)); Var = gain²·2 / (fan_in + fan_out)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -bound, bound, rng=rng)


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    """Glorot & Bengio (2010): N(0, std²), std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)), rng=rng)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None):
    """He et al. (2015): U(−bound, bound), bound = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).
    `Linear`'s default (a = √5) gives bound = 1/√fan_in."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std  # U(−b, b) has std b/√3
    return uniform_(tensor, -bound, bound, rng=rng)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng=None):
    """He et al. (2015): N(0, std²), std = gain / √fan."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, rng=rng)


def orthogonal_(tensor, gain: float = 1.0, rng=None):
    """Saxe et al. (2014): a (semi-)orthogonal matrix times `gain`; the tensor is seen as (rows, rest).
    QR of a Gaussian matrix, with the signs of R's diagonal moved into Q so that Q is uniformly (Haar)
    distributed. Rows are orthonormal when rows ≤ cols, columns otherwise."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.size // rows
    flat = _rng(rng).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
