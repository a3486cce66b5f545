"""`python -m kernels.bench` without a GPU: every NumPy implementation of every op timed side by side, with its error
against numpy_ref, in quick mode (well under a second). Only that it runs and what it reports are checked, never
which implementation is faster."""

import contextlib
import io
import json
import math

import pytest

import kernels
from kernels import bench


@pytest.fixture(scope="module")
def quick_cpu_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = bench.main(["--quick", "--device", "cpu", "--out", str(out)])
    return code, json.loads(out.read_text()), printed.getvalue()


def test_every_numpy_implementation_of_every_op_has_a_row(quick_cpu_run):
    code, report, printed = quick_cpu_run
    assert code == 0 and "rows" not in report  # --device cpu: no GPU rows
    timed = {(row["op"], row["impl"]) for row in report["cpu_rows"]}
    for op, impls in kernels.available().items():
        numpy_impls = [impl for impl in impls if impl.startswith("numpy")]
        assert "numpy_ref" in numpy_impls, f"{op} has no numpy_ref"
        for impl in numpy_impls:
            assert (op, impl) in timed, f"kernels.bench has no row for {op} {impl}"
            assert any(line.split()[:2] == [op, impl] for line in printed.splitlines()), f"{op} {impl} not printed"
    assert {row["op"] for row in report["cpu_rows"]} == set(kernels.ops()) | {"mlp_forward"}


def test_rows_hold_positive_times_and_small_errors(quick_cpu_run):
    _, report, _ = quick_cpu_run
    for row in report["cpu_rows"]:
        where = f"{row['op']} {row['impl']} ({row['problem']})"
        assert isinstance(row["us"], float) and math.isfinite(row["us"]) and row["us"] > 0, where
        assert 0 <= row["error"] < 1e-5, where  # float32 against numpy_ref in float64
        assert row["speedup_over_ref"] > 0, where
    ceilings = report["cpu_ceilings"]
    assert ceilings["copy_GBps"] > 0 and ceilings["matmul_TFLOPs"] > 0


def test_each_problem_is_timed_from_numpy_ref(quick_cpu_run):
    _, report, _ = quick_cpu_run
    problems = {}
    for row in report["cpu_rows"]:
        problems.setdefault((row["op"], row["problem"]), []).append(row)
    for (op, problem), rows in problems.items():
        assert rows[0]["speedup_over_ref"] == 1.0, (op, problem)
        if op != "mlp_forward":
            assert rows[0]["impl"] == "numpy_ref", (op, problem)


def test_the_dense_stack_as_ops_and_as_dense_kernels(quick_cpu_run):
    _, report, _ = quick_cpu_run
    stacks = {}
    for row in report["cpu_rows"]:
        if row["op"] == "mlp_forward":
            stacks.setdefault(row["problem"], []).append(row["impl"])
    assert len(stacks) == 2  # acting on one observation, and a training batch
    for impls in stacks.values():
        assert impls == ["ops:numpy_ref", "ops:numpy_fast", "dense:numpy_ref", "dense:numpy_fast"]


def test_without_a_gpu_the_bench_runs_the_cpu_rows_and_says_why(tmp_path, capsys):
    missing = bench.gpu_missing()
    if missing is None:
        pytest.skip("CuPy finds a GPU here")
    out = tmp_path / "bench.json"
    assert bench.main(["--quick", "--ops", "gather_into", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert {row["impl"] for row in report["cpu_rows"]} == {"numpy_ref"} and "rows" not in report
    assert "no GPU rows" in capsys.readouterr().out
    assert bench.main(["--quick", "--device", "gpu"]) == 2
    assert "needs CuPy and an NVIDIA GPU" in capsys.readouterr().err
