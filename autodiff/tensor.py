"""`Tensor`: an array that remembers how it was made, so that gradients can flow back through it.

A Tensor holds one NumPy (CPU) or CuPy (GPU) array in `.data`, a `requires_grad` flag, `.grad` (a Tensor or
None) and the `Function` node that produced it (None for leaves: parameters and inputs). Its operators and
methods mirror PyTorch's names so that a learner's knowledge transfers.
"""

from __future__ import annotations

import numbers

import numpy as np

from autodiff import function as _function
from kernels import registry

_ARRAY_TYPES = {np.ndarray}
_new = object.__new__


def wrap_array(value):
    """NumPy returns scalars from 0-d computations: keep every Tensor's data an array."""
    if type(value) in _ARRAY_TYPES:
        return value
    if registry._cupy_ndarray is not None and type(value) is registry._cupy_ndarray:
        _ARRAY_TYPES.add(registry._cupy_ndarray)
        return value
    return np.asarray(value)


def _check_float(dtype, what="requires_grad=True"):
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"{what}: only floating-point tensors can require gradients, got dtype {np.dtype(dtype)}")


class Tensor:
    __slots__ = ("data", "_requires_grad", "grad", "_node", "_hooks", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray * Tensor -> Tensor

    def __init__(self, data, requires_grad: bool = False, dtype=None, device: str = "cpu"):
        array = _to_array(data, dtype, device)
        self.data = array
        self._requires_grad = False
        self.grad = None
        self._node = None
        self._hooks = None
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _make(data, node):
        t = _new(Tensor)
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

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    @property
    def device(self) -> str:
        return "cpu" if type(self.data) is np.ndarray else "cuda"

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

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def detach(self) -> "Tensor":
        """The same data, cut from the graph: no gradient flows through the result."""
        return Tensor._make(self.data, None)

    def to(self, device: str) -> "Tensor":
        if device == self.device:
            return self
        return ToDevice.apply(self, device=device)

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        return self.to("cuda")

    def astype(self, dtype) -> "Tensor":
        return cast(self, np.dtype(dtype))

    float = lambda self: self.astype(np.float32)  # noqa: E731
    double = lambda self: self.astype(np.float64)  # noqa: E731

    # -- gradients ----------------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False) -> None:
        """Accumulate ∂self/∂leaf into the `.grad` of every leaf that requires it."""
        _engine.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph)

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

    # -- operators ------------------------------------------------------------------------------------------
    def __add__(self, other):
        return Add.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __radd__(self, other):
        return Add.apply(_constant(other, self), self)

    def __sub__(self, other):
        return Sub.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __rsub__(self, other):
        return Sub.apply(_constant(other, self), self)

    def __mul__(self, other):
        return Mul.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __rmul__(self, other):
        return Mul.apply(_constant(other, self), self)

    def __truediv__(self, other):
        return Div.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __rtruediv__(self, other):
        return Div.apply(_constant(other, self), self)

    def __pow__(self, other):
        return Pow.apply(self, other if isinstance(other, Tensor) else _constant(other, self))

    def __rpow__(self, other):
        return Pow.apply(_constant(other, self), self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Abs.apply(self)

    # comparisons give plain arrays: they are not differentiable
    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    def __eq__(self, other):
        return self.data == _data(other)

    def __ne__(self, other):
        return self.data != _data(other)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return GetItem.apply(self, index=_index(index))

    def __setitem__(self, index, value):
        if self._requires_grad:
            raise RuntimeError("in-place assignment to a tensor that requires grad would corrupt its gradient; "
                               "assign to .data (outside the graph) or build a new tensor with where()")
        self.data[_index(index)] = _data(value)

    # -- methods (the same functions as the module-level ones) ----------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return mean(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        return var(self, axis, keepdims, ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return sqrt(var(self, axis, keepdims, ddof))

    def max(self, axis=None, keepdims=False):
        return Extremum.apply(self, axis=axis, keepdims=keepdims, largest=True)

    def min(self, axis=None, keepdims=False):
        return Extremum.apply(self, axis=axis, keepdims=keepdims, largest=False)

    def logsumexp(self, axis=-1, keepdims=False):
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis=-1):
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis=-1):
        return LogSoftmax.apply(self, axis=axis)

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

    @property
    def T(self):
        return Transpose.apply(self, axes=None)

    @property
    def mT(self):
        return self.swapaxes(-1, -2)

    def broadcast_to(self, shape):
        return broadcast_to(self, shape)

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return broadcast_to(self, tuple(s if s != -1 else self.shape[i - len(shape) + self.ndim]
                                        for i, s in enumerate(shape)))

    def squeeze(self, axis=None):
        return squeeze(self, axis)

    def unsqueeze(self, axis):
        return unsqueeze(self, axis)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def abs(self):
        return Abs.apply(self)

    def tanh(self):
        return Tanh.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return Relu.apply(self)

    def softplus(self):
        return Softplus.apply(self)

    def clip(self, low=None, high=None):
        return Clip.apply(self, low=low, high=high)

    clamp = clip

    def gather(self, axis, indices):
        return take_along_axis(self, indices, axis)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = []
        if self.dtype != np.float32:
            extras.append(f"dtype={self.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({body}{', ' if extras else ''}{', '.join(extras)})"


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


# -- turning things into arrays and tensors ----------------------------------------------------------------
def _to_array(data, dtype, device):
    if isinstance(data, Tensor):
        data = data.data
    if device == "cuda":
        xp = registry.load_cupy()
    elif device == "cpu":
        xp = np
        if registry.backend_of(data) == "cupy":
            data = data.get()
    else:
        raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")
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
    return Tensor._make(wrap_array(x if hasattr(x, "dtype") else np.asarray(x, dtype=_default_dtype(x))), None)


def _default_dtype(x):
    return np.float32 if np.asarray(x).dtype.kind == "f" else None


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


# -- module-level functions --------------------------------------------------------------------------------
def mean(x, axis=None, keepdims=False):
    return Sum.apply(as_tensor(x), axis=axis, keepdims=keepdims, mean=True)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance Σ(x − x̄)² / (n − ddof); ddof=0 as NumPy (biased), ddof=1 for the unbiased estimate."""
    from autodiff.ops.reduction import normalize_axis

    x = as_tensor(x)
    count = int(np.prod([x.shape[a] for a in normalize_axis(axis, x.ndim)]))
    centered = x - mean(x, axis, keepdims=True)
    # as NumPy: with count ≤ ddof the sum is divided by 0 (NaN or inf), not a ZeroDivisionError
    return (centered * centered).sum(axis=axis, keepdims=keepdims) * (1.0 / (count - ddof) if count > ddof else np.inf)


def sqrt(x):
    return Sqrt.apply(x)


def squeeze(x, axis=None):
    x = as_tensor(x)
    if axis is None:
        axes = [i for i, s in enumerate(x.shape) if s == 1]
    else:
        axes = [a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)]
        for a in axes:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1 (shape {x.shape})")
    return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis):
    x = as_tensor(x)
    axis = axis % (x.ndim + 1)
    return x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])


def take_along_axis(x, indices, axis):
    indices = _data(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {indices.dtype}")
    return TakeAlongAxis.apply(x, indices=indices, axis=axis)


_function.Tensor, _function._make, _function.wrap_array = Tensor, Tensor._make, wrap_array

# the ops and the engine import this module, so they are imported last
from autodiff import engine as _engine  # noqa: E402
from autodiff.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub, matmul  # noqa: E402
from autodiff.ops.elementwise import Abs, Clip, Exp, Log, Relu, Sigmoid, Softplus, Sqrt, Tanh  # noqa: E402
from autodiff.ops.reduction import Extremum, LogSoftmax, LogSumExp, Softmax, Sum  # noqa: E402
from autodiff.ops.shape import GetItem, Reshape, TakeAlongAxis, ToDevice, Transpose, broadcast_to, cast  # noqa: E402
