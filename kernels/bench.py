"""Time every implementation of every kernel side by side: ``python -m kernels.bench``.

For each op the benchmark builds one problem of a realistic size, runs every registered implementation of the
op on it, and reports per implementation:

- the median time of many runs (on the CPU with `time.perf_counter` around each call; on the GPU with CUDA
  events, via `cupyx.profiler.benchmark`);
- the relative error ‖out − ref‖ / ‖ref‖ against `numpy_ref` computed in float64 on the CPU;
- the speed-up over the plainest version: `numpy_ref` on the CPU, `cupy_naive` (the ufunc chain) on the GPU;
- for bandwidth-bound ops, the bytes a perfect kernel must move (each input read once, each output written
  once) over the time, as GB/s and as a fraction of the machine's copy bandwidth; for matrix products, GFLOP/s.

The NumPy implementations (`numpy_ref`, `numpy_fast`) are timed everywhere, at sizes a laptop runs in a
minute; where CuPy finds a GPU the `cupy_*` ones follow, at sizes that fill it. On the CPU one more family of
rows, `mlp_forward`, runs a small network's forward pass with each layer as separate ops (product, + bias,
activation: `Linear` then `Tanh`, one module at a time) against one `dense_forward` kernel per layer (what
`nn.DenseStack` runs for its dense layers when nothing is recorded).

The ceilings are measured in the same run, per device: copy bandwidth (a large ``dst[...] = src``, counting
bytes read plus bytes written) and a large float32 matrix product's rate through BLAS (on the CPU, with the
thread count of ``MINIRL_BLAS_THREADS``, 1 unless set) or cuBLAS. Where PyTorch finds a GPU its equivalent of
each GPU problem is timed in the same run, for the ratio.

    python -m kernels.bench                      # every op, full sizes (the GPU part needs a few GB)
    python -m kernels.bench --quick              # small sizes: a check that everything runs (seconds on a CPU)
    python -m kernels.bench --device cpu         # only the NumPy rows (--device gpu: only the CuPy ones)
    python -m kernels.bench --ops adam,matmul --out results.json

The JSON holds the NumPy rows under ``cpu_rows`` (with ``cpu_ceilings``) and the GPU rows under ``rows`` (with
``ceilings``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np

import kernels
from kernels import registry


# -- timing ---------------------------------------------------------------------------------------------------
def gpu_median_us(fn, args=(), repeat=20, warmup=3) -> float:
    """Median GPU time of fn(*args) in microseconds (CUDA events around each call)."""
    from cupyx.profiler import benchmark

    result = benchmark(fn, args, n_repeat=repeat, n_warmup=warmup)
    return float(np.median(result.gpu_times[0]) * 1e6)


def torch_median_us(fn, repeat=20, warmup=3) -> float:
    import torch

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1e3)
    return float(np.median(times))


def ceilings(quick: bool) -> dict:
    """The machine's copy bandwidth (GB/s, read + write) and float32 matmul rate through cuBLAS (TFLOP/s)."""
    import cupy

    n = (1 << 24) if quick else (1 << 28)  # 64 MB or 1 GB of float32
    src, dst = cupy.random.standard_normal(n, dtype=cupy.float32), cupy.empty(n, dtype=cupy.float32)

    def copy():
        dst[...] = src

    copy_us = gpu_median_us(copy, repeat=20)
    size = 2048 if quick else 8192
    a = cupy.random.standard_normal((size, size), dtype=cupy.float32)
    b = cupy.random.standard_normal((size, size), dtype=cupy.float32)
    matmul_us = gpu_median_us(cupy.matmul, (a, b), repeat=10)
    return {"copy_bytes": 2 * 4 * n, "copy_us": copy_us, "copy_GBps": 2 * 4 * n / copy_us / 1e3,
            "matmul_size": size, "matmul_us": matmul_us, "matmul_TFLOPs": 2 * size**3 / matmul_us / 1e6}


