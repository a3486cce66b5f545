# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Kernels and performance: from ufuncs to a fused kernel to CUDA C, and why small networks need CUDA graphs
#
# Everything minirl computes runs through a few hot primitives (`kernels/`): a matrix product, the softmax
# family, Adam's update, the dense layers, ... Each has several implementations in a registry, and you can swap them:
#
# | implementation | what it is |
# |---|---|
# | `numpy_ref` | the plainest correct NumPy: the oracle every other version is tested against |
# | `cupy_naive` | the same code on CuPy arrays: every ufunc one GPU kernel and one trip through memory |
# | `cupy_fused` | one CuPy `ElementwiseKernel` / `ReductionKernel`: the expression compiled into one kernel |
# | `cupy_raw` | hand-written CUDA C++ (`kernels/cupy_raw.cu`), launched as RawKernels |
#
# Before timing anything, count two numbers for an operation: the **bytes** it must move (each input read
# once, each output written once) and the **arithmetic** it must do. Divided by the machine's memory
# bandwidth and arithmetic rate they give two lower bounds on its time; the larger one says what the
# operation is bound by. Adam on $n$ float32 parameters reads $g, \theta, m, v$ and writes $\theta, m, v$:
# 28 bytes and about 15 operations per parameter. A GPU does thousands of operations in the time it moves
# 28 bytes, so Adam is *bandwidth-bound*: a perfect Adam runs at the speed of a memory copy, and the only way
# to be faster is to touch memory fewer times. That is what fusing does.
#
# This tutorial measures everything it can on the CPU (the NumPy implementations) and, where CuPy finds a GPU, on
# the GPU too. Without a GPU it shows the GPU figures recorded on an H100 in `benchmarks/results/` beside the CPU
# figures it measures.

# %%
import json
import time
from pathlib import Path

import numpy as np

import kernels
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, scale

RESULTS = Path(kernels.__file__).resolve().parents[1] / "benchmarks" / "results"
figures = figure_dir("kernels_performance")


def have_gpu() -> bool:
    try:
        cupy = kernels.load_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, or no driver, or no device
        return False


GPU = have_gpu()
print("GPU available:", GPU)
print("implementations of adam:", kernels.available("adam"))

# %% [markdown]
# ## 1. Passes over memory, on the CPU
#
# `numpy_ref`'s Adam is the book's Algorithm 1.2 written one line per formula. Each line allocates a
# temporary the size of the parameter vector and sweeps memory once more. `numpy_fast` does the same
# arithmetic with in-place ufuncs and one scratch array. Same answer, fewer passes, less time: the CPU
# version of naive versus fused.

# %%
n = scale(4_000_000, 200_000)
rng = np.random.default_rng(0)
param, grad = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)


def time_adam(impl, repeat=scale(10, 3)):
    p, m, v = param.copy(), np.zeros_like(param), np.zeros_like(param)
    fn = kernels.get("adam", impl)
    times = []
    for step in range(1, repeat + 1):
        start = time.perf_counter()
        fn(p, grad, m, v, step, 1e-3)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), p


cpu = {}
for impl in ("numpy_ref", "numpy_fast"):
    seconds, result = time_adam(impl)
    cpu[impl] = {"us": seconds * 1e6, "GBps": 28 * n / seconds / 1e9, "result": result}
    print(f"{impl:>10}: {seconds * 1e3:7.2f} ms for {n:,} parameters = {cpu[impl]['GBps']:5.1f} GB/s of useful traffic")
difference = np.max(np.abs(cpu["numpy_ref"]["result"] - cpu["numpy_fast"]["result"]))
print(f"largest difference between the two: {difference:.1e}")
assert difference < 1e-6

