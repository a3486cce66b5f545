"""autodiff: a small tensor library with reverse-mode automatic differentiation (book ch. 1.6.1, 1.10.1).

    import autodiff as ad
    x = ad.tensor([[1.0, 2.0]], requires_grad=True)
    w = ad.randn(2, 3, requires_grad=True)
    loss = ad.tanh(x @ w).sum()
    loss.backward()            # x.grad and w.grad now hold ∂loss/∂x and ∂loss/∂w

Everything a network needs is here and nothing about RL: Tensor, the differentiable ops, `backward` and
`grad` (with gradients of gradients), `no_grad`, `gradcheck`. Arrays come from NumPy on the CPU and CuPy on
the GPU; the hot primitives run through the swappable kernels of the `kernels` package. `to_dot(loss)` draws
the graph a forward pass recorded.
"""

from __future__ import annotations

import numpy as np

from autodiff import function as _function
from autodiff import ops as _ops
from autodiff.dot import to_dot
from autodiff.engine import grad
from autodiff.function import Function, GraphFreedError
from autodiff.grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autodiff.ops.arithmetic import matmul
from autodiff.ops.dense import dense_stack, linear
from autodiff.ops.elementwise import Abs, Clip, Exp, Log, Maximum, Minimum, Relu, Sigmoid, Softplus, Sqrt, Tanh, Where
from autodiff.ops.reduction import Extremum, LogSoftmax, LogSumExp, Softmax, Sum
from autodiff.ops.shape import Concatenate, Stack, broadcast_to, cast, sum_to
from autodiff.tensor import Tensor, as_tensor, mean, squeeze, take_along_axis, tensor, unsqueeze, var

float32 = np.float32
float64 = np.float64


# -- elementwise -------------------------------------------------------------------------------------------
def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def abs(x):  # noqa: A001  (the name learners expect)
    return Abs.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def softplus(x):
    return Softplus.apply(x)


def clip(x, low=None, high=None):
    return Clip.apply(x, low=low, high=high)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def where(condition, a, b):
    """Elements of `a` where `condition` holds, of `b` elsewhere; gradients go to the chosen side only."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    return Where.apply(condition, a, b)


# -- reductions and the softmax family ---------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return Extremum.apply(x, axis=axis, keepdims=keepdims, largest=True)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return Extremum.apply(x, axis=axis, keepdims=keepdims, largest=False)


def logsumexp(x, axis=-1, keepdims=False):
    return LogSumExp.apply(x, axis=axis, keepdims=keepdims)


def softmax(x, axis=-1):
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    return LogSoftmax.apply(x, axis=axis)


# -- shapes ------------------------------------------------------------------------------------------------
def reshape(x, shape):
    return as_tensor(x).reshape(shape)


def transpose(x, axes=None):
    return as_tensor(x).transpose(*(axes or ()))


def _common_dtype(tensors):
    """Cast to the promoted dtype through cast nodes, so that each gradient comes back in its input's dtype."""
    tensors = [as_tensor(t) for t in tensors]
    dtype = np.result_type(*[t.dtype for t in tensors])
    return [cast(t, dtype) for t in tensors]


def concatenate(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: expected at least one tensor, got none")
    return Concatenate.apply(*_common_dtype(tensors), axis=axis)


def stack(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected at least one tensor, got none")
    return Stack.apply(*_common_dtype(tensors), axis=axis)


def gather(x, axis, indices):
    """PyTorch's name for `take_along_axis(x, indices, axis)`."""
    return take_along_axis(x, indices, axis)


def dot(a, b):
    return (a * b).sum()


# -- creation ----------------------------------------------------------------------------------------------
def _xp(device):
    if device == "cpu":
        return np
    if device == "cuda":
        from kernels import registry

        return registry.load_cupy()
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def zeros(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(_xp(device).zeros(_shape(shape), dtype), requires_grad, device=device)


def ones(*shape, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(_xp(device).ones(_shape(shape), dtype), requires_grad, device=device)


def full(shape, value, dtype=np.float32, requires_grad=False, device="cpu"):
    return Tensor(_xp(device).full(_shape((shape,)), value, dtype), requires_grad, device=device)


def zeros_like(x, requires_grad=False):  # not x.data * 0, which is NaN where x is inf
    return Tensor(_xp(x.device).zeros_like(x.data), requires_grad, device=x.device)


def ones_like(x, requires_grad=False):
    return Tensor(_xp(x.device).ones_like(x.data), requires_grad, device=x.device)


def arange(*args, dtype=None, device="cpu"):
    return Tensor(_xp(device).arange(*args, dtype=dtype), device=device)


def eye(n, dtype=np.float32, device="cpu"):
    return Tensor(_xp(device).eye(n, dtype=dtype), device=device)


def randn(*shape, rng=None, dtype=np.float32, requires_grad=False, device="cpu"):
    """Standard normal samples from `rng` (a NumPy Generator; a fresh unseeded one if None)."""
    rng = np.random.default_rng() if rng is None else rng
    return Tensor(rng.standard_normal(_shape(shape)).astype(dtype), requires_grad, device=device)


def rand(*shape, rng=None, dtype=np.float32, requires_grad=False, device="cpu"):
    rng = np.random.default_rng() if rng is None else rng
    return Tensor(rng.random(_shape(shape)).astype(dtype), requires_grad, device=device)


_function._namespaces["tensor"] = _ops.tensor_namespace()

from autodiff.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402

__all__ = [
    "Function", "GradcheckError", "GraphFreedError", "Tensor", "abs", "arange", "as_tensor", "broadcast_to",
    "cast", "clip", "concatenate", "dense_stack", "detect_anomaly", "dot", "enable_grad", "exp", "eye", "full",
    "gather", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "linear", "log", "log_softmax", "logsumexp",
    "matmul", "max",
    "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "rand", "randn", "relu", "reshape",
    "set_grad_enabled", "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sum", "sum_to",
    "take_along_axis", "tanh", "tensor", "to_dot", "transpose", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
