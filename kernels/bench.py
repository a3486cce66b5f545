"""Time every implementation of every kernel side by side on the GPU: ``python -m kernels.bench``.

For each op the benchmark builds one problem of a realistic size, runs every registered ``cupy_*``
implementation on it, and reports per implementation:

- the median time of many runs (CUDA events, via `cupyx.profiler.benchmark`);
- the relative error ‖out − ref‖ / ‖ref‖ against `numpy_ref` computed in float64 on the CPU;
- the speed-up over `cupy_naive` (the ufunc chain);
- for bandwidth-bound ops, the bytes a perfect kernel must move (each input read once, each output written
  once) over the time, as GB/s and as a fraction of the machine's copy bandwidth; for matrix products, GFLOP/s.

The two ceilings are measured in the same run: device-to-device copy bandwidth (a large ``dst[...] = src``,
counting bytes read plus bytes written) and a large float32 matrix product's rate through cuBLAS. Where
PyTorch is installed its equivalent of each op is timed in the same run, for the ratio.

    python -m kernels.bench                      # every op, full sizes (needs a few GB of GPU memory)
    python -m kernels.bench --quick              # small sizes: a check that everything runs
    python -m kernels.bench --ops adam,matmul --out results.json
"""

from __future__ import annotations

import argparse
import json
import math
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


# -- the problems ---------------------------------------------------------------------------------------------------
class Problem:
    """One op on one set of inputs: `make(rng)` returns NumPy (args, kwargs); `bytes`/`flops` count what a
    perfect kernel moves or computes; `outputs(args, result)` picks the arrays to compare (in-place ops
    compare their updated arguments); `torch` builds PyTorch's equivalent from the CuPy arguments."""

    def __init__(self, op, label, make, bytes=None, flops=None, outputs=None, torch=None, repeat=20):
        self.op, self.label, self.make, self.bytes, self.flops = op, label, make, bytes, flops
        self.outputs = outputs or (lambda args, result: result if isinstance(result, tuple) else (result,))
        self.torch, self.repeat = torch, repeat


def _normal(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape, dtype=np.float64).astype(dtype)


def problems(quick: bool) -> list[Problem]:
    f32 = 4
    params = (1 << 22) if quick else (1 << 27)  # 4M or 128M parameters
    rows, cols = (4096, 1024) if quick else (65536, 1024)
    elems = (1 << 22) if quick else (1 << 26)
    steps, envs = (256, 1024) if quick else (2048, 4096)
    mm = 1024 if quick else 4096
    conv = (16, 32, 32, 32) if quick else (64, 64, 32, 32)
    kfac = (2048, 512) if quick else (8192, 1024)

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

    def unary_args(rng):
        return (_normal(rng, elems),), {}

    def pair_args(rng):
        return (_normal(rng, elems), np.tanh(_normal(rng, elems))), {}

    def gae_args(rng):
        r, v, nv = (_normal(rng, (steps, envs)) for _ in range(3))
        term = (rng.random((steps, envs)) < 0.01).astype(np.float32)
        trunc = (rng.random((steps, envs)) < 0.01).astype(np.float32)
        return (r, v, nv, term, trunc, 0.99, 0.95), {}

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

    def torch_unary(name):
        def build(args):
            import torch

            x = torch.as_tensor(args[0])
            return lambda: getattr(torch, name)(x)
        return build

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
        Problem("tanh", f"{elems:,} values", unary_args, bytes=2 * f32 * elems, torch=torch_unary("tanh")),
        Problem("tanh_backward", f"{elems:,} values", pair_args, bytes=3 * f32 * elems),
        Problem("sigmoid", f"{elems:,} values", unary_args, bytes=2 * f32 * elems, torch=torch_unary("sigmoid")),
        Problem("sigmoid_backward", f"{elems:,} values", pair_args, bytes=3 * f32 * elems),
        Problem("relu", f"{elems:,} values", unary_args, bytes=2 * f32 * elems, torch=torch_unary("relu")),
        Problem("relu_backward", f"{elems:,} values", pair_args, bytes=3 * f32 * elems),
        Problem("huber_td", f"{elems:,} TD errors", pair_args, bytes=4 * f32 * elems),
        Problem("gae", f"T={steps}, N={envs}", gae_args, bytes=6 * f32 * steps * envs),
        Problem("matmul", f"{mm}³ float32", mm_args, flops=2 * mm**3, torch=torch_matmul, repeat=5),
        Problem("matmul", "64³ float32 (the RL network's size: launch-bound)", small_mm_args, flops=2 * 64**3,
                torch=torch_matmul),
        Problem("im2col", f"{conv} image, 3×3, padding 1", im2col_args, bytes=f32 * n_conv * 10),
        Problem("col2im", f"{conv} image, 3×3, padding 1", col2im_args, bytes=f32 * n_conv * 10),
        Problem("kfac_factor", f"A of shape {kfac}", kfac_args, flops=2 * kfac[0] * kfac[1] ** 2),
        # the steps of a dense layer: at the RL network's size each is one launch (cupy_raw) or two or three
        Problem("dense_forward", "64→64 tanh, batch 64 (launch-bound)", dense_args(64, 64, "forward"),
                flops=2 * 64**3, torch=torch_dense_forward),
        Problem("dense_delta", "64→64 tanh, batch 64 (launch-bound)", dense_args(64, 64, "delta"), flops=2 * 64**3),
        Problem("dense_param_grads", "64→64, batch 64 (launch-bound)", dense_args(64, 64, "grads"),
                flops=2 * 64**3),
        Problem("dense_forward", f"{mm}→{mm} tanh, batch {mm}", dense_args(mm, mm, "forward"), flops=2 * mm**3,
                torch=torch_dense_forward, repeat=5),
        Problem("squared_error", "128 values: a value loss (launch-bound)", squared_error_args(128)),
        Problem("squared_error_backward", f"{elems:,} values", squared_error_args(elems, backward=True),
                bytes=3 * f32 * elems),
    ]


