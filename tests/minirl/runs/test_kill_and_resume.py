"""A run killed with SIGKILL at a random moment and resumed equals the run that was never interrupted: the same
metrics (every column but the wall clock), the same final checkpoint, array for array, and the same evaluation.

Each run is a real `minirl train` process; the moment of the kill is drawn from a seeded generator, somewhere after
the first checkpoint (before it there is nothing to resume: such a run leaves no directory, see test_faults.py).
The default suite kills each of PPO and DQN once; the slow suite five times each.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minirl.io.checkpoint import flatten_state, load_checkpoint
from minirl.io.logger import read_metrics
from minirl.runs.trainer import WALL_CLOCK

RUNS = {  # algorithm -> (environment, steps, settings): a few seconds of training each
    "ppo": ("CartPole-v1", 16_384, []),
    "dqn": ("CartPole-v1", 8_000, []),
}


def minirl(*argv, wait=True):
    command = [sys.executable, "-m", "minirl", *map(str, argv)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


def train_argv(algo, out):
    env_id, steps, settings = RUNS[algo]
    return ["train", algo, "--env", env_id, "--steps", steps, "--seed", 3, "--out", out, "--quiet", *settings]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    runs = {}

    def get(algo):
        if algo not in runs:
            out = tmp_path_factory.mktemp("whole") / algo
            minirl(*train_argv(algo, out))
            runs[algo] = out
        return runs[algo]

    return get


def kill_at_random_moment(algo, out, rng):
    """Start the run, wait for its first checkpoint, then SIGKILL it after a random delay; returns the delay."""
    proc = minirl(*train_argv(algo, out), wait=False)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.npz").exists():
        assert proc.poll() is None, f"the run ended before its first checkpoint: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    delay = float(rng.uniform(0.0, 1.0))
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before the kill: lengthen it"
    return delay


def assert_same_run(whole: Path, resumed: Path):
    strip = lambda rows: [{k: v for k, v in row.items() if k != WALL_CLOCK} for row in rows]  # noqa: E731
    assert strip(read_metrics(whole)) == strip(read_metrics(resumed))
    (state_a, meta_a), (state_b, meta_b) = (load_checkpoint(d / "checkpoint.npz") for d in (whole, resumed))
    assert meta_a == meta_b
    (arrays_a, tree_a), (arrays_b, tree_b) = flatten_state(state_a), flatten_state(state_b)
    assert tree_a == tree_b and arrays_a.keys() == arrays_b.keys()
    for name in arrays_a:
        np.testing.assert_array_equal(arrays_a[name], arrays_b[name], err_msg=name)
    assert json.loads((whole / "eval.json").read_text()) == json.loads((resumed / "eval.json").read_text())


def kill_resume_compare(algo, uninterrupted, tmp_path, seed):
    out = tmp_path / f"{algo}-killed"
    kill_at_random_moment(algo, out, np.random.default_rng(seed))
    assert not (out / "eval.json").exists()
    minirl("train", "--resume", out, "--quiet")
    assert not list(out.glob(".*.tmp"))  # a write the kill interrupted leaves nothing behind
    assert_same_run(uninterrupted(algo), out)


@pytest.mark.parametrize("algo", sorted(RUNS))
def test_a_run_killed_once_and_resumed_equals_the_uninterrupted_one(algo, uninterrupted, tmp_path):
    kill_resume_compare(algo, uninterrupted, tmp_path, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
@pytest.mark.parametrize("algo", sorted(RUNS))
def test_runs_killed_at_five_random_moments_resume_exactly(algo, seed, uninterrupted, tmp_path):
    kill_resume_compare(algo, uninterrupted, tmp_path, seed)