# %% [markdown]
# ## 2. The same update as one GPU kernel
#
# `cupy_fused` writes Adam's four lines as the body of a CuPy `ElementwiseKernel`; CuPy generates a CUDA
# kernel in which each thread loads $g, \theta, m, v$ of one parameter into registers, applies the update,
# and stores three values. `cupy_raw` is the same in CUDA C++, with two changes that matter at full
# bandwidth: a grid-stride loop (a fixed number of threads, each walking over many parameters) and
# `float4` accesses (one 16-byte load per array per four parameters). Here is the raw kernel's inner loop:

# %%
source = (Path(kernels.__file__).parent / "cupy_raw.cu").read_text()
start = source.index("template <bool DEVICE_STEP>\n__global__ void adam_float4")
print(source[start:source.index("// ----", start)].strip())

# %% [markdown]
# ## 3. Measuring: `kernels.bench`
#
# `python -m kernels.bench` times every implementation of every op side by side (the median of many runs),
# checks each against `numpy_ref` computed in float64, and reports the achieved bandwidth as a fraction of the
# machine's copy bandwidth, measured in the same run. It always times the NumPy implementations on the CPU;
# where CuPy finds a GPU it adds the CuPy ones, timed with CUDA events. Here we run four of its problems on the
# CPU now (at small sizes in the test suite's fast mode); on the GPU, three at a small size where there is
# one, and otherwise we read the table recorded on an H100.

# %%
from kernels import bench  # noqa: E402

SHOWN = ("adam", "softmax_cross_entropy", "sgd", "matmul")
cpu_ceiling = bench.cpu_ceilings(quick=fast_mode())
cpu_rows = [row for problem in bench.problems(quick=fast_mode(), device="cpu") if problem.op in SHOWN
            for row in bench.run_problem_on_cpu(problem, cpu_ceiling)]
print(f"(CPU, measured now) copy bandwidth {cpu_ceiling['copy_GBps']:.1f} GB/s, BLAS float32 "
      f"{cpu_ceiling['matmul_TFLOPs'] * 1e3:.0f} GFLOP/s on {cpu_ceiling['blas_threads']} thread(s)")
print(bench.table(cpu_rows))

# %% [markdown]
# On the CPU the speed-up is over `numpy_ref`. Adam's is the one of section 1: fewer passes over memory, a larger
# fraction of the copy bandwidth. The SGD step with momentum, a few multiply-adds per value, is bound by memory
# here too. The softmax cross-entropy, though, reaches only a few percent of the copy bandwidth: `numpy_ref`
# makes a loop over the logits for each step (max, subtract, exp, sum, log, the gradient), and one core takes
# about as long for the `exp` of a value as for streaming tens of bytes. On the CPU it is bound by arithmetic
# and passes, not by the bytes a perfect kernel must move. The same count of bytes and operations gives
# different answers on different machines; that is why the benchmark measures the ceilings of the machine it
# runs on.

# %%
if GPU:
    ceiling = bench.ceilings(quick=True)
    rows = []
    for problem in bench.problems(quick=True):
        if problem.op in ("adam", "softmax_cross_entropy", "sgd"):
            rows += bench.run_problem(problem, ceiling, have_torch=False)
    source_of_rows = "measured now, small sizes"
else:
    recorded = json.loads((RESULTS / "kernels_bench_h100.json").read_text())
    ceiling, rows = recorded["ceilings"], recorded["rows"]
    source_of_rows = f"recorded on {recorded['machine']['gpu']}"
print(f"(GPU, {source_of_rows}) copy bandwidth {ceiling['copy_GBps']:.0f} GB/s, cuBLAS float32 "
      f"{ceiling['matmul_TFLOPs']:.1f} TFLOP/s")
shown = [r for r in rows if r["op"] in SHOWN]
print(bench.table(shown))