# -- running --------------------------------------------------------------------------------------------------------
def relative_error(got, expected) -> float:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        return float("inf")
    return float(np.linalg.norm(got - expected) / max(np.linalg.norm(expected), 1e-300))


def run_problem(problem: Problem, ceiling: dict, have_torch: bool) -> list[dict]:
    import cupy

    rng = np.random.default_rng(0)
    np_args, kwargs = problem.make(rng)
    as64 = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in np_args)
    ref_result = kernels.get(problem.op, "numpy_ref")(*as64, **kwargs)
    reference = problem.outputs(as64, ref_result)
    rows = []
    impls = [i for i in kernels.available(problem.op) if i.startswith("cupy")]
    for impl in impls:
        fn = kernels.get(problem.op, impl)
        args = tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in np_args)
        outputs = problem.outputs(args, fn(*args, **kwargs))  # the first call, on fresh inputs, is checked
        error = max(relative_error(cupy.asnumpy(o), r) for o, r in zip(outputs, reference))
        us = gpu_median_us(lambda: fn(*args, **kwargs), repeat=problem.repeat)
        rows.append(_row(problem, impl, us, error, ceiling))
        del args, outputs
        cupy.get_default_memory_pool().free_all_blocks()
    if have_torch and problem.torch is not None:
        args = tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in np_args)
        us = torch_median_us(problem.torch(args), repeat=problem.repeat)
        rows.append(_row(problem, "torch", us, None, ceiling))
        del args
        cupy.get_default_memory_pool().free_all_blocks()
    naive = next((r["us"] for r in rows if r["impl"] == "cupy_naive"), None)
    for r in rows:
        r["speedup_over_naive"] = naive / r["us"] if naive else None
    return rows


def _row(problem, impl, us, error, ceiling) -> dict:
    row = {"op": problem.op, "problem": problem.label, "impl": impl, "us": us, "error": error}
    if problem.bytes:
        row["GBps"] = problem.bytes / us / 1e3
        row["fraction_of_copy_bandwidth"] = row["GBps"] / ceiling["copy_GBps"]
    if problem.flops:
        row["GFLOPs"] = problem.flops / us / 1e3
        row["fraction_of_cublas"] = row["GFLOPs"] / (ceiling["matmul_TFLOPs"] * 1e3)
    return row


def table(rows: list[dict]) -> str:
    lines = [f"{'op':<22}{'impl':<16}{'median µs':>12}{'speed-up':>10}{'GB/s':>9}{'% copy':>8}{'GFLOP/s':>10}"
             f"{'rel. error':>12}"]
    for r in rows:
        speedup = f"{r['speedup_over_naive']:.2f}x" if r.get("speedup_over_naive") else "-"
        gbps = f"{r['GBps']:.0f}" if "GBps" in r else "-"
        frac = f"{100 * r['fraction_of_copy_bandwidth']:.0f}%" if "GBps" in r else "-"
        gflops = f"{r['GFLOPs']:.0f}" if "GFLOPs" in r else "-"
        error = f"{r['error']:.1e}" if r["error"] is not None else "-"
        lines.append(f"{r['op']:<22}{r['impl']:<16}{r['us']:>12.1f}{speedup:>10}{gbps:>9}{frac:>8}{gflops:>10}"
                     f"{error:>12}")
    return "\n".join(lines)


def machine() -> dict:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    info = {"gpu": props["name"].decode() if isinstance(props["name"], bytes) else props["name"],
            "multiprocessors": props["multiProcessorCount"], "cupy": cupy.__version__,
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(), "numpy": np.__version__,
            "python": sys.version.split()[0], "platform": platform.platform()}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    parser.add_argument("--ops", default="", help="comma-separated ops to run (default: all)")
    parser.add_argument("--out", default=None, help="write the figures as JSON to this file")
    options = parser.parse_args(argv)
    try:
        registry.load_cupy()
    except ImportError as exc:
        print(f"kernels.bench needs CuPy and an NVIDIA GPU: {exc}", file=sys.stderr)
        return 2
    try:
        import torch

        have_torch = torch.cuda.is_available()
    except ImportError:
        have_torch = False
    wanted = {op for op in options.ops.split(",") if op}
    start = time.time()
    ceiling = ceilings(options.quick)
    print(f"ceilings: copy {ceiling['copy_GBps']:.0f} GB/s (read + write), float32 matmul "
          f"{ceiling['matmul_TFLOPs']:.1f} TFLOP/s (cuBLAS, {ceiling['matmul_size']}³)", flush=True)
    rows = []
    for problem in problems(options.quick):
        if wanted and problem.op not in wanted:
            continue
        found = run_problem(problem, ceiling, have_torch)
        print(table(found).split("\n", 1)[1], flush=True)
        rows += found
    print()
    print(table(rows))
    report = {"benchmark": "kernels.bench", "quick": options.quick, "machine": machine(), "ceilings": ceiling,
              "rows": rows, "seconds": time.time() - start}
    if options.out:
        with open(options.out, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