def cpu_median_us(fn, args=(), repeat=20, warmup=3) -> float:
    """Median wall-clock time of fn(*args) in microseconds (`time.perf_counter` around each call)."""
    for _ in range(warmup):
        fn(*args)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def cpu_ceilings(quick: bool) -> dict:
    """The same two ceilings for NumPy: copy bandwidth (GB/s, read + write) and float32 matmul rate (TFLOP/s)."""
    n = (1 << 20) if quick else (1 << 25)  # 4 MB (quick: may sit in a cache) or 128 MB of float32
    src, dst = np.ones(n, dtype=np.float32), np.empty(n, dtype=np.float32)

    def copy():
        dst[...] = src

    copy_us = cpu_median_us(copy, repeat=10)
    size = 256 if quick else 1024
    a, b = np.ones((size, size), dtype=np.float32), np.ones((size, size), dtype=np.float32)
    matmul_us = cpu_median_us(np.matmul, (a, b), repeat=5)
    return {"copy_bytes": 2 * 4 * n, "copy_us": copy_us, "copy_GBps": 2 * 4 * n / copy_us / 1e3,
            "matmul_size": size, "matmul_us": matmul_us, "matmul_TFLOPs": 2 * size**3 / matmul_us / 1e6,
            "blas_threads": os.environ.get("MINIRL_BLAS_THREADS", "1")}


# -- the problems ---------------------------------------------------------------------------------------------------
class Problem:
    """One op on one set of inputs: `make(rng)` returns NumPy (args, kwargs); `bytes`/`flops` count what a
    perfect kernel moves or computes; `outputs(args, result)` picks the arrays to compare (in-place ops
    compare their updated arguments); `torch` builds PyTorch's equivalent from the CuPy arguments;
    `place(args, convert)` gives one implementation its own arguments, each array passed through `convert` (a
    copy, a float64 copy, a CuPy array); `implementations` (row name -> function, the first the reference)
    stands in for the registry where a problem compares compositions of kernels rather than one op's."""

    def __init__(self, op, label, make, bytes=None, flops=None, outputs=None, torch=None, repeat=20, place=None,
                 implementations=None):
        self.op, self.label, self.make, self.bytes, self.flops = op, label, make, bytes, flops
        self.outputs = outputs or (lambda args, result: result if isinstance(result, tuple) else (result,))
        self.torch, self.repeat = torch, repeat
        self.place, self.implementations = place or _place, implementations

    def reference(self):
        """The function whose float64 result every implementation is compared with."""
        if self.implementations:
            return next(iter(self.implementations.values()))
        return kernels.get(self.op, "numpy_ref")

    def candidates(self, backend: str) -> dict:
        """The implementations to time on `backend` ('numpy' or 'cupy'), numpy_ref first."""
        if self.implementations is not None:
            return dict(self.implementations) if backend == "numpy" else {}
        names = sorted((i for i in kernels.available(self.op) if i.startswith(backend)), key=lambda i: i != "numpy_ref")
        return {impl: kernels.get(self.op, impl) for impl in names}


def _place(args, convert):
    """args with every NumPy array, also inside lists and tuples, replaced by convert(array)."""
    if isinstance(args, np.ndarray):
        return convert(args)
    if isinstance(args, (list, tuple)):
        return type(args)(_place(a, convert) for a in args)
    return args


def _as_float64(array):
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def _normal(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape, dtype=np.float64).astype(dtype)


