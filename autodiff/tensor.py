"""`Tensor`: an array that remembers how it was made, so that gradients can flow back through it.

A Tensor holds one NumPy (CPU) or CuPy (GPU) array in `.data`, a `requires_grad` flag, `.grad` (a Tensor or
None) and the `Function` node that produced it (None for leaves: parameters and inputs). Its operators and
methods mirror PyTorch's names so that a learner's knowledge transfers; each one applies an op of
`autodiff/ops`, where its backward rule is written. Creating tensors (`tensor`, `zeros`, ...) is in
`autodiff/creation.py`, printing in `autodiff/printing.py`.
"""

from __future__ import annotations

import numbers

import numpy as np

from kernels import registry


def wrap_array(value):
    """NumPy returns scalars from 0-d computations: keep every Tensor's data an array."""
    if type(value) is np.ndarray or registry.backend_of(value) == "cupy":
        return value
    return np.asarray(value)


def _check_float(dtype, what="requires_grad=True"):
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"{what}: only floating-point tensors can require gradients, got dtype {np.dtype(dtype)}")


class Tensor:
    __slots__ = ("data", "_requires_grad", "grad", "_node", "_hooks", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None, device: str = "cpu"):
        self.data = creation.to_array(data, dtype, device)  # a copy (on the device asked for)
        self._requires_grad = False
        self.grad = None
        self._node = None
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data, node):
        """The output of `node` (None: a constant), wrapping the array `data` as it is: every op makes one,
        so it skips `__init__`'s conversion and copy."""
        t = object.__new__(Tensor)
        t.data = data
        t._requires_grad = node is not None
        t.grad = None
        t._node = node
        t._hooks = None
        return t

    # -- properties ---------------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag:
            _check_float(self.data.dtype)
        elif self._node is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    is_leaf = property(lambda self: self._node is None)
    grad_fn = property(lambda self: self._node)
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    device = property(lambda self: "cpu" if type(self.data) is np.ndarray else "cuda")

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    # -- conversion -------------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied from the GPU when needed; shares memory on the CPU)."""
        return self.data if type(self.data) is np.ndarray else self.data.get()

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a Python scalar, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    __float__ = lambda self: float(self.item())  # noqa: E731
    __int__ = lambda self: int(self.item())  # noqa: E731
    __bool__ = lambda self: bool(self.item())  # noqa: E731

    def detach(self) -> "Tensor":
        """The same data, cut from the graph: no gradient flows through the result."""
        return Tensor._make(self.data, None)

    def to(self, device: str) -> "Tensor":
        return self if device == self.device else ToDevice.apply(self, device=device)

    cpu = lambda self: self.to("cpu")  # noqa: E731
    cuda = lambda self: self.to("cuda")  # noqa: E731

    def astype(self, dtype) -> "Tensor":
        return cast(self, np.dtype(dtype))

    float = lambda self: self.astype(np.float32)  # noqa: E731
    double = lambda self: self.astype(np.float64)  # noqa: E731

    # -- gradients ----------------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False) -> None:
        """Accumulate ∂self/∂leaf into the `.grad` of every leaf that requires it."""
        engine.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with the gradient of this tensor during backward; a Tensor it returns
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        hooks = self._node.__dict__.setdefault("hooks", []) if self._node is not None else self._hooks
        if hooks is None:
            hooks = self._hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    # -- operators: the other operand is a Tensor, a Python number (which never upcasts) or an array --------
    def __add__(self, other):
        return Add.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __sub__(self, other):
        return Sub.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __mul__(self, other):
        return Mul.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __truediv__(self, other):
        return Div.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __pow__(self, other):
        return Pow.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    __radd__ = lambda self, other: Add.apply(_constant(other, self), self)  # noqa: E731
    __rsub__ = lambda self, other: Sub.apply(_constant(other, self), self)  # noqa: E731
    __rmul__ = lambda self, other: Mul.apply(_constant(other, self), self)  # noqa: E731
    __rtruediv__ = lambda self, other: Div.apply(_constant(other, self), self)  # noqa: E731
    __rpow__ = lambda self, other: Pow.apply(_constant(other, self), self)  # noqa: E731
    __matmul__ = lambda self, other: matmul(self, other)  # noqa: E731
    __rmatmul__ = lambda self, other: matmul(other, self)  # noqa: E731
    __neg__ = lambda self: Neg.apply(self)  # noqa: E731
    __pos__ = lambda self: self  # noqa: E731
    __abs__ = lambda self: Abs.apply(self)  # noqa: E731

    # comparisons give plain arrays: they are not differentiable
    __lt__ = lambda self, other: self.data < _data(other)  # noqa: E731
    __le__ = lambda self, other: self.data <= _data(other)  # noqa: E731
    __gt__ = lambda self, other: self.data > _data(other)  # noqa: E731
    __ge__ = lambda self, other: self.data >= _data(other)  # noqa: E731
    __eq__ = lambda self, other: self.data == _data(other)  # noqa: E731
    __ne__ = lambda self, other: self.data != _data(other)  # noqa: E731
    __hash__ = object.__hash__

    def __getitem__(self, index):
        return GetItem.apply(self, index=_index(index))

    def __setitem__(self, index, value):
        if self._requires_grad:
            raise RuntimeError("in-place assignment to a tensor that requires grad would corrupt its gradient; "
                               "assign to .data (outside the graph) or build a new tensor with where()")
        self.data[_index(index)] = _data(value)

    # -- methods (the same ops as the module-level functions) ------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return var(self, axis, keepdims, ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return Sqrt.apply(var(self, axis, keepdims, ddof))

    def max(self, axis=None, keepdims=False):
        return Extremum.apply(self, axis=axis, keepdims=keepdims, largest=True)

    def min(self, axis=None, keepdims=False):
        return Extremum.apply(self, axis=axis, keepdims=keepdims, largest=False)

    def logsumexp(self, axis=-1, keepdims=False):
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    softmax = lambda self, axis=-1: Softmax.apply(self, axis=axis)  # noqa: E731
    log_softmax = lambda self, axis=-1: LogSoftmax.apply(self, axis=axis)  # noqa: E731

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return Reshape.apply(self, shape=tuple(shape))

    view = reshape

    def flatten(self, start_axis=0):
        return self.reshape(self.shape[:start_axis] + (-1,))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return Transpose.apply(self, axes=tuple(axes) if axes else None)

    permute = transpose

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return Transpose.apply(self, axes=tuple(axes))

    T = property(lambda self: Transpose.apply(self, axes=None))
    mT = property(lambda self: self.swapaxes(-1, -2))

    def broadcast_to(self, shape):
        return broadcast_to(self, shape)

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return broadcast_to(self, tuple(s if s != -1 else self.shape[i - len(shape) + self.ndim]
                                        for i, s in enumerate(shape)))

    squeeze = lambda self, axis=None: squeeze(self, axis)  # noqa: E731
    unsqueeze = lambda self, axis: unsqueeze(self, axis)  # noqa: E731
    exp = lambda self: Exp.apply(self)  # noqa: E731
    log = lambda self: Log.apply(self)  # noqa: E731
    sqrt = lambda self: Sqrt.apply(self)  # noqa: E731
    abs = lambda self: Abs.apply(self)  # noqa: E731
    tanh = lambda self: Tanh.apply(self)  # noqa: E731
    sigmoid = lambda self: Sigmoid.apply(self)  # noqa: E731
    relu = lambda self: Relu.apply(self)  # noqa: E731
    softplus = lambda self: Softplus.apply(self)  # noqa: E731
    clip = clamp = lambda self, low=None, high=None: Clip.apply(self, low=low, high=high)  # noqa: E731
    gather = lambda self, axis, indices: take_along_axis(self, indices, axis)  # noqa: E731

    def __repr__(self) -> str:
        return printing.tensor_repr(self)


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _constant(other, like: Tensor):
    """The other operand of an operator: Tensors as they are, Python numbers as they are (NumPy never
    lets a Python scalar upcast an array), lists and arrays as arrays."""
    if isinstance(other, (Tensor, float, int)) or isinstance(other, numbers.Number):
        return other
    if hasattr(other, "dtype"):
        return other
    return np.asarray(other, dtype=like.dtype if np.asarray(other).dtype.kind == "f" else None)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


# the ops make Tensors and Tensor's methods apply the ops: they are imported once Tensor exists
from autodiff import creation, engine, printing  # noqa: E402
from autodiff.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub, matmul  # noqa: E402
from autodiff.ops.elementwise import Abs, Clip, Exp, Log, Relu, Sigmoid, Softplus, Sqrt, Tanh  # noqa: E402
from autodiff.ops.reduction import Extremum, LogSoftmax, LogSumExp, Softmax, Sum, mean, var  # noqa: E402
from autodiff.ops.shape import (GetItem, Reshape, ToDevice, Transpose, broadcast_to, cast, squeeze,  # noqa: E402
                                take_along_axis, unsqueeze)
