"""The kernel registry: named implementations of each primitive, per backend, chosen at run time.

An implementation's name says its backend: ``numpy_ref`` runs on NumPy arrays (the oracle: the simplest
correct code), ``cupy_naive``, ``cupy_fused`` and ``cupy_raw`` on CuPy arrays. For every op the registry keeps
one *active* implementation per backend; `dispatcher(op)` returns a function that looks at its first array
argument and calls the active implementation of that array's backend.

    kernels.available("matmul")            # ['numpy_ref', 'cupy_naive', 'cupy_raw', ...]
    kernels.use(matmul="cupy_raw")         # from now on
    with kernels.use(adam="cupy_fused"):   # only inside the block
        ...
    MINIRL_KERNELS="matmul=cupy_raw,adam=cupy_fused" python train.py
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

# op -> implementation name -> function
_implementations: dict[str, dict[str, Callable]] = {}
# backend -> op -> the active function (what dispatchers call; kept flat for speed)
_active: dict[str, dict[str, Callable]] = {"numpy": {}, "cupy": {}}
_active_names: dict[str, dict[str, str]] = {"numpy": {}, "cupy": {}}
# choices made (by MINIRL_KERNELS or use()) for implementations not registered yet (CuPy loads lazily)
_pending: dict[str, str] = {}
# the cupy.ndarray type and the cupy module once CuPy is loaded; None before
_cupy_ndarray = None
_cupy_module = None

# the implementation each backend uses unless told otherwise, in order of preference
DEFAULTS = {"numpy": ("numpy_fast", "numpy_ref"), "cupy": ("cupy_fused", "cupy_raw", "cupy_naive")}


def backend_of_impl(name: str) -> str:
    if name.startswith("numpy"):
        return "numpy"
    if name.startswith("cupy"):
        return "cupy"
    raise ValueError(f"kernel implementation names start with 'numpy' or 'cupy', got {name!r}")


def backend_of(array) -> str:
    """'cupy' for a CuPy array, 'numpy' for anything else (NumPy arrays and scalars)."""
    return "cupy" if _cupy_ndarray is not None and type(array) is _cupy_ndarray else "numpy"


def array_module(array):
    """The module an array's functions come from: NumPy, or CuPy for a CuPy array. Kernels written against
    it (``xp = array_module(x); xp.exp(x)``) run unchanged on either backend."""
    if _cupy_ndarray is not None and type(array) is _cupy_ndarray:
        return _cupy_module
    return np


def register(op: str, impl: str):
    """Decorator: ``@register("matmul", "numpy_ref")`` adds an implementation of `op`."""

    def add(fn: Callable) -> Callable:
        backend = backend_of_impl(impl)
        _implementations.setdefault(op, {})[impl] = fn
        chosen = _pending.get(op)
        current = _active_names[backend].get(op)
        if chosen == impl or current is None or (
            chosen is None and _rank(backend, impl) < _rank(backend, current)
        ):
            _set_active(op, impl)
        return fn

    return add


def _rank(backend: str, impl: str) -> int:
    order = DEFAULTS[backend]
    return order.index(impl) if impl in order else len(order)


def _set_active(op: str, impl: str) -> None:
    backend = backend_of_impl(impl)
    _active[backend][op] = _implementations[op][impl]
    _active_names[backend][op] = impl


def ops() -> list[str]:
    """Every op that has at least one implementation."""
    return sorted(_implementations)


def available(op: str | None = None):
    """The implementations of `op` (a list), or of every op (a dict op -> list)."""
    if op is None:
        return {name: sorted(impls) for name, impls in sorted(_implementations.items())}
    if op not in _implementations:
        raise KeyError(f"kernels: unknown op {op!r}; ops with implementations: {', '.join(ops())}")
    return sorted(_implementations[op])


def active(op: str, backend: str = "numpy") -> str:
    """The name of the implementation of `op` used for arrays of `backend`."""
    return _active_names[backend][op]


def get(op: str, impl: str | None = None, backend: str = "numpy") -> Callable:
    """An implementation by name, or the active one for `backend`."""
    if impl is None:
        return _active[backend][op]
    available(op)
    try:
        return _implementations[op][impl]
    except KeyError:
        raise KeyError(f"kernels: op {op!r} has no implementation {impl!r}; "
                       f"available: {', '.join(available(op))}") from None


class use:
    """Select implementations: ``use(matmul="cupy_raw")`` applies at once and, used as a context manager,
    restores the previous choices on exit."""

    def __init__(self, **choices: str):
        self._previous = []
        for op, impl in choices.items():
            backend = backend_of_impl(impl)
            if op in _implementations and impl in _implementations[op]:
                self._previous.append((op, backend, _active_names[backend].get(op), _pending.get(op)))
                _set_active(op, impl)
            elif backend == "cupy" and _cupy_ndarray is None and op in _implementations:
                # CuPy implementations register when CuPy loads: remember the choice until then
                self._previous.append((op, backend, _active_names[backend].get(op), _pending.get(op)))
                _pending[op] = impl
            else:
                available(op)  # raises for an unknown op
                raise KeyError(f"kernels.use: op {op!r} has no implementation {impl!r}; "
                               f"available: {', '.join(available(op))}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for op, backend, impl, pending in reversed(self._previous):
            if impl is not None:
                _set_active(op, impl)
            if pending is None:
                _pending.pop(op, None)
            else:
                _pending[op] = pending
        return False


def resolve(op: str, x) -> Callable:
    """The active implementation of `op` for the backend of the array `x`: what `dispatcher(op)` would run, looked
    up once for a loop that calls it many times (the layers of a network)."""
    if _cupy_ndarray is not None and type(x) is _cupy_ndarray:
        fn = _active["cupy"].get(op)
        if fn is None:
            raise KeyError(f"kernels: {op!r} has no CuPy implementation for a cupy array (registered: "
                           f"{', '.join(available(op))}); CuPy ones register from kernels/cupy_naive.py, "
                           f"cupy_fused.py and cupy_raw.py")
        return fn
    return _active["numpy"][op]


def dispatcher(op: str) -> Callable:
    """A function that runs the active implementation of `op` for the backend of its first argument."""
    numpy_table = _active["numpy"]

    def run(x, *args, **kwargs):
        if _cupy_ndarray is not None and type(x) is _cupy_ndarray:
            return resolve(op, x)(x, *args, **kwargs)
        return numpy_table[op](x, *args, **kwargs)

    run.__name__ = op
    run.__doc__ = f"Run the active implementation of {op!r} (see kernels.available({op!r}))."
    return run


def load_cupy():
    """Import CuPy and register the CuPy implementations; returns the cupy module (ImportError if absent)."""
    global _cupy_ndarray, _cupy_module
    try:
        import cupy
    except ImportError as exc:
        raise ImportError(f"CuPy is required for device='cuda' and the cupy_* kernels, but it cannot be imported "
                          f"({exc}); install it with pip install -e '.[gpu]' on a machine with an NVIDIA GPU, "
                          f"or stay on device='cpu'") from exc

    if _cupy_ndarray is None:
        _cupy_ndarray, _cupy_module = cupy.ndarray, cupy
        # the CuPy implementations register themselves on import; their kernels compile on first use
        from kernels import cupy_fused, cupy_naive, cupy_raw  # noqa: F401
        for op, impl in list(_pending.items()):
            if impl in _implementations.get(op, {}):
                _set_active(op, impl)
                del _pending[op]
    return cupy


def parse_env(value: str | None = None) -> dict[str, str]:
    """Parse ``MINIRL_KERNELS="op=impl,op=impl"`` into a dict, with clear errors."""
    value = os.environ.get("MINIRL_KERNELS", "") if value is None else value
    choices = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        op, sep, impl = item.partition("=")
        if not sep or not op.strip() or not impl.strip():
            raise ValueError(f"MINIRL_KERNELS: expected 'op=impl' items separated by commas, got {item!r}")
        choices[op.strip()] = impl.strip()
    return choices


def apply_env() -> None:
    for op, impl in parse_env().items():
        use(**{op: impl})


def is_contiguous(array) -> bool:
    return bool(array.flags.c_contiguous)


def require_contiguous(*arrays):
    """RawKernels index memory directly: hand them C-contiguous copies of strided inputs."""
    xp = np if backend_of(arrays[0]) == "numpy" else load_cupy()
    return tuple(a if a.flags.c_contiguous else xp.ascontiguousarray(a) for a in arrays)
