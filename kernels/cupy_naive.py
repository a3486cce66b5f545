"""`cupy_naive`: every kernel as a composition of CuPy's ufuncs, the GPU baseline.

These are not new code: `numpy_ref` is written against the array module of its input (``xp = array_module(x)``),
so on CuPy arrays the very same functions run on the GPU, each ufunc (`exp`, `max`, `sum`, `-`, ...) one kernel
launch that reads its inputs from device memory and writes a full-size temporary back. That is what "naive"
means here: correct, and as slow as the number of passes over memory. `cupy_fused` and `cupy_raw` do the same
arithmetic in fewer passes; `python -m kernels.bench` measures the difference.

For matmul the naive choice is `cupy.matmul`, which calls cuBLAS: the vendor's tuned library, and the ceiling
the hand-written `cupy_raw_*` matrix products are measured against.
"""

from __future__ import annotations

from kernels import numpy_ref  # noqa: F401  (the functions registered below)
from kernels.registry import get, ops, register

NAIVE = "cupy_naive"

for _op in ops():
    register(_op, NAIVE)(get(_op, numpy_ref.REF))