# the sizes of the problems, per (device, quick): a GPU is filled only by large arrays; a CPU in one thread takes a
# second for what an H100 does in a millisecond, and quick mode on the CPU must run in seconds
SIZES = {
    ("gpu", False): dict(params=1 << 27, rows=(65536, 1024), elems=1 << 26, mm=4096,
                         conv=(64, 64, 32, 32), kfac=(8192, 1024)),
    ("gpu", True): dict(params=1 << 22, rows=(4096, 1024), elems=1 << 22, mm=1024,
                        conv=(16, 32, 32, 32), kfac=(2048, 512)),
    ("cpu", False): dict(params=1 << 22, rows=(4096, 1024), elems=1 << 22, mm=1024,
                         conv=(16, 32, 32, 32), kfac=(2048, 512)),
    ("cpu", True): dict(params=1 << 14, rows=(256, 64), elems=1 << 14, mm=128, conv=(2, 4, 8, 8),
                        kfac=(256, 64)),
}


def problems(quick: bool, device: str = "gpu") -> list[Problem]:
    """The problems at `device`'s sizes ('gpu' or 'cpu'); the CPU's list adds the `mlp_forward` family."""
    f32 = 4
    size = SIZES[device, quick]
    params, (rows, cols), elems = size["params"], size["rows"], size["elems"]
    mm, conv, kfac = size["mm"], size["conv"], size["kfac"]
    # the RL network's small arrays: on the GPU their time is the kernel launches, and the labels say so
    launch = " (launch-bound)" if device == "gpu" else ""
    rl_size = "the RL network's size" + (": launch-bound" if device == "gpu" else "")

    def adam_args(rng):
        p, g = _normal(rng, params), _normal(rng, params)
        m, v = _normal(rng, params) * 0.1, np.abs(_normal(rng, params)) * 0.01
        return (p, g, m, v, 10, 1e-3), {}

    def sgd_args(rng):
        return (_normal(rng, params), _normal(rng, params), _normal(rng, params), 1e-2), {"momentum": 0.9}

    def ce_args(rng):
        return (_normal(rng, (rows, cols)), rng.integers(0, cols, rows)), {}

    def rows_args(rng):
        return (_normal(rng, (rows, cols)),), {"axis": -1}

    def rows_backward_args(op):
        def make(rng):
            x = _normal(rng, (rows, cols))
            y = kernels.get(op, "numpy_ref")(x).astype(np.float32)
            return (_normal(rng, (rows, cols)), y), {"axis": -1}
        return make

    def mm_args(rng):
        return (_normal(rng, (mm, mm)), _normal(rng, (mm, mm))), {}

    def small_mm_args(rng):
        return (_normal(rng, (64, 64)), _normal(rng, (64, 64))), {}

    def im2col_args(rng):
        return (_normal(rng, conv), 3, 3), {"stride": 1, "padding": 1}

    def col2im_args(rng):
        n, c, h, w = conv
        return (_normal(rng, (n, c * 9, h * w)), conv, 3, 3), {"stride": 1, "padding": 1}

    def kfac_args(rng):
        return (_normal(rng, kfac),), {}

    def dense_args(batch, width, which):
        def make(rng):
            h, w, b = _normal(rng, (batch, width)), _normal(rng, (width, width)) / width**0.5, _normal(rng, width)
            if which == "forward":
                return (h, w, b, "tanh"), {}
            if which == "delta":
                return (h, w, np.tanh(_normal(rng, (batch, width))), "tanh"), {}
            return (h, _normal(rng, (batch, width))), {}
        return make

    def squared_error_args(n, backward=False):
        def make(rng):
            x, y = _normal(rng, n), _normal(rng, n)
            return ((np.array(0.5, np.float32), x, y, 1 / n) if backward else (x, y, 1 / n)), {}
        return make

    def torch_adam(args):
        import torch

        p = torch.nn.Parameter(torch.as_tensor(args[0]))
        p.grad = torch.as_tensor(args[1])
        opt = torch.optim.Adam([p], lr=1e-3, fused=True)
        return opt.step

    def torch_ce(args):
        import torch

        logits = torch.as_tensor(args[0]).requires_grad_(True)
        targets = torch.as_tensor(args[1])

        def run():
            logits.grad = None
            torch.nn.functional.cross_entropy(logits, targets, reduction="sum").backward()
        return run

    def torch_log_softmax(args):
        import torch

        x = torch.as_tensor(args[0])
        return lambda: torch.nn.functional.log_softmax(x, dim=-1)

    def torch_matmul(args):
        import torch

        a, b = torch.as_tensor(args[0]), torch.as_tensor(args[1])
        return lambda: torch.matmul(a, b)

    def torch_dense_forward(args):
        import torch

        h, w, b = (torch.as_tensor(a) for a in args[:3])
        return lambda: torch.tanh(torch.addmm(b, h, w.T))  # one cuBLAS call with the bias, then tanh

    in_place = lambda indices: lambda args, result: tuple(args[i] for i in indices)  # noqa: E731
    n_rows = rows * cols
    n_conv = math.prod(conv)
    return [
        Problem("adam", f"{params:,} float32 parameters", adam_args, bytes=7 * f32 * params,
                outputs=in_place((0, 2, 3)), torch=torch_adam),
        Problem("sgd", f"{params:,} parameters, momentum", sgd_args, bytes=5 * f32 * params,
                outputs=in_place((0, 2))),
        Problem("softmax_cross_entropy", f"({rows}, {cols}) logits", ce_args,
                bytes=2 * f32 * n_rows + rows * (8 + f32), torch=torch_ce),
        Problem("log_softmax", f"({rows}, {cols})", rows_args, bytes=2 * f32 * n_rows, torch=torch_log_softmax),
        Problem("softmax", f"({rows}, {cols})", rows_args, bytes=2 * f32 * n_rows),
        Problem("logsumexp", f"({rows}, {cols})", rows_args, bytes=f32 * n_rows + f32 * rows),
        Problem("log_softmax_backward", f"({rows}, {cols})", rows_backward_args("log_softmax"),
                bytes=3 * f32 * n_rows),
        Problem("softmax_backward", f"({rows}, {cols})", rows_backward_args("softmax"), bytes=3 * f32 * n_rows),
        Problem("matmul", f"{mm}³ float32", mm_args, flops=2 * mm**3, torch=torch_matmul, repeat=5),
        Problem("matmul", f"64³ float32 ({rl_size})", small_mm_args, flops=2 * 64**3,
                torch=torch_matmul),
        Problem("im2col", f"{conv} image, 3×3, padding 1", im2col_args, bytes=f32 * n_conv * 10),
        Problem("col2im", f"{conv} image, 3×3, padding 1", col2im_args, bytes=f32 * n_conv * 10),
        Problem("kfac_factor", f"A of shape {kfac}", kfac_args, flops=2 * kfac[0] * kfac[1] ** 2),
        # the steps of a dense layer: at the RL network's size each is one launch (cupy_raw) or two or three
        Problem("dense_forward", f"64→64 tanh, batch 64{launch}", dense_args(64, 64, "forward"),
                flops=2 * 64**3, torch=torch_dense_forward),
        Problem("dense_delta", f"64→64 tanh, batch 64{launch}", dense_args(64, 64, "delta"), flops=2 * 64**3),
        Problem("dense_param_grads", f"64→64, batch 64{launch}", dense_args(64, 64, "grads"),
                flops=2 * 64**3),
        Problem("dense_forward", f"{mm}→{mm} tanh, batch {mm}", dense_args(mm, mm, "forward"), flops=2 * mm**3,
                torch=torch_dense_forward, repeat=5),
        Problem("squared_error", f"128 values: a value loss{launch}", squared_error_args(128)),
        Problem("squared_error_backward", f"{elems:,} values", squared_error_args(elems, backward=True),
                bytes=3 * f32 * elems),
        Problem("gather_into", f"the 6 gradients of a 4→64→64→2 network{launch}", gather_args(MLP),
                bytes=2 * f32 * sum(math.prod(s) for s in _parameter_shapes(MLP)), place=_place_gather),
    ] + ([mlp_forward_problem(MLP, 1, "acting on one observation"),
          mlp_forward_problem(MLP, 64, "a training batch")] if device == "cpu" else [])


