"""Per-node overhead of autodiff: microseconds our bookkeeping adds on top of the NumPy call itself.

For each op, a chain of N nodes on small float32 arrays (the sizes RL networks use) is run three ways in one
process: the bare NumPy forward calls, the same NumPy calls plus the ones its backward rule makes (the floor
for any NumPy autodiff), and autodiff's forward and forward+backward. Overhead per node =
(autodiff time − NumPy time) / N.

    python benchmarks/op_overhead.py [--nodes 200] [--repeat 7] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import timeit
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import autodiff as ad  # noqa: E402
from machine import describe  # noqa: E402

RNG = np.random.default_rng(0)
A = RNG.standard_normal((8, 8)).astype(np.float32) * 0.1
B = RNG.standard_normal((8, 8)).astype(np.float32) * 0.1

# op: (autodiff step, NumPy forward step, NumPy backward step (g, x) -> g) on 8x8 float32 arrays
OPS = {
    "add": (lambda x, b: x + b, lambda x: x + B, lambda g, x: g),
    "mul": (lambda x, b: x * b, lambda x: x * B, lambda g, x: g * B),
    "matmul": (lambda x, b: x @ b, lambda x: x @ B, lambda g, x: g @ B.T),
    "tanh": (lambda x, b: x.tanh(), np.tanh, lambda g, y: g * (1 - y * y)),
    "relu": (lambda x, b: x.relu(), lambda x: x * (x > 0), lambda g, y: g * (y > 0)),
    "sigmoid": (lambda x, b: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), lambda g, y: g * y * (1 - y)),
}


def best(fn, number, repeat):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def measure(name, nodes, repeat):
    step, np_forward, np_backward = OPS[name]
    x = ad.tensor(A, requires_grad=True)
    b = ad.tensor(B)

    def forward():
        z = x
        for _ in range(nodes):
            z = step(z, b)
        return z

    def forward_backward():
        forward().sum().backward()

    result = {"op": name,
              "autodiff_forward_us": best(forward, 20, repeat) / nodes * 1e6,
              "autodiff_forward_backward_us": best(forward_backward, 20, repeat) / nodes * 1e6}
    if np_forward is not None:
        def numpy_forward():
            z = A
            for _ in range(nodes):
                z = np_forward(z)
            return z

        def numpy_forward_backward():
            zs = [A]
            for _ in range(nodes):
                zs.append(np_forward(zs[-1]))
            g = np.ones_like(A)
            for z in reversed(zs[1:]):
                g = np_backward(g, z)

        result["numpy_forward_us"] = best(numpy_forward, 20, repeat) / nodes * 1e6
        result["numpy_forward_backward_us"] = best(numpy_forward_backward, 20, repeat) / nodes * 1e6
        result["overhead_forward_us"] = result["autodiff_forward_us"] - result["numpy_forward_us"]
        result["overhead_backward_us"] = (result["autodiff_forward_backward_us"] - result["numpy_forward_backward_us"]
                                          - result["overhead_forward_us"])
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    rows = [measure(name, args.nodes, args.repeat) for name in OPS]
    header = f"{'op':<14}{'numpy fwd':>11}{'ours fwd':>10}{'numpy f+b':>11}{'ours f+b':>10}{'ovh fwd':>9}{'ovh bwd':>9}"
    lines = [header, "-" * len(header)]
    for r in rows:
        cell = lambda k: f"{r[k]:.2f}" if k in r else "-"  # noqa: E731
        lines.append(f"{r['op']:<14}{cell('numpy_forward_us'):>11}{cell('autodiff_forward_us'):>10}"
                     f"{cell('numpy_forward_backward_us'):>11}{cell('autodiff_forward_backward_us'):>10}"
                     f"{cell('overhead_forward_us'):>9}{cell('overhead_backward_us'):>9}")
    table = "\n".join(lines)
    print("microseconds per node, 8x8 float32, chains of", args.nodes, "nodes")
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"benchmark": "op_overhead", "nodes": args.nodes, "machine": describe(), "rows": rows}
    (out / "op_overhead.json").write_text(json.dumps(record, indent=2))
    print(f"wrote {out / 'op_overhead.json'}")


if __name__ == "__main__":
    main()
