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

from autodiff.tensor import Tensor  # first: it imports the ops, which make Tensors
from autodiff.creation import (arange, as_tensor, eye, full, ones, ones_like, rand, randn, tensor, zeros,
                               zeros_like)
from autodiff.dot import to_dot
from autodiff.engine import grad
from autodiff.function import Function, GraphFreedError
from autodiff.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autodiff.grad_mode import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autodiff.ops.arithmetic import matmul
from autodiff.ops.dense import dense_stack, linear
from autodiff.ops.elementwise import Abs, Clip, Exp, Log, Maximum, Minimum, Relu, Sigmoid, Softplus, Sqrt, Tanh, Where
from autodiff.ops.reduction import Extremum, LogSoftmax, LogSumExp, Softmax, Sum, mean, var
from autodiff.ops.shape import Concatenate, Stack, broadcast_to, cast, squeeze, sum_to, take_along_axis, unsqueeze

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


__all__ = [
    "Function", "GradcheckError", "GraphFreedError", "Tensor", "abs", "arange", "as_tensor", "broadcast_to",
    "cast", "clip", "concatenate", "dense_stack", "detect_anomaly", "dot", "enable_grad", "exp", "eye", "full",
    "gather", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "linear", "log", "log_softmax", "logsumexp",
    "matmul", "max",
    "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "rand", "randn", "relu", "reshape",
    "set_grad_enabled", "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sum", "sum_to",
    "take_along_axis", "tanh", "tensor", "to_dot", "transpose", "unsqueeze", "var", "where", "zeros", "zeros_like",
]