# -- the small network: its gradients gathered into one buffer, its forward pass as ops and as dense kernels --------
MLP = (4, 64, 64, 2)  # the RL network's widths, tanh between layers


def _parameter_shapes(widths):
    return [shape for n_in, n_out in zip(widths, widths[1:]) for shape in ((n_out, n_in), (n_out,))]


def gather_args(widths):
    """gather_into's arguments: a flat buffer, views of it in the parameters' shapes, and the gradients."""
    def make(rng):
        shapes = _parameter_shapes(widths)
        flat = np.zeros(sum(math.prod(s) for s in shapes), dtype=np.float32)
        return (flat, _views(flat, shapes), [_normal(rng, s) for s in shapes]), {}
    return make


def _views(flat, shapes):
    offsets = np.cumsum([0] + [math.prod(s) for s in shapes])
    return [flat[start:end].reshape(s) for start, end, s in zip(offsets, offsets[1:], shapes)]


def _place_gather(args, convert):
    """gather_into's destinations must stay views of its buffer: make them again from the converted buffer."""
    flat, views, arrays = args
    flat = convert(flat)
    return flat, _views(flat, [v.shape for v in views]), [convert(a) for a in arrays]


def mlp_forward_problem(widths, batch, purpose) -> Problem:
    """A network's forward pass two ways: `ops:<impl>` runs each layer as separate ops, as `Linear` then `Tanh` do
    one module at a time (product, + bias, tanh: three calls and two temporaries); `dense:<impl>` as one
    `dense_forward` per layer, the kernel `nn.DenseStack` runs for its dense layers (numpy_fast adds the bias and
    applies tanh in the product's array)."""
    def by_ops(impl):
        matmul = kernels.get("matmul", impl)

        def forward(x, layers):
            for i, (weight, bias) in enumerate(layers):
                x = matmul(x, weight.T) + bias  # z_l = h_{l−1} W_lᵀ + b_l
                x = kernels.array_module(x).tanh(x) if i < len(layers) - 1 else x  # as autodiff's Tanh op
            return x
        return forward

    def by_dense(impl):
        dense_forward = kernels.get("dense_forward", impl)

        def forward(x, layers):
            for i, (weight, bias) in enumerate(layers):
                x = dense_forward(x, weight, bias, "tanh" if i < len(layers) - 1 else None)
            return x
        return forward

    def make(rng):
        layers = [(_normal(rng, (n_out, n_in)) / n_in**0.5, _normal(rng, n_out) * 0.1)
                  for n_in, n_out in zip(widths, widths[1:])]
        return (_normal(rng, (batch, widths[0])), layers), {}

    implementations = {f"{name}:{impl}": way(impl) for name, way in (("ops", by_ops), ("dense", by_dense))
                       for impl in ("numpy_ref", "numpy_fast")}
    flops = 2 * batch * sum(n_in * n_out for n_in, n_out in zip(widths, widths[1:]))
    return Problem("mlp_forward", f"{'→'.join(map(str, widths))} tanh, batch {batch}: {purpose}", make,
                   flops=flops, implementations=implementations)


