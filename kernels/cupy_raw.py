"""`cupy_raw`: the teaching kernels, hand-written in CUDA C++ (kernels/cupy_raw.cu) and launched as RawKernels.

Each Python function here checks its inputs, copies strided ones to C-contiguous memory (a RawKernel indexes
raw pointers, so a strided view would be read wrongly, never slowly: `require_contiguous`), picks the template
instantiation for the dtype, chooses the launch shape, and launches. The CUDA source is one file with one comment
per kernel saying what it computes and why it is laid out as it is; read it beside this one.

Matrix products come in two versions, `cupy_raw_naive` (one thread per output) and `cupy_raw_tiled` (shared
memory tiles and register blocking), registered under those names. The default matmul stays cuBLAS
(`cupy_naive`), which the tiled kernel is measured against; choose ours with ``kernels.use(matmul=...)``, as the
CUDA-graph training step does (CuPy cannot capture its cuBLAS calls into a graph).

The tiled kernel also runs the dense layers, each step in one launch (`dense_forward`, `dense_delta`,
`dense_param_grads`: a fused epilogue on the product, see cupy_raw.cu), and `gather_into` makes up to 32 copies
in one launch. On the small networks of RL a GPU's time is the number of launches, not their arithmetic, so
`autodiff.cuda_graph.CAPTURABLE` records these.

Four functions below touch the GPU itself (`kernel`, `_address`, `_device_id`, `_grid_limit`); everything else is
array logic, which tests/kernels/test_cupy_raw_on_cpu.py runs on NumPy arrays with a CPU emulator of CUDA in
place of those four.
"""

from __future__ import annotations

import math
from pathlib import Path

import cupy
import numpy as np

from kernels.numpy_ref import ACTIVATION_CODES, activation_code
from kernels.registry import register, require_contiguous

RAW = "cupy_raw"
_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
# the tile shape (BM, BN, BK, TM, TN) of the generic matmul_tiled; large float32 products use matmul_tiled_float4
_TILES = {"small": (32, 32, 8, 4, 4)}


_PER_LANE = (1, 4, 8, 32)  # register-row variants of the warp-per-row kernels: rows of up to 32, 128, 256, 1024
_BOOLS = ("false", "true")
# the tiled kernel's epilogues (enum Epilogue in cupy_raw.cu; its activations are numpy_ref.ACTIVATION_CODES)
PLAIN, BIAS_ACTIVATION, TIMES_DERIVATIVE = 0, 1, 2


def _tiled_name(t, trans_a, trans_b, epilogue, activation, row_sums):
    """The name of an instantiation of matmul_tiled with the small tile shape."""
    tile = ", ".join(map(str, _TILES["small"]))
    flags = ", ".join(_BOOLS[int(f)] for f in (trans_a, trans_b))
    code, sums = activation_code(activation), _BOOLS[int(row_sums)]
    return f"matmul_tiled<{t}, {tile}, {flags}, {epilogue}, {code}, {sums}>"


def _instantiations():
    names = []
    for t in _TYPES.values():
        names += [f"softmax_rows<{t}, {mode}>" for mode in range(3)]
        names += [f"softmax_rows_backward<{t}, {mode}>" for mode in range(2)]
        for k in _PER_LANE:
            names += [f"softmax_warp_rows<{t}, {mode}, {k}>" for mode in range(3)]
            names += [f"softmax_warp_rows_backward<{t}, {mode}, {k}>" for mode in range(2)]
            names += [f"cross_entropy_warp_rows<{t}, {k}>"]
        names += [f"cross_entropy_rows<{t}>", f"matmul_naive<{t}>", f"im2col<{t}>", f"col2im<{t}>"]
        names += [f"adam<{t}, {d}>" for d in _BOOLS]
        names += [f"gather_segments<{t}>", f"squared_error<{t}>"]
        names += [_tiled_name(t, ta, tb, PLAIN, None, False) for ta in (False, True) for tb in (False, True)]
        # the dense layers: ∂L/∂W with ∂L/∂b as row sums, the forward pass, and δ of the layer below
        names += [_tiled_name(t, True, False, PLAIN, None, True)]
        names += [_tiled_name(t, False, True, BIAS_ACTIVATION, act, False) for act in ACTIVATION_CODES]
        names += [_tiled_name(t, False, False, TIMES_DERIVATIVE, act, False) for act in ACTIVATION_CODES if act]
    names += [f"matmul_tiled_float4<{ta}, {tb}>" for ta in _BOOLS for tb in _BOOLS]
    names += [f"adam_float4<{d}>" for d in _BOOLS]
    return names


