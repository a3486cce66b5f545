"""The memory of a 1M-transition replay memory for Pendulum (what DDPG, TD3 and SAC keep): the bytes of its arrays
(float32 observations and actions) and the growth of the process's peak resident set size from just before the
memory is made to just after it is full.

The memory is filled with 1M transitions of Pendulum's shapes (observations 3 floats, actions 1), written 1,000 at a
time as a vector env of 1,000 copies would; the numbers are random (the bytes do not depend on them).

    python benchmarks/replay_memory.py [--capacity 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from machine import describe  # noqa: E402

from minirl.buffers import ReplayBuffer  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--capacity", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "replay_memory.json"))
    args = parser.parse_args(argv)
    copies, rng = 1000, np.random.default_rng(0)
    machine = describe()  # (it imports PyTorch to report its version: before the first reading)
    before = peak_rss_mb()
    buffer = ReplayBuffer(args.capacity, (3,), (1,), obs_dtype=np.float32, action_dtype=np.float32, num_envs=copies)
    for _ in range(args.capacity // copies):
        obs = rng.standard_normal((copies, 3), dtype=np.float32)
        buffer.add(obs, rng.uniform(-2, 2, (copies, 1)).astype(np.float32), rng.standard_normal(copies), obs,
                   np.zeros(copies, bool), np.zeros(copies, bool))
    arrays = {name: value.nbytes for name, value in vars(buffer).items() if isinstance(value, np.ndarray)}
    result = {"machine": machine, "capacity": args.capacity, "stored": int(buffer.size),
              "array_megabytes": round(sum(arrays.values()) / 2 ** 20, 1),
              "arrays_bytes": arrays, "peak_rss_megabytes_before": round(before, 1),
              "peak_rss_megabytes_after": round(peak_rss_mb(), 1)}
    result["peak_rss_growth_megabytes"] = round(result["peak_rss_megabytes_after"] - before, 1)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "arrays_bytes")}, indent=2))


if __name__ == "__main__":
    main()
