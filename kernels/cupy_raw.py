"""`cupy_raw`: the teaching kernels, hand-written in CUDA C++ (kernels/cupy_raw.cu) and launched as RawKernels.

Each Python function here checks its inputs, copies strided ones to C-contiguous memory (a RawKernel indexes
raw pointers, so a strided view would be read wrongly, never slowly: `require_contiguous`), picks the template
instantiation for the dtype, chooses the launch shape, and launches. The CUDA source is one file with one comment
per kernel saying what it computes and why it is laid out as it is; read it beside this one.

Matrix products come in two versions, `cupy_raw_naive` (one thread per output) and `cupy_raw_tiled` (shared
memory tiles and register blocking), registered under those names. The default matmul stays cuBLAS
(`cupy_naive`), which the tiled kernel is measured against; choose ours with ``kernels.use(matmul=...)``, as the
CUDA-graph training step does (CuPy cannot capture its cuBLAS calls into a graph).
"""

from __future__ import annotations

import math
from pathlib import Path

import cupy
import numpy as np

from kernels.registry import register, require_contiguous

RAW = "cupy_raw"
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
# the tile shape (BM, BN, BK, TM, TN) of the generic matmul_tiled; large float32 products use matmul_tiled_float4
_TILES = {"small": (32, 32, 8, 4, 4)}


_PER_LANE = (1, 4, 8, 32)  # register-row variants of the warp-per-row kernels: rows of up to 32, 128, 256, 1024
_BOOLS = ("false", "true")


def _instantiations():
    names = []
    for t in _TYPES.values():
        names += [f"softmax_rows<{t}, {mode}>" for mode in range(3)]
        names += [f"softmax_rows_backward<{t}, {mode}>" for mode in range(2)]
        for k in _PER_LANE:
            names += [f"softmax_warp_rows<{t}, {mode}, {k}>" for mode in range(3)]
            names += [f"softmax_warp_rows_backward<{t}, {mode}, {k}>" for mode in range(2)]
            names += [f"cross_entropy_warp_rows<{t}, {k}>"]
        names += [f"cross_entropy_rows<{t}>", f"gae<{t}>", f"matmul_naive<{t}>", f"im2col<{t}>", f"col2im<{t}>"]
        names += [f"adam<{t}, {d}>" for d in _BOOLS]
        tile = ", ".join(map(str, _TILES["small"]))
        names += [f"matmul_tiled<{t}, {tile}, {ta}, {tb}>" for ta in _BOOLS for tb in _BOOLS]
    names += [f"matmul_tiled_float4<{ta}, {tb}>" for ta in _BOOLS for tb in _BOOLS]
    names += [f"adam_float4<{d}>" for d in _BOOLS]
    return names


_module = None


def kernel(name: str):
    """The compiled kernel `name` (a template instantiation, e.g. "gae<float>"); compiles the module once."""
    global _module
    if _module is None:
        source = (Path(__file__).with_name("cupy_raw.cu")).read_text()
        _module = cupy.RawModule(code=source, options=("-std=c++17",), name_expressions=_instantiations())
    return _module.get_function(name)


def _type(array) -> str:
    try:
        return _TYPES[array.dtype]
    except KeyError:
        raise TypeError(f"cupy_raw kernels take float32 or float64 arrays, got {array.dtype}") from None


# -- the softmax family: one block per row ----------------------------------------------------------------------
def _threads_for(cols: int) -> int:
    return min(256, 32 * max(1, math.ceil(cols / 32)))  # a warp at least, 256 threads at most


def _as_rows(x, axis):
    """x as a contiguous (rows, cols) array with `axis` (an int, a tuple or None) last, and the shape to
    restore: the softmax kernels work on rows."""
    axes = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(sorted(a % x.ndim for a in axes)) if x.ndim else ()
    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = cupy.ascontiguousarray(x.transpose(rest + axes))
    cols = math.prod(x.shape[a] for a in axes)
    return moved.reshape(-1, cols), rest + axes, moved.shape


def _from_rows(rows, order, moved_shape):
    return cupy.ascontiguousarray(rows.reshape(moved_shape).transpose(np.argsort(order)))