# -- running --------------------------------------------------------------------------------------------------------
def relative_error(got, expected) -> float:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return float("inf")
    return float(np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-300))


def run_problem(problem: Problem, ceiling: dict, have_torch: bool) -> list[dict]:
    """Time the CuPy implementations of one problem on the GPU (and PyTorch's equivalent where asked)."""
    import cupy

    rng = np.random.default_rng(0)
    np_args, kwargs = problem.make(rng)
    as64 = problem.place(np_args, _as_float64)
    reference = problem.outputs(as64, problem.reference()(*as64, **kwargs))
    rows = []
    for impl, fn in problem.candidates("cupy").items():
        args = problem.place(np_args, cupy.asarray)
        outputs = problem.outputs(args, fn(*args, **kwargs))  # the first call, on fresh inputs, is checked
        error = max(relative_error(cupy.asnumpy(o), r) for o, r in zip(outputs, reference))
        us = gpu_median_us(lambda: fn(*args, **kwargs), repeat=problem.repeat)
        rows.append(_row(problem, impl, us, error, ceiling))
        del args, outputs
        cupy.get_default_memory_pool().free_all_blocks()
    if have_torch and problem.torch is not None:
        args = problem.place(np_args, cupy.asarray)
        us = torch_median_us(problem.torch(args), repeat=problem.repeat)
        rows.append(_row(problem, "torch", us, None, ceiling))
        del args
        cupy.get_default_memory_pool().free_all_blocks()
    naive = next((r["us"] for r in rows if r["impl"] == "cupy_naive"), None)
    for r in rows:
        r["speedup_over_naive"] = naive / r["us"] if naive else None
    return rows


