"""CUDA graphs: record the GPU work of one training step once, then replay it with a single launch.

A small RL network's step on the GPU is a few dozen tiny kernels (a matrix product, a bias add, a tanh, ...),
each doing a microsecond of arithmetic. Launched one by one from Python, the step costs what Python and the
CUDA driver spend per launch (several microseconds each), not what the GPU spends computing: the step is
*launch-bound*. A CUDA graph removes that cost. Stream capture records every kernel the step launches, with
its arguments and memory addresses, into a graph; replaying the graph hands the whole sequence to the GPU
in one call, and Python does not run at all.

    step = CudaGraph(train_step)     # runs train_step a few times to warm up, then records one call
    for batch in batches:
        x.data[...] = batch          # new inputs go into the same memory the graph reads
        step.replay()                # the recorded kernels run again; train_step's Python does not

What this asks of the step (what a replay cannot redo):
- Inputs live at fixed addresses: copy new data into the same arrays; never rebind them.
- Everything that changes between steps must change on the device. Adam's step count t, which its bias
  correction needs, is a Python number by default; ``Adam(..., capturable=True)`` keeps it in a device
  counter that the replayed graph increments itself (PyTorch's option of the same name).
- No host synchronization inside the step (no `.item()`, no printing of values, no anomaly detection).
- Kernels must be capturable. CuPy cannot capture its cuBLAS calls, so matrix products use our own kernels:
  while it warms up and records, `CudaGraph` selects the `CAPTURABLE` implementations below, which are also
  the ones that launch least (a replay still runs its kernels one after another, each costing a few
  microseconds however little it computes, so the step's time is about its number of launches: each dense
  layer's forward step, its δ and its weight-and-bias gradient are one launch each, the loss one launch each
  way, and with ``Adam(..., fused=True)`` the optimizer's gather of gradients one and Adam one).
- Memory the step allocates comes from a pool private to the graph (kept alive with it), so no other array
  can be given an address the graph writes to.
"""

from __future__ import annotations

from kernels import registry


# the implementations a recorded step runs: capturable (no cuBLAS) and with the fewest launches
CAPTURABLE = {"matmul": "cupy_raw_tiled", "dense_forward": "cupy_raw", "dense_delta": "cupy_raw",
              "dense_param_grads": "cupy_raw", "squared_error": "cupy_raw", "squared_error_backward": "cupy_fused",
              "gather_into": "cupy_raw", "adam": "cupy_raw", "kfac_factor": "cupy_raw"}


class CudaGraph:
    """`fn` (a function of no arguments doing GPU work) recorded as a CUDA graph; `replay()` reruns it.

    `warmup` eager calls come first (they compile kernels, create optimizer state and fill the memory pool);
    `replay()` returns what the recorded call returned, whose arrays the replays overwrite in place. `kernels`
    (op -> implementation) replaces entries of `CAPTURABLE` for the warm-up and the recording."""

    def __init__(self, fn, warmup: int = 3, kernels: dict | None = None):
        cupy = registry.load_cupy()
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self.pool = cupy.cuda.MemoryPool()
        cupy.cuda.Device().synchronize()  # work queued on other streams finishes before ours starts
        with registry.use(**{**CAPTURABLE, **(kernels or {})}), self.stream:
            for _ in range(warmup):
                fn()
            self.stream.synchronize()
            with cupy.cuda.using_allocator(self.pool.malloc):
                self.stream.begin_capture()
                try:
                    self.result = fn()
                finally:
                    self.graph = self.stream.end_capture()
        self.replays = 0

    def replay(self):
        """Launch the recorded work on the graph's stream (asynchronously) and return the recorded result."""
        self.graph.launch(self.stream)
        self.replays += 1
        return self.result

    def synchronize(self) -> None:
        """Wait until every replay launched so far has finished."""
        self.stream.synchronize()