def _launch_rows(name, arrays, n_rows, cols, mode=None):
    """Run a row kernel: a warp per row with the row in registers when it fits (≤ 1024 values), else a block
    per row. `name` is the kernel family ("softmax", "softmax_backward", "cross_entropy")."""
    t = _type(arrays[0])
    mode_arg = "" if mode is None else f", {mode}"
    per_lane = next((k for k in _PER_LANE if cols <= 32 * k), None)
    if per_lane is not None:
        warps = 8  # rows per block of 256 threads
        family = {"softmax": "softmax_warp_rows", "softmax_backward": "softmax_warp_rows_backward",
                  "cross_entropy": "cross_entropy_warp_rows"}[name]
        kernel(f"{family}<{t}{mode_arg}, {per_lane}>")((math.ceil(n_rows / warps),), (32 * warps,),
                                                       tuple(arrays) + (np.int64(n_rows), np.int32(cols)))
    else:
        family = {"softmax": "softmax_rows", "softmax_backward": "softmax_rows_backward",
                  "cross_entropy": "cross_entropy_rows"}[name]
        kernel(f"{family}<{t}{mode_arg}>")((n_rows,), (_threads_for(cols),), tuple(arrays) + (np.int32(cols),))


def _softmax_like(x, axis, mode):
    rows, order, moved_shape = _as_rows(x, axis)
    out = cupy.empty_like(rows)
    _launch_rows("softmax", (rows, out), rows.shape[0], rows.shape[1], mode)
    return _from_rows(out, order, moved_shape)


@register("softmax", RAW)
def softmax(x, axis=-1):
    return _softmax_like(x, axis, 0)


@register("log_softmax", RAW)
def log_softmax(x, axis=-1):
    return _softmax_like(x, axis, 1)


@register("logsumexp", RAW)
def logsumexp(x, axis=-1, keepdims=False):
    rows, order, moved_shape = _as_rows(x, axis)
    out = cupy.empty(rows.shape[0], dtype=x.dtype)
    _launch_rows("softmax", (rows, out), rows.shape[0], rows.shape[1], 2)
    reduced = set(order[len(order) - _count_axes(x, axis):])  # _as_rows moved the reduced axes last
    if keepdims:
        return out.reshape([1 if a in reduced else x.shape[a] for a in range(x.ndim)])
    return out.reshape([x.shape[a] for a in range(x.ndim) if a not in reduced])


def _count_axes(x, axis) -> int:
    if axis is None:
        return x.ndim
    return 1 if isinstance(axis, (int, np.integer)) else len(axis)


def _softmax_backward_like(g, y, axis, mode):
    g = cupy.broadcast_to(g, y.shape)
    g_rows, order, moved_shape = _as_rows(g, axis)
    y_rows, _, _ = _as_rows(y, axis)
    dx = cupy.empty_like(y_rows)
    _launch_rows("softmax_backward", (g_rows, y_rows, dx), y_rows.shape[0], y_rows.shape[1], mode)
    return _from_rows(dx, order, moved_shape)


@register("softmax_backward", RAW)
def softmax_backward(g, y, axis=-1):
    return _softmax_backward_like(g, y, axis, 0)


@register("log_softmax_backward", RAW)
def log_softmax_backward(g, y, axis=-1):
    return _softmax_backward_like(g, y, axis, 1)


@register("softmax_cross_entropy", RAW)
def softmax_cross_entropy(logits, targets):
    if logits.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: expected logits of shape (N, C), got shape {logits.shape}")
    (logits,) = require_contiguous(logits)
    targets = cupy.ascontiguousarray(targets, dtype=cupy.int64)
    n, classes = logits.shape
    loss = cupy.empty(n, dtype=logits.dtype)
    grad = cupy.empty_like(logits)
    _launch_rows("cross_entropy", (logits, targets, loss, grad), n, classes)
    return loss, grad


# -- Adam ---------------------------------------------------------------------------------------------------
_NO_COUNTER = {}  # a placeholder pointer for the kernels' unused device-step argument, one per device


