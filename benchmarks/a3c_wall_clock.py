"""Wall-clock time to a final 475 on CartPole-v1: A3C with 2 worker processes against A2C in one process, 5 seeds
each, on this machine, one run at a time (alternately, so that a slow spell of the machine hits both).

Each run trains for the agent's default steps (A2C 200k, A3C 300k), timed from `learn`'s call, process start-up
included; when it arrived at a final 475 is found as `time_to_target.py` explains (copies of the policy every
`--every` steps, evaluated afterwards, untimed).

    python benchmarks/a3c_wall_clock.py [--seeds 0 1 2 3 4] [--every 10000] [--out benchmarks/results/a3c_wall_clock.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402
from time_to_target import race, summarize  # noqa: E402

from minirl.algos import A2C, A3C  # noqa: E402

TARGET = 475.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--every", type=int, default=10_000)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "a3c_wall_clock.json"))
    args = parser.parse_args(argv)
    runs = {"a2c": [], "a3c": []}
    for seed in args.seeds:
        for name, cls, settings in (("a2c", A2C, {}), ("a3c", A3C, {"num_workers": 2})):
            runs[name].append(race(cls, "CartPole-v1", seed, TARGET, args.every, **settings))
            print(name, runs[name][-1], flush=True)
    summary = {name: summarize(records) for name, records in runs.items()}
    result = {"machine": describe(), "cpu_count": os.cpu_count(), "target": TARGET, "every": args.every,
              "summary": summary, "runs": runs}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
