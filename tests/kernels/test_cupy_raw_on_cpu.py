"""kernels/cupy_raw.py as a whole, on the CPU: its Python (checks, copies, launch shapes, arguments) and its
CUDA C (kernels/cupy_raw.cu, compiled by g++ and run by the emulator of cuda_on_cpu.py), against numpy_ref on
the very inputs the GPU tests use (test_kernels_gpu.py's table: random, float32, strided, transposed,
broadcast, 0-d, tile edges, ...).

CI has no GPU. Here a private copy of cupy_raw.py is loaded with NumPy standing in for CuPy (every array
function it calls exists in both) and the four functions of it that touch the GPU itself replaced: `kernel`
returns the emulator's kernel, `_address` an array's host address, `_device_id` 0 and `_grid_limit` 2 (so
that grid-stride loops really loop). Its implementations are collected, not registered: the real registry
never sees them. Where the CUDA toolkit is installed, nvcc also compiles the source with every instantiation,
as NVRTC will on a GPU. What this cannot check (timing, coalescing, concurrency between blocks, CuPy's own
calls) is left to the GPU tests.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cuda_on_cpu import CompilerNotFound, CudaOnCpu, find_compiler
from test_kernels_gpu import _cases, compare_with_numpy_ref

import kernels
from kernels import registry

try:
    find_compiler()
except CompilerNotFound as exc:
    pytest.skip(str(exc), allow_module_level=True)

KERNELS = Path(kernels.__file__).resolve().parent


def _load_cupy_raw_on_numpy():
    """A private copy of kernels/cupy_raw.py on NumPy arrays, and its implementations {(op, impl): fn}."""
    collected = {}

    def collect(op, impl):
        def add(fn):
            collected[op, impl] = fn
            return fn
        return add

    spec = importlib.util.spec_from_file_location("cupy_raw_on_cpu", KERNELS / "cupy_raw.py")
    module = importlib.util.module_from_spec(spec)
    saved_cupy, saved_register = sys.modules.get("cupy"), registry.register
    sys.modules["cupy"], registry.register = np, collect
    try:
        spec.loader.exec_module(module)
    finally:
        registry.register = saved_register
        if saved_cupy is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = saved_cupy
    return module, collected


MODULE, IMPLEMENTATIONS = _load_cupy_raw_on_numpy()


@pytest.fixture(scope="module")
def raw():
    """The private cupy_raw with every instantiation it names compiled by the emulator."""
    try:
        emulator = CudaOnCpu(KERNELS / "cupy_raw.cu", MODULE._instantiations())
    except CompilerNotFound as exc:
        pytest.skip(str(exc))
    MODULE.kernel = emulator.get_function
    MODULE._address = lambda array: array.ctypes.data
    MODULE._device_id = lambda array: 0
    MODULE._grid_limit = lambda: 2
    return MODULE


def test_every_cupy_raw_op_is_covered():
    assert {op for op, _ in IMPLEMENTATIONS} >= {"dense_forward", "dense_delta", "dense_param_grads", "squared_error",
                                                "gather_into", "adam", "matmul", "softmax_cross_entropy"}
    for op, impl in IMPLEMENTATIONS:
        assert impl.startswith("cupy_raw") and _cases(op), f"{op} {impl}: no inputs in test_kernels_gpu._cases"


@pytest.mark.parametrize("op, impl", sorted(IMPLEMENTATIONS), ids=lambda v: v)
def test_cupy_raw_on_the_cpu_matches_numpy_ref(raw, op, impl):
    compare_with_numpy_ref(op, impl, IMPLEMENTATIONS[op, impl], np)


def test_the_tiled_product_sums_rows_and_applies_each_epilogue(raw):
    """The epilogues on a product bigger than one tile in every direction, batch 1, both dtypes."""
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal((70, 45)).astype(dtype), rng.standard_normal((45, 37)).astype(dtype)
        bias, y = rng.standard_normal(37).astype(dtype), np.tanh(rng.standard_normal((70, 37))).astype(dtype)
        tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
        product = a.astype(np.float64) @ b
        sums = np.empty(70, dtype)
        # A read transposed in place, as ∂L/∂W = δᵀ h reads δ; its row sums are ∂L/∂b
        out = raw.tiled_product(np.ascontiguousarray(a.T), b, 70, 37, 45, trans_a=True, shape=(70, 37), row_sums=sums)
        np.testing.assert_allclose(out, product, **tol)
        np.testing.assert_allclose(sums, a.sum(axis=1), **tol)
        out = raw.tiled_product(a, np.ascontiguousarray(b.T), 70, 37, 45, trans_b=True, shape=(70, 37),
                                epilogue=raw.BIAS_ACTIVATION, activation="sigmoid", vec=bias)
        np.testing.assert_allclose(out, 1 / (1 + np.exp(-(product + bias))), **tol)
        out = raw.tiled_product(a, b, 70, 37, 45, shape=(70, 37), epilogue=raw.TIMES_DERIVATIVE,
                                activation="tanh", vec=y)
        np.testing.assert_allclose(out, product * (1 - y.astype(np.float64) ** 2), **tol)


def test_the_dense_ops_refuse_what_they_cannot_compute(raw):
    h, w = np.ones((4, 3)), np.ones((5, 3))
    with pytest.raises(ValueError, match=r"dense_forward: input of shape \(4, 3\) does not chain with a weight of "
                                         r"shape \(5, 2\)"):
        raw.dense_forward(h, np.ones((5, 2)))
    with pytest.raises(TypeError, match="dense_forward: input and weight must share a dtype, got float64 and float32"):
        raw.dense_forward(h, w.astype(np.float32))
    with pytest.raises(ValueError, match=r"bias must have shape \(5,\)"):
        raw.dense_forward(h, w, np.ones(4))
    with pytest.raises(ValueError, match="activation must be None or one of 'tanh', 'relu', 'sigmoid', got 'elu'"):
        raw.dense_forward(h, w, None, "elu")
    with pytest.raises(ValueError, match=r"dense_delta: the layer below's output y must have shape \(4, 3\)"):
        raw.dense_delta(np.ones((4, 5)), w, None, "tanh")
    flat = np.zeros(4)
    with pytest.raises(ValueError, match="gather_into: 2 destinations but 1 arrays"):
        raw.gather_into(flat, [flat[:2], flat[2:]], [np.ones(2)])
    # a destination is written in place: a strided one cannot be copied first, so it is refused, never misread
    with pytest.raises(ValueError, match=r"gather_into: destination 0 must be C-contiguous, got strides \(16,\)"):
        raw.gather_into(flat, [flat[::2]], [np.ones(2)])
    assert not flat.any()


def test_the_cuda_source_compiles_for_a_gpu(tmp_path):
    """g++ through the shim accepts some things a GPU compiler would not (and the other way round): nvcc, where
    installed, compiles the source with every instantiation cupy_raw.py names, as NVRTC will on the GPU."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not installed: the CUDA compile check needs the CUDA toolkit")
    source = (KERNELS / "cupy_raw.cu").read_text()
    uses = "\n".join(f"auto* use_{i} = &{name};" for i, name in enumerate(MODULE._instantiations()))
    (tmp_path / "all.cu").write_text(source + "\n// every instantiation cupy_raw.py launches\n" + uses + "\n")
    result = subprocess.run([nvcc, "-std=c++17", "-arch=sm_90", "--ptx", "-o", str(tmp_path / "all.ptx"),
                             str(tmp_path / "all.cu")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    entries = (tmp_path / "all.ptx").read_text().count(".entry ")
    assert entries == len(MODULE._instantiations())