@register("adam", RAW)
def adam(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    for name, array in (("param", param), ("m", m), ("v", v)):
        if not array.flags.c_contiguous:
            raise ValueError(f"cupy_raw adam updates {name} in place and needs it C-contiguous; got strides "
                             f"{array.strides}")
    (grad,) = require_contiguous(grad)
    on_device = isinstance(step, cupy.ndarray)
    if on_device:
        counter = step.astype(cupy.float64, copy=False).reshape(1)
    else:
        device = param.device.id
        counter = _NO_COUNTER.get(device)
        if counter is None:
            counter = _NO_COUNTER[device] = cupy.zeros(1, dtype=cupy.float64)
    flag = "true" if on_device else "false"
    host_step = 0.0 if on_device else float(step)
    args = (np.float64(host_step), counter, np.float64(lr), np.float64(beta1), np.float64(beta2), np.float64(eps),
            np.float64(weight_decay), np.bool_(decoupled))
    n = param.size
    vectorized = param.dtype == np.float32 and n % 4 == 0 and all(a.data.ptr % 16 == 0 for a in (param, grad, m, v))
    if vectorized:
        blocks = max(1, min(_grid_limit(), math.ceil(n // 4 / 256)))
        kernel(f"adam_float4<{flag}>")((blocks,), (256,), (param, grad, m, v, np.int64(n // 4)) + args)
    else:
        blocks = max(1, min(_grid_limit(), math.ceil(n / 256)))
        kernel(f"adam<{_type(param)}, {flag}>")((blocks,), (256,), (param, grad, m, v, np.int64(n)) + args)
    return param


def _grid_limit() -> int:
    """Enough 256-thread blocks to fill every multiprocessor several times over; more only adds scheduling."""
    return 8 * cupy.cuda.Device().attributes["MultiProcessorCount"]


# -- GAE ----------------------------------------------------------------------------------------------------
@register("gae", RAW)
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    dtype = rewards.dtype
    arrays = [cupy.ascontiguousarray(a, dtype=dtype) for a in (rewards, values, next_values, terminated, truncated)]
    shape = rewards.shape
    steps = shape[0]
    envs = math.prod(shape[1:])
    advantages = cupy.empty(shape, dtype=dtype)
    threads = 128
    kernel(f"gae<{_type(rewards)}>")((math.ceil(envs / threads),), (threads,),
                                     tuple(arrays) + (advantages, np.int32(steps), np.int32(envs),
                                                      np.float64(gamma), np.float64(lam)))
    return advantages


# -- matrix products -----------------------------------------------------------------------------------------
def _batched(a, b):
    """a (..., M, K) and b (..., K, N) as contiguous stacks (batch_a, M, K), (batch_b, K, N) whose batch strides
    broadcast (0 for an operand shared by every batch entry), and the output shape."""
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError(f"matmul: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    a2 = a.reshape(1, -1) if a.ndim == 1 else a
    b2 = b.reshape(-1, 1) if b.ndim == 1 else b
    if a2.shape[-1] != b2.shape[-2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned")
    if a2.dtype != b2.dtype:
        raise TypeError(f"cupy_raw matmul: operands must share a dtype, got {a.dtype} and {b.dtype}")
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    m, k, n = a2.shape[-2], a2.shape[-1], b2.shape[-1]

    def stack(x):
        if x.shape[:-2] == batch or x.ndim == 2:
            x = cupy.ascontiguousarray(x)
            return x, (0 if x.ndim == 2 else x.shape[-2] * x.shape[-1])
        x = cupy.ascontiguousarray(cupy.broadcast_to(x, batch + x.shape[-2:]))
        return x, x.shape[-2] * x.shape[-1]

    (a3, stride_a), (b3, stride_b) = stack(a2), stack(b2)
    out_shape = batch + (m, n)
    if a.ndim == 1:
        out_shape = out_shape[:-2] + out_shape[-1:]
    if b.ndim == 1:
        out_shape = out_shape[:-1]
    return a3, b3, stride_a, stride_b, m, n, k, math.prod(batch), out_shape


@register("matmul", "cupy_raw_naive")
def matmul_naive(a, b):
    a3, b3, stride_a, stride_b, m, n, k, batch, out_shape = _batched(a, b)
    c = cupy.empty(batch * m * n, dtype=a3.dtype)
    kernel(f"matmul_naive<{_type(a3)}>")((math.ceil(n / 16), math.ceil(m / 16), batch), (16, 16),
                                         (a3, b3, c, np.int32(m), np.int32(n), np.int32(k), np.int64(stride_a),
                                          np.int64(stride_b)))
    return c.reshape(out_shape)


def tiled_product(a3, b3, m, n, k, batch=1, stride_a=0, stride_b=0, alpha=1.0, trans_a=False, trans_b=False):
    """C = alpha · op(A) · op(B) with the tiled kernels, on contiguous operands (op: transposed when trans_*);
    the building block of matmul, of the dense layer's Wᵀ and of the K-FAC factor AᵀA / n."""
    dtype = a3.dtype
    flags = f"{'true' if trans_a else 'false'}, {'true' if trans_b else 'false'}"
    if dtype == np.float32 and m >= 128 and n >= 128:
        name, (bm, bn), threads = f"matmul_tiled_float4<{flags}>", (128, 128), 256
    else:
        bm, bn, bk, tm, tn = _TILES["small"]
        name, threads = f"matmul_tiled<{_type(a3)}, {bm}, {bn}, {bk}, {tm}, {tn}, {flags}>", (bm // tm) * (bn // tn)
    c = cupy.empty(batch * m * n, dtype=dtype)
    kernel(name)((math.ceil(n / bn), math.ceil(m / bm), batch), (threads,),
                 (a3, b3, c, np.int32(m), np.int32(n), np.int32(k), np.int64(stride_a), np.int64(stride_b),
                  dtype.type(alpha)))
    return c


def _plain_or_transposed(x):
    """A 2-D operand as (contiguous array, transposed?): the transpose of a contiguous matrix (a weight's .T)
    is read in place by the kernel instead of being copied."""
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:
        return x.T, True
    return cupy.ascontiguousarray(x), False


@register("matmul", "cupy_raw_tiled")
def matmul_tiled(a, b):
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.shape[1] == b.shape[0]:
        (a2, trans_a), (b2, trans_b) = _plain_or_transposed(a), _plain_or_transposed(b)
        _type(a2)
        m, k, n = a.shape[0], a.shape[1], b.shape[1]
        return tiled_product(a2, b2, m, n, k, trans_a=trans_a, trans_b=trans_b).reshape(m, n)
    a3, b3, stride_a, stride_b, m, n, k, batch, out_shape = _batched(a, b)
    return tiled_product(a3, b3, m, n, k, batch, stride_a, stride_b).reshape(out_shape)


@register("kfac_factor", RAW)
def kfac_factor(a):
    """E[a aᵀ] ≈ AᵀA / n with the tiled kernel reading A transposed: no transposed copy is made."""
    (a,) = require_contiguous(a)
    n, d = a.shape
    return tiled_product(a, a, d, d, n, alpha=1.0 / n, trans_a=True).reshape(d, d)


# -- convolution as a matrix product -------------------------------------------------------------------------------
def _conv_out(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1  # (W − F + 2P) / S + 1   (book eq. 1.24)


@register("im2col", RAW)
def im2col(x, kh, kw, stride=1, padding=0):
    (x,) = require_contiguous(x)
    n, c, h, w = x.shape
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    cols = cupy.empty((n, c * kh * kw, oh * ow), dtype=x.dtype)
    total = cols.size
    kernel(f"im2col<{_type(x)}>")((math.ceil(total / 256),), (256,),
                                  (x, cols, *map(np.int32, (c, h, w, kh, kw, stride, padding, oh, ow)),
                                   np.int64(total)))
    return cols


@register("col2im", RAW)
def col2im(cols, shape, kh, kw, stride=1, padding=0):
    (cols,) = require_contiguous(cols)
    n, c, h, w = shape
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    x = cupy.empty((n, c, h, w), dtype=cols.dtype)
    total = x.size
    kernel(f"col2im<{_type(cols)}>")((math.ceil(total / 256),), (256,),
                                     (cols, x, *map(np.int32, (c, h, w, kh, kw, stride, padding, oh, ow)),
                                      np.int64(total)))
    return x
