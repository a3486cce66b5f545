"""Making tensors: `tensor(data)` copies data into a new leaf; `as_tensor` wraps without copying; `zeros`,
`ones`, `full`, `arange`, `eye`, `randn`, `rand` and the `*_like` ones allocate on a device, as PyTorch's do.
Floats default to float32; NumPy arrays keep their dtype."""

from __future__ import annotations

import numbers

import numpy as np

from autodiff.tensor import Tensor, wrap_array
from kernels import registry


def array_module_for(device: str):
    if device == "cpu":
        return np
    if device == "cuda":
        return registry.load_cupy()
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def to_array(data, dtype, device):
    """A fresh array on `device` holding `data` (a Tensor's array, an array, a list or a number)."""
    if isinstance(data, Tensor):
        data = data.data
    xp = array_module_for(device)
    if xp is np and registry.backend_of(data) == "cupy":
        data = data.get()
    if dtype is None:
        if isinstance(data, (np.ndarray, np.generic)) or registry.backend_of(data) == "cupy":
            dtype = data.dtype
        else:
            inferred = np.asarray(data).dtype
            # Python floats become float32 (the default float), Python ints int64, as in PyTorch
            dtype = np.float32 if inferred.kind == "f" else inferred
    return xp.array(data, dtype=dtype, copy=True) if xp is np else xp.asarray(data, dtype=dtype)


def tensor(data, requires_grad=False, dtype=None, device="cpu") -> Tensor:
    """A new leaf tensor holding a copy of `data`: floats default to float32, NumPy arrays keep their dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """`x` itself if it is a Tensor, else a constant Tensor wrapping it (no copy for arrays)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, numbers.Number):
        return Tensor._make(wrap_array(np.asarray(x, dtype=like.dtype)), None)
    if not hasattr(x, "dtype"):
        x = np.asarray(x, dtype=np.float32 if np.asarray(x).dtype.kind == "f" else None)
    return Tensor._make(wrap_array(x), None)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def zeros(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(array_module_for(device).zeros(_shape(shape), dtype), requires_grad, device=device)


def ones(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(array_module_for(device).ones(_shape(shape), dtype), requires_grad, device=device)


def full(shape, value, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(array_module_for(device).full(_shape((shape,)), value, dtype), requires_grad, device=device)


def zeros_like(x, requires_grad=False):  # not x.data * 0, which is NaN where x is inf
    return Tensor(array_module_for(x.device).zeros_like(x.data), requires_grad, device=x.device)


def ones_like(x, requires_grad=False):
    return Tensor(array_module_for(x.device).ones_like(x.data), requires_grad, device=x.device)


def arange(*args, dtype=None, device="cpu"):
    return Tensor(array_module_for(device).arange(*args, dtype=dtype), device=device)


def eye(n, dtype=np.float32, device="cpu"):
    return Tensor(array_module_for(device).eye(n, dtype=dtype), device=device)


def randn(*shape, rng=None, dtype=np.float32, requires_grad=False, device="cpu"):
    """Standard normal samples from `rng` (a NumPy Generator; a fresh unseeded one if None)."""
    rng = np.random.default_rng() if rng is None else rng
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad, device=device)


def rand(*shape, rng=None, dtype=np.float32, requires_grad=False, device="cpu"):
    rng = np.random.default_rng() if rng is None else rng
    return Tensor(rng.random(_shape(shape)).astype(dtype), requires_grad, device=device)