# %% [markdown]
# Read the GPU table from left to right. On a large problem the naive ufunc chain reaches a fraction of the
# copy bandwidth, the fused kernel most of it, and the hand-written CUDA kernel the last few percent. The
# softmax cross-entropy shows the other lesson: a reduction along rows (max, then $\sum e^{x - \max}$) needs
# the right *shape* of parallelism. One warp per row, the row held in registers, reads each value once and
# reduces with register shuffles; a chain of library calls launches five kernels and writes four temporaries.
#
# The matrix product is the exception: $2n^3$ operations on $3n^2$ values, so at $n = 4096$ it is bound by
# arithmetic, not memory. The tiled kernel (`matmul_tiled_float4` in `cupy_raw.cu`) copies $128 \times 128$
# tiles into shared memory and has each thread accumulate an $8 \times 8$ patch in registers; it reaches about
# half of cuBLAS, whose kernels add double buffering, tensor-core paths and years of tuning.

# %%
plt = pyplot()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
for ax, device_rows, title in ((axes[0], cpu_rows, "CPU, measured now"), (axes[1], rows, f"GPU, {source_of_rows}")):
    bandwidth_rows = [r for r in device_rows if "fraction_of_copy_bandwidth" in r and r["op"] in
                      ("adam", "softmax_cross_entropy", "sgd")]
    labels = [f"{r['op']}\n{r['impl']}" for r in bandwidth_rows]
    ax.bar(range(len(labels)), [100 * r["fraction_of_copy_bandwidth"] for r in bandwidth_rows],
           color="tab:gray" if device_rows is cpu_rows else "tab:blue")
    ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7, ha="right")
    ax.set_title(title, fontsize=9)
axes[0].set_ylabel("% of copy bandwidth")
fig.suptitle("Kernels that are bandwidth-bound on a GPU", fontsize=10)
fig.tight_layout()
fig.savefig(figures / "kernel_bandwidth.png", dpi=120)

# %% [markdown]
# ## 4. The small RL network is bound by launches, not arithmetic
#
# A training step of the network 4 → 64 → 64 → 2 (tanh, batch 64, Adam) does about 1.1 million
# floating-point operations: an H100 does that in well under a microsecond. Yet, one op at a time, the step
# launches some forty kernels (a product, a bias add and a tanh per layer, their derivatives, the loss, the
# optimizer), and each launch from Python costs several microseconds of CPU time before the GPU sees it. Timed
# eagerly, the step takes over a millisecond on the GPU, longer than on the CPU.
#
# A CUDA graph records the step's kernels once (`autodiff.cuda_graph.CudaGraph`) and replays them with a single
# call: Python no longer runs, and the GPU walks the recorded list. What remains is the GPU's own per-kernel
# cost, about three microseconds per dependent kernel here. Two things must live on the device for replays to
# stay correct: the inputs (copied into the recorded arrays) and Adam's step count (`Adam(capturable=True)`).
# And the matrix product must be one of ours: CuPy cannot record its cuBLAS calls.
#
# Since a replay costs about three microseconds per kernel, the last lever is the number of kernels. Fusion
# again, now across the layer: the tiled matmul of `kernels/cupy_raw.cu` takes an *epilogue* that works on
# each result while it is still in registers, so
#
# | step of a dense layer | one op at a time | fused (`CudaGraph` records these) |
# |---|---|---|
# | forward h = f(x Wᵀ + b) | product, + b, f: 3 | 1 (`dense_forward`) |
# | ∂L/∂W = δᵀ h and ∂L/∂b = Σ δ | product, sum, a copy: 3 | 1 (the row sums ride along) |
# | δ below = f'(z) ⊙ δ W | product, f': 2 | 1 (`dense_delta`) |
# | MSE forward and backward | 6 | 2 |
# | optimizer: gather 6 gradients, Adam | 6 + 3 | 1 + 2 (`gather_into`: one launch, many copies) |
#
# and the whole step goes from about 40 launches to 14.
#
# On the CPU there is no launch to save: a NumPy call costs about a microsecond of Python and dispatch, and the
# arithmetic is the rest. `kernels.bench` runs the small network's forward pass both ways on the CPU (its
# `mlp_forward` rows): each layer as separate ops (product, + bias, tanh: `Linear` then `Tanh`, one module at a
# time), and as one `dense_forward` per layer (the kernel `nn.DenseStack` runs for its dense layers).

