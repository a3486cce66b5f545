"""Ops that move elements without changing them: reshape, transpose, broadcast, indexing, joining.

Their backward rules move the gradient back: broadcast_to ↔ sum_to, getitem ↔ index_add,
take_along_axis ↔ put_along_axis_add, concatenate ↔ slicing. Each pair is adjoint, so every rule here is
itself differentiable and double backward works: the functions at the end of the file (`sum_to`,
`broadcast_to`, ...) compute on an array and record the op on a Tensor.
"""

from __future__ import annotations

import numpy as np

from autodiff.creation import as_tensor
from autodiff.function import Function
from autodiff.ops.elementwise import constant_like
from autodiff.tensor import Tensor
from kernels.registry import array_module, backend_of as registry_backend


# -- array-level helpers (used by forward passes and by backward rules on arrays) ---------------------
def array_sum_to(a, shape):
    """Sum `a` over the axes along which `shape` was broadcast to a.shape (the adjoint of broadcast_to)."""
    shape = tuple(shape)
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def is_basic_index(index) -> bool:
    """Ints, slices, None and Ellipsis select each element at most once: plain assignment can scatter."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


def array_index_add(g, index, shape, basic):
    """zeros(shape) with g added at `index` (repeated integer indices accumulate)."""
    xp = array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if basic:
        out[index] = g
    else:
        xp.add.at(out, index, g)
    return out


def _full_index(indices, axis, shape):
    """Index tuple addressing, for each position of `shape`, the element `indices` picks along `axis`."""
    xp = array_module(indices)
    # an open grid: axis i's coordinates as an array of shape (1, ..., n_i, ..., 1) (CuPy has no sparse indices)
    grid = [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (len(shape) - i - 1)) for i, n in enumerate(shape)]
    grid[axis] = xp.broadcast_to(indices, shape)
    return tuple(grid)


def array_put_along_axis_add(g, indices, axis, shape):
    xp = array_module(g)
    if len(shape) == 2 and axis in (1, -1) and indices.shape == g.shape == (shape[0], 1):  # Q(s, a), log π(a|s)
        # one index per row: each position receives at most one value, so writing it adds it (add.at, which
        # accumulates repeated positions, costs ten times more)
        out = xp.zeros(shape, dtype=g.dtype)
        out[xp.arange(shape[0])[:, None], indices] = g
        return out
    wide = list(g.shape)  # where x had size 1 against longer indices, it was broadcast: sum back into it
    wide[axis] = shape[axis]
    out = xp.zeros(wide, dtype=g.dtype)
    xp.add.at(out, _full_index(indices, axis, g.shape), g)
    return array_sum_to(out, shape)


# -- ops -----------------------------------------------------------------------------------------------
class Reshape(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Function):
    def forward(self, x, axes=None):
        self.axes = tuple(range(x.ndim - 1, -1, -1)) if axes is None else tuple(a % max(x.ndim, 1) for a in axes)
        return x.transpose(self.axes)

    def backward(self, g):
        return g.transpose(tuple(np.argsort(self.axes)))  # the inverse permutation


class BroadcastTo(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        return array_module(x).broadcast_to(x, shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)


class SumTo(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        return array_sum_to(x, shape)

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


class Cast(Function):
    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.in_dtype)


class GetItem(Function):
    def forward(self, x, index):
        if registry_backend(x) == "cupy":  # NumPy index arrays follow the tensor to the GPU
            index = tuple(constant_like(i, x) for i in index) if isinstance(index, tuple) else constant_like(index, x)
        self.index, self.in_shape, self.basic = index, x.shape, is_basic_index(index)
        return x[index]

    def backward(self, g):
        return index_add(g, self.index, self.in_shape, self.basic)


class IndexAdd(Function):
    """zeros(shape) with g added at index: the backward of getitem, and differentiable itself."""

    def forward(self, g, index, shape, basic):
        self.index = index
        return array_index_add(g, index, shape, basic)

    def backward(self, g):
        return g[self.index]


class TakeAlongAxis(Function):
    def forward(self, x, indices, axis):
        indices = constant_like(indices, x)
        self.indices, self.axis, self.in_shape = indices, axis, x.shape
        if x.ndim == 2 and axis in (1, -1) and indices.shape == (x.shape[0], 1):  # Q(s, a) and log π(a|s)
            return x[array_module(x).arange(x.shape[0])[:, None], indices]
        return array_module(x).take_along_axis(x, indices, axis=axis)

    def backward(self, g):
        return put_along_axis_add(g, self.indices, self.axis, self.in_shape)


class PutAlongAxisAdd(Function):
    def forward(self, g, indices, axis, shape):
        self.indices, self.axis = indices, axis
        return array_put_along_axis_add(g, indices, axis, shape)

    def backward(self, g):
        if isinstance(g, Tensor):
            return TakeAlongAxis.apply(g, indices=self.indices, axis=self.axis)
        return array_module(g).take_along_axis(g, self.indices, axis=self.axis)


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        out = array_module(arrays[0]).concatenate(arrays, axis=axis)  # first: NumPy says what is wrong (0-d, shapes)
        self.axis = axis % out.ndim
        self.bounds = np.cumsum([0] + [a.shape[self.axis] for a in arrays])
        return out

    def backward(self, g):
        before = (slice(None),) * self.axis
        return tuple(g[before + (slice(lo, hi),)] for lo, hi in zip(self.bounds[:-1], self.bounds[1:]))


class Stack(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis % (arrays[0].ndim + 1)
        return array_module(arrays[0]).stack(arrays, axis=axis)

    def backward(self, g):
        before = (slice(None),) * self.axis
        return tuple(g[before + (i,)] for i in range(len(self.inputs)))


class ToDevice(Function):
    def forward(self, x, device):
        self.source = "cpu" if array_module(x) is np else "cuda"
        return move_array(x, device)

    def backward(self, g):
        return g.to(self.source) if isinstance(g, Tensor) else move_array(g, self.source)


def move_array(x, device: str):
    if device == "cpu":
        return x if isinstance(x, np.ndarray) else x.get()
    if device == "cuda":
        from kernels import registry

        return registry.load_cupy().asarray(x)
    raise ValueError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


# -- the functions the rules above call: on an array they compute, on a Tensor they record the op ----------------
def broadcast_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape) if isinstance(x, Tensor) else array_module(x).broadcast_to(x, shape)


def sum_to(x, shape):
    shape = tuple(shape)
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape) if isinstance(x, Tensor) else array_sum_to(x, shape)


def cast(x, dtype):
    return x if x.dtype == dtype else Cast.apply(x, dtype=np.dtype(dtype))


def index_add(g, index, shape, basic):
    if isinstance(g, Tensor):
        return IndexAdd.apply(g, index=index, shape=shape, basic=basic)
    return array_index_add(g, index, shape, basic)


def put_along_axis_add(g, indices, axis, shape):
    if isinstance(g, Tensor):
        return PutAlongAxisAdd.apply(g, indices=indices, axis=axis, shape=shape)
    return array_put_along_axis_add(g, indices, axis, shape)


# -- shape functions of the public API (Tensor methods too) -----------------------------------------------------
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
    indices = indices.data if isinstance(indices, Tensor) else indices
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {indices.dtype}")
    return TakeAlongAxis.apply(x, indices=indices, axis=axis)
