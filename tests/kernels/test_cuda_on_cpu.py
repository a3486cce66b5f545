"""The CUDA C of kernels/cupy_raw.cu, run on the CPU by the emulator in cuda_on_cpu.py and checked against NumPy.

CI has no GPU, so the GPU tests (test_kernels_gpu.py) skip there and the kernels' index arithmetic, bounds
checks, reductions and early returns would go untested. Here g++ compiles the same source against a small
CUDA shim, and each kernel is launched the way kernels/cupy_raw.py launches it (same grid, block and argument
order) on NumPy arrays, in float32 and float64. Outputs start as NaN, so an element a kernel forgets to write
fails the comparison, and the emulator's guard bands turn a write past an array's end into an error.

The emulator does not model timing, coalescing, warp divergence or concurrency between blocks (see
cuda_on_cpu.py). The tiled matrix products, the dense-layer epilogues, the gather and the squared error are
tested through cupy_raw.py itself, in test_cupy_raw_on_cpu.py.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from cuda_on_cpu import CompilerNotFound, CudaOnCpu, KernelError, find_compiler

from kernels import numpy_ref

try:
    find_compiler()
except CompilerNotFound as exc:
    pytest.skip(str(exc), allow_module_level=True)

SOURCE = Path(__file__).resolve().parents[2] / "kernels" / "cupy_raw.cu"
DTYPES = [np.float32, np.float64]
C_TYPE = {np.float32: "float", np.float64: "double"}
PER_LANE = (1, 4, 8, 32)  # cupy_raw.py's register-row variants: rows of up to 32, 128, 256, 1024 values
WARPS = 8  # rows per block of 256 threads in the warp-per-row kernels (cupy_raw.py's _launch_rows)
GRID_LIMIT = 2  # cupy_raw.py caps grid-stride kernels at 8 blocks per multiprocessor; 2 here: the loops loop

WARP_COLS = (1, 37, 200, 1000)  # per lane 1, 4, 8 and 32; all but the first are not multiples of 32
BLOCK_COLS = (37, 1500)  # a block per row: fewer columns than threads, and more
ROWS = 11  # not a multiple of WARPS: the last block has warps without a row, which return at once


def per_lane(cols: int) -> int:
    return next(k for k in PER_LANE if cols <= 32 * k)


def threads_for(cols: int) -> int:  # cupy_raw.py's _threads_for
    return min(256, 32 * max(1, math.ceil(cols / 32)))


def _names():
    """Every instantiation the tests launch (compiled once per session)."""
    names = []
    for t in C_TYPE.values():
        for k in sorted({per_lane(c) for c in WARP_COLS}):
            names += [f"softmax_warp_rows<{t}, {mode}, {k}>" for mode in range(3)]
            names += [f"softmax_warp_rows_backward<{t}, {mode}, {k}>" for mode in range(2)]
            names += [f"cross_entropy_warp_rows<{t}, {k}>"]
        names += [f"softmax_rows<{t}, {mode}>" for mode in range(3)]
        names += [f"softmax_rows_backward<{t}, {mode}>" for mode in range(2)]
        names += [f"cross_entropy_rows<{t}>", f"matmul_naive<{t}>", f"im2col<{t}>", f"col2im<{t}>"]
        names += [f"adam<{t}, {d}>" for d in ("false", "true")]
    return names + [f"adam_float4<{d}>" for d in ("false", "true")]


@pytest.fixture(scope="module")
def emu():
    try:
        return CudaOnCpu(SOURCE, _names())
    except CompilerNotFound as exc:
        pytest.skip(str(exc))


def assert_close(actual, expected, dtype):
    """float64 to rounding; float32 against a float64 reference computed from the same float32 inputs."""
    rtol, atol = (1e-12, 1e-12) if dtype == np.float64 else (1e-5, 1e-5)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def nan_like(shape, dtype):
    return np.full(shape, np.nan, dtype=dtype)


def logits(rows, cols, dtype, seed=0, huge=True):
    """Random logits, with the hard rows first: huge values of both signs, some −inf, all −inf."""
    x = 3 * np.random.default_rng(seed).standard_normal((rows, cols))
    if huge:
        x[0, ::2], x[0, 1::2] = 1e30, -1e30  # never exp(1e30): the row's max is subtracted first
    x[1, ::3] = -np.inf
    x[2] = -np.inf  # softmax 0/0 = NaN and logsumexp −inf, as numpy_ref gives
    return x.astype(dtype)


def reference(fn, *arrays):
    """numpy_ref's `fn` in float64 (the 0/0 of an all −inf row is expected: no warnings)."""
    with np.errstate(all="ignore"):
        return fn(*(a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays))