_module = None


# -- the four functions that touch the GPU itself (tests/kernels/test_cupy_raw_on_cpu.py replaces them, to run
# this file on NumPy arrays with the kernels executed by a CPU emulator of CUDA) -----------------------------------
def kernel(name: str):
    """The compiled kernel `name` (a template instantiation, e.g. "adam<float, false>"); compiles the module once."""
    global _module
    if _module is None:
        source = (Path(__file__).with_name("cupy_raw.cu")).read_text()
        _module = cupy.RawModule(code=source, options=("-std=c++17",), name_expressions=_instantiations())
    return _module.get_function(name)


def _address(array) -> int:
    """The device address of an array's first element."""
    return array.data.ptr


def _device_id(array) -> int:
    return array.device.id


_MULTIPROCESSORS: dict = {}  # device id -> its number of multiprocessors (asked once: the query is slow)


def _grid_limit() -> int:
    """Enough 256-thread blocks to fill every multiprocessor several times over; more only adds scheduling."""
    device = cupy.cuda.Device()
    count = _MULTIPROCESSORS.get(device.id)
    if count is None:
        count = _MULTIPROCESSORS[device.id] = device.attributes["MultiProcessorCount"]
    return 8 * count


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
        device = _device_id(param)
        counter = _NO_COUNTER.get(device)
        if counter is None:
            counter = _NO_COUNTER[device] = cupy.zeros(1, dtype=cupy.float64)
    flag = "true" if on_device else "false"
    host_step = 0.0 if on_device else float(step)
    args = (np.float64(host_step), counter, np.float64(lr), np.float64(beta1), np.float64(beta2), np.float64(eps),
            np.float64(weight_decay), np.bool_(decoupled))
    n = param.size
    vectorized = param.dtype == np.float32 and n % 4 == 0 and all(_address(a) % 16 == 0 for a in (param, grad, m, v))
    if vectorized:
        blocks = max(1, min(_grid_limit(), math.ceil(n // 4 / 256)))
        kernel(f"adam_float4<{flag}>")((blocks,), (256,), (param, grad, m, v, np.int64(n // 4)) + args)
    else:
        blocks = max(1, min(_grid_limit(), math.ceil(n / 256)))
        kernel(f"adam<{_type(param)}, {flag}>")((blocks,), (256,), (param, grad, m, v, np.int64(n)) + args)
    return param


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


_NULL = np.uint64(0)  # a null pointer argument


def tiled_product(a3, b3, m, n, k, batch=1, stride_a=0, stride_b=0, alpha=1.0, trans_a=False, trans_b=False,
                  shape=None, epilogue=PLAIN, activation=None, vec=None, row_sums=None):
    """C = alpha · op(A) · op(B) with the tiled kernels, on contiguous operands (op: transposed when trans_*),
    returned with `shape` (default: flat); the building block of matmul, of the dense layers and of the K-FAC
    factor AᵀA / n. `epilogue`, `activation` and `vec` (bias or layer output) choose what happens to each
    element before it is stored, `row_sums` (an array of length batch · m) receives Σ_k op(A)[r, k]: see
    matmul_tiled in cupy_raw.cu."""
    dtype = a3.dtype
    c = cupy.empty(batch * m * n if shape is None else shape, dtype=dtype)
    if c.size == 0:  # no tile to launch (a CUDA grid needs ≥ 1 block)
        if row_sums is not None:
            op_a = a3.reshape(batch, k, m).swapaxes(1, 2) if trans_a else a3.reshape(batch, m, k)
            row_sums[...] = op_a.sum(axis=2).reshape(-1)
        return c
    plain = epilogue == PLAIN and row_sums is None
    if plain and dtype == np.float32 and m >= 128 and n >= 128:
        flags = ", ".join(_BOOLS[int(f)] for f in (trans_a, trans_b))
        name, (bm, bn), threads = f"matmul_tiled_float4<{flags}>", (128, 128), 256
        extra = ()
    else:
        bm, bn, bk, tm, tn = _TILES["small"]
        name, threads = _tiled_name(_type(a3), trans_a, trans_b, epilogue, activation, row_sums is not None), \
            (bm // tm) * (bn // tn)
        extra = (_NULL if vec is None else vec, _NULL if row_sums is None else row_sums)
    kernel(name)((math.ceil(n / bn), math.ceil(m / bm), batch), (threads,),
                 (a3, b3, c, np.int32(m), np.int32(n), np.int32(k), np.int64(stride_a), np.int64(stride_b),
                  dtype.type(alpha)) + extra)
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
        return tiled_product(a2, b2, m, n, k, trans_a=trans_a, trans_b=trans_b, shape=(m, n))
    a3, b3, stride_a, stride_b, m, n, k, batch, out_shape = _batched(a, b)
    return tiled_product(a3, b3, m, n, k, batch, stride_a, stride_b, shape=out_shape)


@register("kfac_factor", RAW)
def kfac_factor(a):
    """E[a aᵀ] ≈ AᵀA / n with the tiled kernel reading A transposed: no transposed copy is made."""
    (a,) = require_contiguous(a)
    n, d = a.shape
    return tiled_product(a, a, d, d, n, alpha=1.0 / n, trans_a=True, shape=(d, d))


# -- dense layers: each step of a layer, forward or backward, one launch of the tiled kernel -----------------------
def _dense_operands(name, first, weight, first_what, weight_axis, width):
    """Check and make contiguous the operands of a dense-layer op (2-D, one dtype, widths that chain)."""
    if first.ndim != 2 or weight.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D {first_what} and a 2-D weight, got shapes {first.shape} and "
                         f"{weight.shape}")
    if first.dtype != weight.dtype:
        raise TypeError(f"{name}: {first_what} and weight must share a dtype, got {first.dtype} and {weight.dtype}")
    if first.shape[1] != weight.shape[weight_axis]:
        raise ValueError(f"{name}: {first_what} of shape {first.shape} does not chain with a weight of shape "
                         f"{weight.shape} ({width})")
    _type(first)
    return require_contiguous(first, weight)


@register("dense_forward", RAW)
def dense_forward(h, weight, bias=None, activation=None):
    h, weight = _dense_operands("dense_forward", h, weight, "input", 1, "the weight is (out, in)")
    activation_code(activation)  # a clear error for an unknown activation, before any work
    if bias is not None:
        if bias.shape != weight.shape[:1] or bias.dtype != weight.dtype:
            raise ValueError(f"dense_forward: bias must have shape {weight.shape[:1]} and dtype {weight.dtype}, "
                             f"got {bias.shape} {bias.dtype}")
        (bias,) = require_contiguous(bias)
    (n, k), m = h.shape, weight.shape[0]
    # h Wᵀ: W (out, in) is read transposed in place
    return tiled_product(h, weight, n, m, k, trans_b=True, shape=(n, m), epilogue=BIAS_ACTIVATION,
                         activation=activation, vec=bias)


@register("dense_delta", RAW)
def dense_delta(delta, weight, y=None, activation=None):
    delta, weight = _dense_operands("dense_delta", delta, weight, "delta", 0, "the weight is (out, in)")
    (n, k), m = delta.shape, weight.shape[1]
    if activation_code(activation) == 0:
        return tiled_product(delta, weight, n, m, k, shape=(n, m))
    if y is None or y.shape != (n, m) or y.dtype != delta.dtype:
        raise ValueError(f"dense_delta: the layer below's output y must have shape {(n, m)} and dtype "
                         f"{delta.dtype}, got {None if y is None else (y.shape, y.dtype)}")
    (y,) = require_contiguous(y)
    return tiled_product(delta, weight, n, m, k, shape=(n, m), epilogue=TIMES_DERIVATIVE, activation=activation,
                         vec=y)


@register("dense_param_grads", RAW)
def dense_param_grads(delta, h, weight=True, bias=True):
    if delta.ndim != 2 or h.ndim != 2 or delta.shape[0] != h.shape[0] or delta.dtype != h.dtype:
        raise ValueError(f"dense_param_grads: expected delta (N, out) and h (N, in) of one dtype, got "
                         f"{delta.shape} {delta.dtype} and {h.shape} {h.dtype}")
    delta, h = require_contiguous(delta, h)
    (n, out), width = delta.shape, h.shape[1]
    if not weight:
        return None, (delta.sum(axis=0) if bias else None)
    gb = cupy.empty(out, dtype=delta.dtype) if bias else None
    _type(delta)
    # ∂L/∂W = δᵀ h (δ read transposed in place); its row sums Σ_n δ_n are ∂L/∂b
    gw = tiled_product(delta, h, out, width, n, trans_a=True, shape=(out, width), row_sums=gb)
    return gw, gb


# -- the squared error ---------------------------------------------------------------------------------------------
@register("squared_error", RAW)
def squared_error(x, y, scale):
    if x.shape != y.shape or x.dtype != y.dtype:
        raise ValueError(f"squared_error: x and y must have one shape and dtype, got {x.shape} {x.dtype} and "
                         f"{y.shape} {y.dtype}")
    x, y = require_contiguous(x, y)
    out = cupy.empty((), dtype=x.dtype)
    kernel(f"squared_error<{_type(x)}>")((1,), (256,), (x, y, out, np.int64(x.size), np.float64(scale)))
    return out


# -- many copies in one launch ---------------------------------------------------------------------------------------
_COPY_SEGMENTS = 32  # COPY_SEGMENTS in cupy_raw.cu: the layout of its struct CopySegments, field by field
_SEGMENTS_DTYPE = np.dtype({"names": ["src", "dst", "end", "count"],
                            "formats": [(np.uint64, _COPY_SEGMENTS), (np.uint64, _COPY_SEGMENTS),
                                        (np.int64, _COPY_SEGMENTS), np.int32],
                            "offsets": [0, 256, 512, 768], "itemsize": 776})


@register("gather_into", RAW)
def gather_into(flat, views, arrays):
    """views[i][...] = arrays[i], 32 copies per launch: each launch's struct argument carries the addresses."""
    if len(views) != len(arrays):
        raise ValueError(f"gather_into: {len(views)} destinations but {len(arrays)} arrays")
    pairs = []
    for i, (view, array) in enumerate(zip(views, arrays)):
        if not view.flags.c_contiguous:
            raise ValueError(f"gather_into: destination {i} must be C-contiguous, got strides {view.strides}")
        if array.shape != view.shape:
            array = cupy.broadcast_to(array, view.shape)  # as view[...] = array would, or a clear error
        if array.dtype != view.dtype or not array.flags.c_contiguous:
            array = cupy.ascontiguousarray(array, dtype=view.dtype)
        if view.size:
            pairs.append((array, view))
    for start in range(0, len(pairs), _COPY_SEGMENTS):
        chunk = pairs[start:start + _COPY_SEGMENTS]
        segments = np.zeros(1, dtype=_SEGMENTS_DTYPE)
        sizes = np.cumsum([view.size for _, view in chunk])
        segments["src"][0, :len(chunk)] = [_address(array) for array, _ in chunk]
        segments["dst"][0, :len(chunk)] = [_address(view) for _, view in chunk]
        segments["end"][0, :len(chunk)] = sizes
        segments["count"] = len(chunk)
        blocks = max(1, min(_grid_limit(), math.ceil(int(sizes[-1]) / 256)))
        kernel(f"gather_segments<{_type(flat)}>")((blocks,), (256,), (segments,))
    return flat


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
