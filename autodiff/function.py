"""`Function`: one node of the graph, with its forward rule and its backward (vector-Jacobian) rule.

Every differentiable op is a subclass with two methods:

    forward(self, *arrays, **params) -> array     computes the output from NumPy/CuPy arrays
    backward(self, g) -> grad or tuple of grads   one gradient per input, given g = ∂L/∂output

A backward rule is the chain rule written in array algebra: tanh's is ``g * (1 - y * y)``. It reads the op's
inputs as `self.args` and its output as `self.result`, and computes with what arrays and Tensors share: the
operators, methods such as `.sum(axis, keepdims)` and `.reshape`, and the few functions of `autodiff/ops` that
accept both (`exp`, `where`, `sum_to`, ...). Differentiating once, g, `args` and `result` are arrays and the
rule is plain NumPy (or CuPy). With ``create_graph=True`` the engine hands the rule Tensors instead, whose
operators record nodes: the same line then builds the graph of the backward pass, and gradients of gradients
follow. `self.graph` says which of the two is running.
"""

from __future__ import annotations

import itertools

import numpy as np

from autodiff.grad_mode import state
from autodiff.tensor import Tensor, wrap_array

_ndarray = np.ndarray
_make = Tensor._make
_creation_order = itertools.count()


class GraphFreedError(RuntimeError):
    pass


class Function:
    # a subclass whose forward is elementwise with NumPy broadcasting sets this: inputs whose shape or
    # dtype differs from the output's are routed through explicit broadcast_to / cast nodes, so that its
    # backward rule never has to undo broadcasting (book ch. 1.6.1: the chain rule, one node at a time)
    broadcasts = False

    __slots__ = ("inputs", "arrays", "out", "needs", "seq", "__dict__")
    freed: bool = False
    hooks: list | None = None

    # -- building the graph ---------------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs, **params):
        node = cls()
        arrays = []
        needs = []
        record = False
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x.data)
                needs.append(x._requires_grad)
                record = record or x._requires_grad
            else:
                arrays.append(x)
                needs.append(False)
        try:
            out = node.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError) as exc:
            raise _op_error(cls, arrays, exc) from exc
        if type(out) is not _ndarray:
            out = wrap_array(out)
        if state.anomaly:
            _check_finite(cls, "forward", out, arrays)
        if not (record and state.grad_enabled):
            return _make(out, None)
        if cls.broadcasts:
            routed = _route_broadcasts(inputs, needs, out)
            if routed is not inputs:  # the rule sees the broadcast inputs
                inputs, arrays = routed, [x.data if isinstance(x, Tensor) else x for x in routed]
        node.inputs = inputs
        node.arrays = arrays
        node.out = out
        node.needs = tuple(needs)
        node.seq = next(_creation_order)  # consumers are made after their inputs: a topological order
        return _make(out, node)

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, g):
        raise NotImplementedError(f"{self.name} has no backward rule")

    # -- what backward rules read ----------------------------------------------------------------------
    @property
    def graph(self) -> bool:
        """Whether the backward pass running now is being recorded (``create_graph=True``)."""
        return state.recording_backward

    @property
    def args(self):
        """The inputs: arrays (as the forward pass saw them) when differentiating once, Tensors when the
        backward pass is recorded."""
        return self.inputs if state.recording_backward else self.arrays

    @property
    def result(self):
        """The output, as an array or (when recording) as a Tensor made by this very node."""
        if state.recording_backward:
            return _make(self.out, self)
        return self.out

    @property
    def name(self) -> str:
        return type(self).__name__.lower()

    def release(self) -> None:
        """Free what the backward pass needed (inputs, output, saved arrays): the graph is spent."""
        self.__dict__.clear()
        self.inputs = self.arrays = self.out = None
        self.freed = True

    def __repr__(self) -> str:
        return f"<{self.name} node>"


def _route_broadcasts(inputs, needs, out):
    """Inputs whose shape or dtype differ from the output's go through explicit cast/broadcast_to nodes."""
    shape, dtype = out.shape, out.dtype
    routed = None
    for i, x in enumerate(inputs):
        if needs[i] and (x.data.shape != shape or x.data.dtype != dtype):
            from autodiff.ops.shape import broadcast_to, cast

            routed = routed or list(inputs)
            routed[i] = broadcast_to(cast(x, dtype), shape)
    return inputs if routed is None else tuple(routed)


def _shapes(arrays) -> str:
    return " and ".join(str(tuple(np.shape(a))) for a in arrays if hasattr(a, "shape"))


def _op_error(cls, arrays, exc):
    name = cls.__name__.lower()
    kinds = {type(a).__module__.split(".")[0] for a in arrays if hasattr(a, "shape")}
    if len(kinds) > 1:
        return TypeError(f"{name}: inputs are on different devices (numpy and cupy arrays); "
                         f"move them with .to(device) first")
    explain = getattr(cls, "explain_error", None)
    message = explain(arrays) if explain else None
    return type(exc)(message or f"{name}: {exc} (input shapes {_shapes(arrays)})")


def _check_finite(cls, phase, value, arrays):
    data = value.data if hasattr(value, "requires_grad") else value
    if hasattr(data, "dtype") and data.dtype.kind == "f" and not bool(np.all(np.isfinite(data))):
        raise FloatingPointError(f"detect_anomaly: {cls.__name__.lower()} {phase} produced NaN or inf "
                                 f"(input shapes {_shapes(arrays)})")