# -- the launches, as kernels/cupy_raw.py makes them (_launch_rows) -----------------------------------------------
def launch_warp_rows(emu, family, dtype, mode, arrays, rows, cols):
    mode_arg = "" if mode is None else f", {mode}"
    emu.launch(f"{family}<{C_TYPE[dtype]}{mode_arg}, {per_lane(cols)}>", (math.ceil(rows / WARPS),), (32 * WARPS,),
               tuple(arrays) + (np.int64(rows), np.int32(cols)))


def launch_block_rows(emu, family, dtype, mode, arrays, rows, cols):
    mode_arg = "" if mode is None else f", {mode}"
    emu.launch(f"{family}<{C_TYPE[dtype]}{mode_arg}>", (rows,), (threads_for(cols),), tuple(arrays) + (np.int32(cols),))


ROW_LAUNCHES = {"warp": (launch_warp_rows, "softmax_warp_rows", "softmax_warp_rows_backward", "cross_entropy_warp_rows",
                         WARP_COLS),
                "block": (launch_block_rows, "softmax_rows", "softmax_rows_backward", "cross_entropy_rows",
                          BLOCK_COLS)}
ROW_CASES = [(layout, cols) for layout, spec in ROW_LAUNCHES.items() for cols in spec[-1]]
ROW_IDS = [f"{layout}-{cols}cols" for layout, cols in ROW_CASES]


# -- softmax, log-softmax, logsumexp --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("layout, cols", ROW_CASES, ids=ROW_IDS)
@pytest.mark.parametrize("mode, ref", [(0, numpy_ref.softmax), (1, numpy_ref.log_softmax), (2, numpy_ref.logsumexp)],
                         ids=["softmax", "log_softmax", "logsumexp"])