def run_problem_on_cpu(problem: Problem, ceiling: dict) -> list[dict]:
    """Time the NumPy implementations of one problem (numpy_ref first: the speed-ups are over it)."""
    rng = np.random.default_rng(0)
    np_args, kwargs = problem.make(rng)
    as64 = problem.place(np_args, _as_float64)
    reference = problem.outputs(as64, problem.reference()(*as64, **kwargs))
    rows = []
    for impl, fn in problem.candidates("numpy").items():
        args = problem.place(np_args, np.array)  # copies: in-place updates (Adam, SGD) start from the same inputs
        outputs = problem.outputs(args, fn(*args, **kwargs))  # the first call, on fresh inputs, is checked
        error = max(relative_error(o, r) for o, r in zip(outputs, reference))
        us = cpu_median_us(lambda: fn(*args, **kwargs), repeat=problem.repeat)
        rows.append(_row(problem, impl, us, error, ceiling, blas="blas"))
    for r in rows:
        r["speedup_over_ref"] = rows[0]["us"] / r["us"]
    return rows


def _row(problem, impl, us, error, ceiling, blas="cublas") -> dict:
    row = {"op": problem.op, "problem": problem.label, "impl": impl, "us": us, "error": error}
    if problem.bytes:
        row["GBps"] = problem.bytes / us / 1e3
        row["fraction_of_copy_bandwidth"] = row["GBps"] / ceiling["copy_GBps"]
    if problem.flops:
        row["GFLOPs"] = problem.flops / us / 1e3
        row[f"fraction_of_{blas}"] = row["GFLOPs"] / (ceiling["matmul_TFLOPs"] * 1e3)
    return row


def table(rows: list[dict]) -> str:
    """The rows as text; the speed-up is over cupy_naive for GPU rows, over numpy_ref for CPU rows."""
    lines = [f"{'op':<23}{'impl':<17}{'median µs':>11}{'speed-up':>10}{'GB/s':>9}{'% copy':>8}{'GFLOP/s':>10}"
             f"{'rel. error':>12}  problem"]
    for r in rows:
        over = r.get("speedup_over_naive") or r.get("speedup_over_ref")
        speedup = f"{over:.2f}x" if over else "-"
        gbps = f"{r['GBps']:.0f}" if "GBps" in r else "-"
        frac = f"{100 * r['fraction_of_copy_bandwidth']:.0f}%" if "GBps" in r else "-"
        gflops = f"{r['GFLOPs']:.0f}" if "GFLOPs" in r else "-"
        error = f"{r['error']:.1e}" if r["error"] is not None else "-"
        lines.append(f"{r['op']:<23}{r['impl']:<17}{r['us']:>11.1f}{speedup:>10}{gbps:>9}{frac:>8}{gflops:>10}"
                     f"{error:>12}  {r.get('problem', '')}")
    return "\n".join(lines)