# %%
mlp_rows = [row for problem in bench.problems(quick=fast_mode(), device="cpu") if problem.op == "mlp_forward"
            for row in bench.run_problem_on_cpu(problem, cpu_ceiling)]
print(bench.table(mlp_rows))

# %% [markdown]
# The two ways differ by little: fusing saves one call and one temporary per layer, while at batch 64 the tanh of
# 64 × 64 values alone costs more than all the calls. The speed-up that matters on the GPU, forty launches down to
# fourteen, has no counterpart here. Now the whole training step, on the CPU and on the GPU:

# %%
from minirl import nn, optim  # noqa: E402
import autodiff as ad  # noqa: E402

model = nn.DenseStack(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
opt = optim.Adam(model.parameters(), lr=1e-3, fused=True)
x = ad.tensor(rng.standard_normal((64, 4)).astype(np.float32))
y = ad.tensor(rng.standard_normal((64, 2)).astype(np.float32))


def step():
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss


steps = scale(2000, 200)
step()
start = time.perf_counter()
for _ in range(steps):
    step()
cpu_step_us = (time.perf_counter() - start) / steps * 1e6
print(f"CPU, eager (NumPy): {cpu_step_us:.0f} µs per step")

if GPU:
    from autodiff.cuda_graph import CudaGraph

    model.to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3, capturable=True, fused=True)
    x, y = x.to("cuda"), y.to("cuda")
    step()
    cupy = kernels.load_cupy()
    cupy.cuda.Device().synchronize()
    start = time.perf_counter()
    for _ in range(steps // 10):
        step()
    cupy.cuda.Device().synchronize()
    eager_us = (time.perf_counter() - start) / (steps // 10) * 1e6
    graph = CudaGraph(step)
    start = time.perf_counter()
    for _ in range(steps):
        graph.replay()
    graph.synchronize()
    graph_us = (time.perf_counter() - start) / steps * 1e6
    gpu_steps = {"ours_eager": eager_us, "ours_cuda_graph": graph_us}
    print(f"GPU, eager: {eager_us:.0f} µs per step; as a CUDA graph: {graph_us:.0f} µs per step (measured now)")
else:
    recorded = json.loads((RESULTS / "cuda_graph_step_h100.json").read_text())
    gpu_steps = recorded["us_per_step"]
    print(f"recorded on {recorded['machine']['gpu']} (µs per step):")
    for name, us in gpu_steps.items():
        print(f"  {name:>18}: {us:8.1f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
names = ["CPU eager (here)"] + [name.replace("_", " ") for name in gpu_steps]
values = [cpu_step_us] + list(gpu_steps.values())
ax.barh(names, values, color=["tab:gray"] + ["tab:orange"] * len(gpu_steps))
ax.set_xscale("log")
ax.set_xlabel("µs per training step (log scale)")
ax.set_title("4→64→64→2 MLP, batch 64: launch-bound on the GPU")
fig.tight_layout()
fig.savefig(figures / "mlp_step_devices.png", dpi=120)

# %% [markdown]
# ## What to take away
#
# - Count bytes and operations first. Most of deep RL's kernels are bandwidth-bound: their speed is the number
#   of passes over memory, and fusion is the tool.
# - Reductions need a parallel layout that matches the data (a warp per short row).
# - For networks as small as RL's, the GPU's arithmetic is free and launches are everything: batch many
#   environments per step, or record the step as a CUDA graph. On the CPU, minirl's NumPy step is fast
#   because it pays no launch cost at all.
# - Swap implementations yourself: `kernels.use(softmax_cross_entropy="cupy_naive")`, or
#   `MINIRL_KERNELS="adam=cupy_raw" python ...`, then run `python -m kernels.bench --ops adam`.
