"""A whole training step of the small RL network on the GPU: eager, and recorded as a CUDA graph, beside PyTorch.

The network is 4 → 64 → 64 → 2 with tanh, an MSE loss, batch 64, float32, Adam (lr 1e-3): the network of
benchmarks/mlp_step.py. On the GPU its arithmetic takes a few microseconds; what costs is launching its kernels
one after the other. Four ways, timed in one run:

- ours, eager: minirl.nn + autodiff + minirl.optim.Adam on device="cuda", every kernel launched from Python
  (the default implementations: cuBLAS products, fused elementwise epilogues);
- ours, CUDA graph: the same step recorded once by `autodiff.cuda_graph.CudaGraph` (Adam(capturable=True) and
  the `CAPTURABLE` kernels: our tiled matmul with fused epilogues in place of cuBLAS, 14 launches per step),
  then replayed; `--kernels op=impl,...` records with other implementations, to compare;
- PyTorch, eager and CUDA graph (torch.cuda.graph with Adam(capturable=True)), when installed.

Each figure is the wall time of many back-to-back steps divided by their number (the GPU stays busy: this is
throughput), median over several rounds. Target: ours as a CUDA graph ≤ 60 µs per step and ahead of PyTorch's
graph. The script also checks that our graph's parameters equal our eager steps' after the same steps.

    python benchmarks/cuda_graph_step.py [--steps 2000] [--kernels op=impl,...] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import autodiff as ad  # noqa: E402
from autodiff.cuda_graph import CudaGraph  # noqa: E402
from minirl import nn, optim  # noqa: E402

LR = 1e-3


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = rng.standard_normal((64, 2)).astype(np.float32)
    model = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    return model.state_dict(), x, y


def ours(state, x, y, capturable):
    model = nn.DenseStack(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    model.load_state_dict(state)
    model.to("cuda")
    opt = optim.Adam(model.parameters(), lr=LR, capturable=capturable, fused=True)
    xt, yt = ad.tensor(x, device="cuda"), ad.tensor(y, device="cuda")

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return model, step


def pytorch(state, x, y):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                                torch.nn.Linear(64, 2)).cuda()
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    opt = torch.optim.Adam(model.parameters(), lr=LR, capturable=True)
    xt, yt = torch.as_tensor(x, device="cuda"), torch.as_tensor(y, device="cuda")

    def step():
        opt.zero_grad(set_to_none=False)
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return step, graph.replay, torch.cuda.synchronize


def per_step_us(run, sync, steps, rounds=5) -> float:
    times = []
    for _ in range(rounds):
        sync()
        start = time.perf_counter()
        for _ in range(steps):
            run()
        sync()
        times.append((time.perf_counter() - start) / steps * 1e6)
    return float(np.median(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--kernels", default="", help="op=impl,... recorded in place of CudaGraph's CAPTURABLE")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    options = parser.parse_args(argv)
    import cupy

    from autodiff.cuda_graph import CAPTURABLE
    from kernels.bench import machine
    from kernels.registry import parse_env

    sync = cupy.cuda.Device().synchronize
    state, x, y = problem()
    results = {}
    _, eager = ours(state, x, y, capturable=False)
    results["ours_eager"] = per_step_us(eager, sync, max(200, options.steps // 10))
    model, step = ours(state, x, y, capturable=True)
    choices = parse_env(options.kernels)
    graph = CudaGraph(step, kernels=choices)
    results["ours_cuda_graph"] = per_step_us(graph.replay, graph.synchronize, options.steps)
    # correctness: the graph's replays equal the same number of eager steps
    check_model, check_step = ours(state, x, y, capturable=False)
    taken = 3 + graph.replays
    for _ in range(taken):
        check_step()
    error = max(float(np.max(np.abs(a.numpy() - b.numpy()))) for a, b in zip(model.parameters(),
                                                                                check_model.parameters()))
    try:
        import torch

        torch_eager, torch_graph, torch_sync = pytorch(state, x, y)
        results["torch_eager"] = per_step_us(torch_eager, torch_sync, max(200, options.steps // 10))
        results["torch_cuda_graph"] = per_step_us(torch_graph, torch_sync, options.steps)
    except ImportError:
        pass
    report = {"benchmark": "cuda_graph_step", "network": "4→64→64→2 tanh, MSE, batch 64, float32, Adam",
              "machine": machine(), "us_per_step": results, "graph_kernels": {**CAPTURABLE, **choices},
              "steps_compared": taken,
              "max_abs_difference_graph_vs_eager": error,
              "targets": {"ours_cuda_graph_us": "≤ 60", "ours_cuda_graph vs torch_cuda_graph": "faster"}}
    if "torch_cuda_graph" in results:
        report["ratio_ours_graph_to_torch_graph"] = results["ours_cuda_graph"] / results["torch_cuda_graph"]
    print(json.dumps(report, indent=2))
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cuda_graph_step.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