def test_softmax_family(emu, layout, cols, mode, ref, dtype):
    launch, family = ROW_LAUNCHES[layout][:2]
    rows = ROWS if layout == "warp" else 3
    x = logits(rows, cols, dtype)
    y = nan_like((rows,) if mode == 2 else (rows, cols), dtype)
    launch(emu, family, dtype, mode, (x, y), rows, cols)
    assert_close(y, reference(ref, x), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("layout, cols", ROW_CASES, ids=ROW_IDS)
@pytest.mark.parametrize("mode", [0, 1], ids=["softmax", "log_softmax"])
def test_softmax_backward(emu, layout, cols, mode, dtype):
    launch, family = ROW_LAUNCHES[layout][0], ROW_LAUNCHES[layout][2]
    rows = ROWS if layout == "warp" else 3
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, cols))
    y = (numpy_ref.softmax(x) if mode == 0 else numpy_ref.log_softmax(x)).astype(dtype)
    g = rng.standard_normal((rows, cols)).astype(dtype)
    dx = nan_like((rows, cols), dtype)
    launch(emu, family, dtype, mode, (g, y, dx), rows, cols)
    ref = numpy_ref.softmax_backward if mode == 0 else numpy_ref.log_softmax_backward
    assert_close(dx, reference(ref, g, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("layout, cols", ROW_CASES, ids=ROW_IDS)
def test_cross_entropy(emu, layout, cols, dtype):
    launch, family = ROW_LAUNCHES[layout][0], ROW_LAUNCHES[layout][3]
    rows = ROWS if layout == "warp" else 3
    z = logits(rows, cols, dtype, seed=2, huge=False)  # huge logits: the next test
    targets = np.random.default_rng(3).integers(0, cols, rows).astype(np.int64)
    loss, grad = nan_like(rows, dtype), nan_like((rows, cols), dtype)
    launch(emu, family, dtype, None, (z, targets, loss, grad), rows, cols)
    expected_loss, expected_grad = reference(numpy_ref.softmax_cross_entropy, z, targets)
    assert_close(loss, expected_loss, dtype)
    assert_close(grad, expected_grad, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("layout", ["warp", "block"])
def test_cross_entropy_loss_with_huge_logits(emu, layout, dtype):
    launch, family = ROW_LAUNCHES[layout][0], ROW_LAUNCHES[layout][3]
    rows, cols = 3, 37
    z = logits(rows, cols, dtype, seed=2)  # row 0: 19 logits of 1e30 and 18 of −1e30
    targets = np.array([0, 2, 0], dtype=np.int64)  # row 0's target is one of its largest logits: loss log 19
    loss, grad = nan_like(rows, dtype), nan_like((rows, cols), dtype)
    launch(emu, family, dtype, None, (z, targets, loss, grad), rows, cols)
    expected_loss, expected_grad = reference(numpy_ref.softmax_cross_entropy, z, targets)
    assert_close(grad, expected_grad, dtype)  # the gradient is right
    assert_close(loss, expected_loss, dtype)


def test_warps_without_a_row_return_without_hanging(emu):
    """3 rows in a block of 8 warps: 5 warps return at once, before the others' shuffles. They must leave the
    warp barriers (and the block's) rather than hold the others up. A deadlock would raise (the emulator
    detects it); the timeout is only there so that a bug in the emulator itself fails instead of hanging."""
    x = logits(3, 37, np.float64)
    y = nan_like((3, 37), np.float64)
    done = []
    worker = threading.Thread(target=lambda: done.append(launch_warp_rows(emu, "softmax_warp_rows", np.float64, 0,
                                                                          (x, y), 3, 37)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert done, "the launch did not return within 30 s"
    assert_close(y, reference(numpy_ref.softmax, x), np.float64)


# -- Adam -----------------------------------------------------------------------------------------------------------
def adam_reference(p, g, m, v, t, lr, beta1, beta2, eps, wd, decoupled):
    """One step of the book's Adam (Algorithm 1.2) in float64; weight decay as L2 or decoupled (AdamW)."""
    p, g, m, v = (a.astype(np.float64) for a in (p, g, m, v))
    if wd:
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
    m = beta1 * m + (1 - beta1) * g  # m ← β1 m + (1 − β1) g
    v = beta2 * v + (1 - beta2) * g * g  # v ← β2 v + (1 − β2) g²
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v  # θ ← θ − α m̂ / (√v̂ + ε)


DECAY = [(0.0, False), (0.1, False), (0.1, True)]
DECAY_IDS = ["no-decay", "L2", "decoupled"]


def adam_case(emu, name, dtype, n, device_step, wd, decoupled, vector=1):
    """Launch `name` as cupy_raw.adam does and compare with the book's step."""
    rng = np.random.default_rng(4)
    p, g, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    v = rng.random(n).astype(dtype)
    before = [a.copy() for a in (p, g, m, v)]
    t, lr, beta1, beta2, eps = 7.0, 1e-2, 0.9, 0.999, 1e-8
    # a device step comes from a float64 counter (the host step is then 0); else the counter is a placeholder
    counter = np.array([t if device_step else 0.0])
    host_step = 0.0 if device_step else t
    blocks = max(1, min(GRID_LIMIT, math.ceil(n // vector / 256)))
    emu.launch(name, (blocks,), (256,), (p, g, m, v, np.int64(n // vector), np.float64(host_step), counter,
                                         np.float64(lr), np.float64(beta1), np.float64(beta2), np.float64(eps),
                                         np.float64(wd), np.bool_(decoupled)))
    expected = adam_reference(*before, t, lr, beta1, beta2, eps, wd, decoupled)
    for actual, want in zip((p, m, v), expected):
        assert_close(actual, want, dtype)
    np.testing.assert_array_equal(g, before[1])  # the gradient is read only
    assert np.all(p != before[0])  # every parameter moved: no element was skipped


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("device_step", [False, True], ids=["host-step", "device-step"])
@pytest.mark.parametrize("wd, decoupled", DECAY, ids=DECAY_IDS)
def test_adam(emu, dtype, device_step, wd, decoupled):
    flag = "true" if device_step else "false"
    adam_case(emu, f"adam<{C_TYPE[dtype]}, {flag}>", dtype, 1000, device_step, wd, decoupled)


@pytest.mark.parametrize("device_step", [False, True], ids=["host-step", "device-step"])
@pytest.mark.parametrize("wd, decoupled", DECAY, ids=DECAY_IDS)
def test_adam_float4(emu, device_step, wd, decoupled):
    # n/4 = 513 float4s: 3 blocks' worth on 2 blocks, so the grid-stride loop takes a second turn
    adam_case(emu, f"adam_float4<{'true' if device_step else 'false'}>", np.float32, 2052, device_step, wd, decoupled,
              vector=4)


# -- matrix products: the naive kernel ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shared", ["a", "b", "neither"])
def test_matmul_naive(emu, dtype, shared):
    """A batch of 3 products of (20 × 7)(7 × 19): 2 × 2 tiles of 16 × 16 threads per product, with edges; the
    `shared` operand is one matrix for the whole batch (batch stride 0)."""
    batch, m, k, n = 3, 20, 7, 19
    rng = np.random.default_rng(6)
    a = rng.standard_normal((m, k) if shared == "a" else (batch, m, k)).astype(dtype)
    b = rng.standard_normal((k, n) if shared == "b" else (batch, k, n)).astype(dtype)
    stride_a, stride_b = (0 if x.ndim == 2 else x.shape[-2] * x.shape[-1] for x in (a, b))
    c = nan_like(batch * m * n, dtype)
    emu.launch(f"matmul_naive<{C_TYPE[dtype]}>", (math.ceil(n / 16), math.ceil(m / 16), batch), (16, 16),
               (a, b, c, np.int32(m), np.int32(n), np.int32(k), np.int64(stride_a), np.int64(stride_b)))
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert_close(c.reshape(batch, m, n), np.broadcast_to(expected, (batch, m, n)), dtype)


# -- convolution as a matrix product: im2col and its adjoint col2im -------------------------------------------------
def conv_out(size, kernel, stride, pad):
    return (size + 2 * pad - kernel) // stride + 1


def im2col_loops(x, kh, kw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = conv_out(h, kh, stride, pad), conv_out(w, kw, stride, pad)
    cols = np.zeros((n, c, kh, kw, oh, ow))
    for b, ch, i, j, p, q in np.ndindex(cols.shape):
        r, s = p * stride + i - pad, q * stride + j - pad
        if 0 <= r < h and 0 <= s < w:
            cols[b, ch, i, j, p, q] = x[b, ch, r, s]
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im_loops(cols, shape, kh, kw, stride, pad):
    n, c, h, w = shape
    oh, ow = conv_out(h, kh, stride, pad), conv_out(w, kw, stride, pad)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    x = np.zeros(shape)
    for b, ch, i, j, p, q in np.ndindex(cols.shape):
        r, s = p * stride + i - pad, q * stride + j - pad
        if 0 <= r < h and 0 <= s < w:
            x[b, ch, r, s] += cols[b, ch, i, j, p, q]
    return x


CONV = [(1, 0), (2, 1)]  # (stride, padding)
SHAPE, KH, KW = (2, 3, 5, 6), 3, 2


def conv_scalars(stride, pad, total):
    """The scalar arguments of im2col and col2im, as cupy_raw.py passes them."""
    n, c, h, w = SHAPE
    oh, ow = conv_out(h, KH, stride, pad), conv_out(w, KW, stride, pad)
    return (*map(np.int32, (c, h, w, KH, KW, stride, pad, oh, ow)), np.int64(total))


def cols_shape(stride, pad):
    n, c, h, w = SHAPE
    return n, c * KH * KW, conv_out(h, KH, stride, pad) * conv_out(w, KW, stride, pad)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("stride, pad", CONV, ids=["stride1", "stride2-pad1"])
def test_im2col(emu, dtype, stride, pad):
    x = np.random.default_rng(7).standard_normal(SHAPE).astype(dtype)
    cols = nan_like(cols_shape(stride, pad), dtype)
    total = cols.size
    emu.launch(f"im2col<{C_TYPE[dtype]}>", (math.ceil(total / 256),), (256,),
               (x, cols) + conv_scalars(stride, pad, total))
    assert_close(cols, im2col_loops(x.astype(np.float64), KH, KW, stride, pad), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("stride, pad", CONV, ids=["stride1", "stride2-pad1"])
def test_col2im(emu, dtype, stride, pad):
    cols = np.random.default_rng(8).standard_normal(cols_shape(stride, pad)).astype(dtype)
    x = nan_like(SHAPE, dtype)
    total = x.size
    emu.launch(f"col2im<{C_TYPE[dtype]}>", (math.ceil(total / 256),), (256,),
               (cols, x) + conv_scalars(stride, pad, total))
    assert_close(x, col2im_loops(cols.astype(np.float64), SHAPE, KH, KW, stride, pad), dtype)


# -- the emulator's own checks: arguments, and the bugs it reports --------------------------------------------------
def test_arguments_are_checked_against_the_kernel_signature(emu):
    a, out = np.zeros((7, 150), np.float32), np.zeros((7, 150), np.float32)
    # adam<float, false>(p, g, m, v, n, step, step_on_device, lr, beta1, beta2, eps, wd, decoupled)
    good = (out, a, out, out, np.int64(7 * 150), np.float64(1.0), np.zeros(1), np.float64(1e-3), np.float64(0.9),
            np.float64(0.999), np.float64(1e-8), np.float64(0.0), np.bool_(False))

    def launch(*changes):
        args = list(good)
        for i, value in changes:
            args[i] = value
        emu.launch("adam<float, false>", (2,), (128,), tuple(args))

    with pytest.raises(TypeError, match=r"argument 4 \(long long( int)?\): expected np.int64, got np.int32"):
        launch((4, np.int32(7 * 150)))
    with pytest.raises(TypeError, match=r"argument 7 \(double\): expected np.float64, got float"):
        launch((7, 1e-3))
    with pytest.raises(TypeError, match=r"argument 1 \(const float\*\): expected an array of np.float32, got float64"):
        launch((1, a.astype(np.float64)))
    with pytest.raises(ValueError, match=r"C-contiguous"):
        launch((1, np.zeros((150, 7), np.float32).T))
    read_only = np.zeros((7, 150), np.float32)
    read_only.flags.writeable = False
    launch((1, read_only))  # a const float* may be read-only
    with pytest.raises(ValueError, match=r"argument 0 \(float\*\): the kernel may write .* read-only"):
        launch((0, read_only))
    with pytest.raises(TypeError, match=r"takes 13 arguments"):
        emu.launch("adam<float, false>", (2,), (128,), good[:-1])
    with pytest.raises(ValueError, match=r"at most 1024 threads"):
        emu.launch("adam<float, false>", (2,), (64, 32), good)
    with pytest.raises(ValueError, match=r"not one of the instantiations .* add it"):
        emu.launch("adam<int, false>", (2,), (128,), good)


def test_the_library_is_cached(emu):
    again = CudaOnCpu(SOURCE, _names())  # the same header, source and names: no second compile
    assert again.library_path == emu.library_path


# Kernels with the bugs the emulator is there to catch, and a few CUDA features cupy_raw.cu does not use yet.
SELF_TEST_SOURCE = r"""
struct Pair { int a; double b; };

// each thread writes its threadIdx and blockIdx at its global linear index
__global__ void coordinates(int* out) {
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    int* o = out + 6 * (b * blockDim.x * blockDim.y * blockDim.z + t);
    o[0] = threadIdx.x; o[1] = threadIdx.y; o[2] = threadIdx.z; o[3] = blockIdx.x; o[4] = blockIdx.y; o[5] = blockIdx.z;
}

__global__ void warp_ops(int* out) {
    const int lane = threadIdx.x & 31, v = 100 + (int)threadIdx.x;
    int* o = out + 6 * threadIdx.x;
    o[0] = __shfl_sync(0xffffffffu, v, 3);
    o[1] = __shfl_down_sync(0xffffffffu, v, 4);
    o[2] = __shfl_up_sync(0xffffffffu, v, 4);
    o[3] = __shfl_xor_sync(0xffffffffu, v, 5);
    o[4] = __shfl_xor_sync(0xffffffffu, v, 8, 16);
    o[5] = (int)__ballot_sync(0xffffffffu, lane % 3 == 0);
}

// a tree sum in shared memory per block, and the same sums with atomics; a struct by value
__global__ void sums(const float* x, float* block_sums, double* total, int* count, const Pair pair, double* pair_out) {
    __shared__ float s[256];
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    s[threadIdx.x] = x[i];
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) s[threadIdx.x] += s[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) block_sums[blockIdx.x] = s[0];
    atomicAdd(total, (double)x[i]);
    atomicAdd(count, 1);
    if (i == 0) pair_out[0] = pair.a + pair.b;
}

// lane 0 goes straight to __syncthreads while its warp waits for it in a shuffle
__global__ void lane_skips_shuffle(int* out) {
    int v = threadIdx.x;
    if (threadIdx.x != 0) v = __shfl_xor_sync(0xffffffffu, v, 1);
    __syncthreads();
    out[threadIdx.x] = v;
}

// half the warp returns, the other half shuffles with it
__global__ void reads_exited_lane(int* out) {
    if (threadIdx.x >= 16) return;
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 16);
}

__global__ void off_by_one(float* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f;  // should be i < n
}
"""
SELF_TEST_NAMES = ["coordinates", "warp_ops", "sums", "lane_skips_shuffle", "reads_exited_lane", "off_by_one"]


@pytest.fixture(scope="module")
def self_test(tmp_path_factory):
    source = tmp_path_factory.mktemp("cuda_on_cpu") / "self_test.cu"
    source.write_text(SELF_TEST_SOURCE)
    return CudaOnCpu(source, SELF_TEST_NAMES)


def test_threads_are_numbered_as_in_cuda(self_test):
    grid, block = (2, 1, 2), (4, 3, 2)
    out = np.full((2, 1, 2, 2, 3, 4, 6), -1, np.int32)  # (bz, by, bx, tz, ty, tx): x fastest, as CUDA numbers
    self_test.launch("coordinates", grid, block, (out,))
    bz, by, bx, tz, ty, tx = np.indices(out.shape[:-1])
    np.testing.assert_array_equal(out, np.stack([tx, ty, tz, bx, by, bz], axis=-1))


def test_warp_intrinsics_follow_the_cuda_rules(self_test):
    out = np.zeros((64, 6), np.int32)
    self_test.launch("warp_ops", (1,), (64,), (out,))
    tid = np.arange(64)
    lane, base = tid % 32, tid - tid % 32
    v = 100 + tid
    np.testing.assert_array_equal(out[:, 0], 100 + base + 3)  # every lane reads lane 3 of its warp
    np.testing.assert_array_equal(out[:, 1], np.where(lane + 4 < 32, v + 4, v))  # past the end: own value
    np.testing.assert_array_equal(out[:, 2], np.where(lane >= 4, v - 4, v))
    np.testing.assert_array_equal(out[:, 3], 100 + base + (lane ^ 5))
    np.testing.assert_array_equal(out[:, 4], 100 + base + (lane ^ 8))  # stays in its group of 16
    np.testing.assert_array_equal(out[:, 5], sum(1 << l for l in range(0, 32, 3)))  # lanes 0, 3, ..., 30


def test_shared_memory_atomics_and_struct_arguments(self_test):
    x = np.random.default_rng(9).standard_normal(512).astype(np.float32)
    block_sums, total, count, pair_out = nan_like(2, np.float32), np.zeros(1), np.zeros(1, np.int32), np.zeros(1)
    pair = np.zeros(1, dtype=np.dtype([("a", np.int32), ("b", np.float64)], align=True))
    pair["a"], pair["b"] = 3, 0.25
    self_test.launch("sums", (2,), (256,), (x, block_sums, total, count, pair, pair_out))
    np.testing.assert_allclose(block_sums, x.reshape(2, 256).sum(axis=1, dtype=np.float64), rtol=1e-5)
    np.testing.assert_allclose(total, x.sum(dtype=np.float64), rtol=1e-12)
    assert count[0] == 512 and pair_out[0] == 3.25


def test_a_deadlock_is_reported_not_hung(self_test):
    with pytest.raises(KernelError, match=r"deadlock in block \(0, 0, 0\).*__syncthreads: 33 of 64 .*"
                                          r"warp 0 shuffle or __syncwarp: 31 of 32"):
        self_test.launch("lane_skips_shuffle", (1,), (64,), (np.zeros(64, np.int32),))


def test_a_shuffle_from_an_exited_lane_is_reported(self_test):
    # lanes 0–15 read lanes 16–31, which have returned
    with pytest.raises(KernelError, match=r"__shfl_xor_sync reads lane (1[6-9]|2\d|3[01]), which has exited"):
        self_test.launch("reads_exited_lane", (1,), (32,), (np.zeros(32, np.int32),))


def test_a_write_past_the_end_is_reported(self_test):
    out = np.zeros(300, np.float32)
    with pytest.raises(KernelError, match=r"off_by_one wrote outside argument 0 .* past its end \(the first changed "
                                          r"byte is byte 1200, in element 300 of 300\)"):
        self_test.launch("off_by_one", (2,), (256,), (out, np.int32(300)))
