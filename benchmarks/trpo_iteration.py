"""Where a TRPO iteration's time goes (CartPole-v1, the agent's CartPole table: 2 copies × 512 steps, 15 CG
iterations, a value fit of 20 epochs), measured by timers around the parts `minirl/algos/trpo.py` calls:

    rollout        `_collect_rollout`: acting, the environment, GAE
    gradient       the surrogate L(θ) and ĝ = ∇L (5.31), π_old frozen
    Fisher setup   ∇KL with its graph kept, once per iteration (`fisher_vector_product`)
    CG             conjugate gradient (5.32), each iteration one Fisher-vector product (a double backward pass)
    step size      x̂ᵀĤx̂, one more Fisher-vector product (5.30)
    line search    the backtracking tries (5.33): a forward pass of L and of KL each
    value fit      the Adam epochs of (5.34)

    python benchmarks/trpo_iteration.py [--iterations 40]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

import minirl.algos.trpo as trpo  # noqa: E402

TOTALS: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)


@contextlib.contextmanager
def timed(part: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        TOTALS[part] += time.perf_counter() - start
        COUNTS[part] += 1


def timing(part: str, function):
    def wrapper(*args, **kwargs):
        with timed(part):
            return function(*args, **kwargs)
    return wrapper


class TimedTRPO(trpo.TRPO):
    def _collect_rollout(self, hooks):
        with timed("rollout"):
            return super()._collect_rollout(hooks)

    def _update_policy(self):
        with timed("policy step (all)"):
            return super()._update_policy()

    def _line_search(self, *args):
        with timed("line search"):
            return super()._line_search(*args)

    def _fit_value(self):
        with timed("value fit"):
            return super()._fit_value()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "trpo_iteration.json"))
    args = parser.parse_args(argv)
    solve, setup = trpo.conjugate_gradient, trpo.fisher_vector_product

    def fisher(*a, **k):
        with timed("Fisher setup"):
            fvp = setup(*a, **k)
        return timing("Fisher-vector products", fvp)

    trpo.conjugate_gradient = timing("CG", solve)
    trpo.fisher_vector_product = fisher
    agent = TimedTRPO("CartPole-v1", seed=0)
    per_iteration = agent.hp["num_envs"] * agent.hp["num_steps"]
    agent.learn(args.iterations * per_iteration)
    n = COUNTS["rollout"]
    cg_products = COUNTS["Fisher-vector products"] - n  # one product per iteration is the step size's
    parts = {
        "rollout": TOTALS["rollout"],
        "gradient": TOTALS["policy step (all)"] - TOTALS["Fisher setup"] - TOTALS["CG"] - TOTALS["line search"]
        - (TOTALS["Fisher-vector products"] * n / COUNTS["Fisher-vector products"]),
        "Fisher setup": TOTALS["Fisher setup"],
        "CG": TOTALS["CG"],
        "step size": TOTALS["Fisher-vector products"] * n / COUNTS["Fisher-vector products"],
        "line search": TOTALS["line search"],
        "value fit": TOTALS["value fit"],
    }
    total = sum(parts.values())
    table = {part: {"ms_per_iteration": round(1e3 * seconds / n, 2), "share": round(seconds / total, 3)}
             for part, seconds in parts.items()}
    result = {"machine": describe(), "iterations": n, "steps_per_iteration": per_iteration,
              "cg_products_per_iteration": cg_products / n,
              "ms_per_iteration": round(1e3 * total / n, 2), "parts": table}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
