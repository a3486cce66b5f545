"""Whether operations record the graph: `no_grad()`, `enable_grad()`, `detect_anomaly()`.

The state is one module-level flag that `Function.apply` reads on every op (book ch. 1.6.1: the forward pass
records what the backward pass needs; evaluation and target computations need not record anything).
"""

from __future__ import annotations

import functools


class _State:
    grad_enabled = True
    anomaly = False
    recording_backward = False  # set by the engine while it runs backward rules with create_graph=True


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


class _GradMode:
    enabled: bool

    def __enter__(self):
        self._previous = state.grad_enabled
        state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        """Also usable as a decorator."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Operations inside do not record a graph: results have ``requires_grad=False``."""

    enabled = False


class enable_grad(_GradMode):
    """Recording back on, e.g. inside a `no_grad` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    def __init__(self, mode: bool):
        self.enabled = bool(mode)

    def __call__(self, fn):
        raise TypeError("set_grad_enabled is a context manager, not a decorator")


class detect_anomaly:
    """Check every op's forward output and backward gradients for NaN or inf, and raise at the first one
    with the op's name and its input shapes (slower: use it while debugging)."""

    def __enter__(self):
        self._previous = state.anomaly
        state.anomaly = True
        return self

    def __exit__(self, *exc):
        state.anomaly = self._previous
        return False
