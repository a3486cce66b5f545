"""The BLAS thread count. RL networks multiply small matrices (64×64, batch 64): there, OpenBLAS's threads
cost far more in synchronisation than they save (on a busy two-core machine, ten times more), so kernels
runs BLAS on one thread unless ``MINIRL_BLAS_THREADS`` says otherwise. Large matrices (benchmarks of
4096³ products) may want ``MINIRL_BLAS_THREADS=0``, which leaves the library's own default alone.
"""

from __future__ import annotations

import ctypes
import glob
import os

_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
            "openblas_set_num_threads", "MKL_Set_Num_Threads")


def _blas_libraries():
    import numpy as np

    root = os.path.dirname(os.path.dirname(np.__file__))
    patterns = [os.path.join(root, "numpy.libs", "*blas*"), os.path.join(root, "scipy_openblas*", "lib", "*blas*")]
    return [path for pattern in patterns for path in glob.glob(pattern)]


def set_blas_threads(n: int) -> bool:
    """Set the number of BLAS threads NumPy's matmul uses; returns whether a BLAS library took it."""
    done = False
    for path in _blas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(ctypes.c_int(int(n)))
                done = True
                break
    return done


def apply_env() -> None:
    value = os.environ.get("MINIRL_BLAS_THREADS", "1").strip()
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"MINIRL_BLAS_THREADS: expected a whole number (0 keeps the BLAS default), got {value!r}")
    if n > 0:
        set_blas_threads(n)