def machine(gpu: bool = True) -> dict:
    """The machine the figures come from: the host, and the GPU's name and versions with `gpu`."""
    info = {"numpy": np.__version__, "python": sys.version.split()[0], "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "blas_threads": os.environ.get("MINIRL_BLAS_THREADS", "1")}
    if not gpu:
        return info
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    info = {"gpu": props["name"].decode() if isinstance(props["name"], bytes) else props["name"],
            "multiprocessors": props["multiProcessorCount"], "cupy": cupy.__version__,
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(), **info}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def gpu_missing() -> str | None:
    """Why the CuPy rows cannot run here (no CuPy, no driver, no device), or None where they can."""
    try:
        cupy = registry.load_cupy()
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return None
        return "CuPy finds no GPU"
    except Exception as exc:  # ImportError, or CUDA's errors where CuPy is installed without a driver or device
        return f"{type(exc).__name__}: {exc}"


def cpu_rows(quick: bool, ops=()) -> tuple[dict, list[dict]]:
    """The CPU's ceilings and the rows of every NumPy implementation (of `ops`, default all), printed as they
    come."""
    ceiling = cpu_ceilings(quick)
    print(f"CPU ceilings: copy {ceiling['copy_GBps']:.1f} GB/s (read + write), float32 matmul "
          f"{ceiling['matmul_TFLOPs'] * 1e3:.0f} GFLOP/s (BLAS, {ceiling['matmul_size']}³, "
          f"MINIRL_BLAS_THREADS={ceiling['blas_threads']}); speed-ups over numpy_ref", flush=True)
    print(table([]), flush=True)
    rows = []
    for problem in problems(quick, device="cpu"):
        if ops and problem.op not in ops:
            continue
        found = run_problem_on_cpu(problem, ceiling)
        print(table(found).split("\n", 1)[1], flush=True)
        rows += found
    return ceiling, rows


def gpu_rows(quick: bool, ops=()) -> tuple[dict, list[dict]]:
    """The GPU's ceilings and the rows of every CuPy implementation (and PyTorch's where it finds the GPU)."""
    try:
        import torch

        have_torch = torch.cuda.is_available()
    except ImportError:
        have_torch = False
    ceiling = ceilings(quick)
    print(f"ceilings: copy {ceiling['copy_GBps']:.0f} GB/s (read + write), float32 matmul "
          f"{ceiling['matmul_TFLOPs']:.1f} TFLOP/s (cuBLAS, {ceiling['matmul_size']}³)", flush=True)
    rows = []
    for problem in problems(quick):
        if ops and problem.op not in ops:
            continue
        found = run_problem(problem, ceiling, have_torch)
        print(table(found).split("\n", 1)[1], flush=True)
        rows += found
    print()
    print(table(rows))
    return ceiling, rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    parser.add_argument("--ops", default="", help="comma-separated ops to run (default: all)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="only the NumPy rows (cpu) or only the CuPy rows (gpu); default: the NumPy rows, "
                             "then the CuPy rows where CuPy finds a GPU")
    parser.add_argument("--out", default=None, help="write the figures as JSON to this file")
    options = parser.parse_args(argv)
    missing = gpu_missing() if options.device != "cpu" else "not asked for (--device cpu)"
    if options.device == "gpu" and missing:
        print(f"kernels.bench needs CuPy and an NVIDIA GPU: {missing}", file=sys.stderr)
        return 2
    wanted = {op for op in options.ops.split(",") if op}
    start = time.time()
    report = {"benchmark": "kernels.bench", "quick": options.quick, "machine": machine(gpu=not missing)}
    if options.device != "gpu":
        report["cpu_ceilings"], report["cpu_rows"] = cpu_rows(options.quick, wanted)
        print()
    if missing:
        print(f"no GPU rows: {missing}")
    else:
        report["ceilings"], report["rows"] = gpu_rows(options.quick, wanted)
    report["seconds"] = time.time() - start
    if options.out:
        with open(options.out, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
