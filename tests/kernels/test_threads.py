"""MINIRL_BLAS_THREADS: how many BLAS threads NumPy's matmul uses (kernels/threads.py)."""

import os

import pytest

from kernels import threads


@pytest.fixture
def recorded(monkeypatch):
    """Record the thread counts asked for instead of changing this process's BLAS."""
    calls = []
    monkeypatch.setattr(threads, "set_blas_threads", calls.append)
    return calls


def test_one_thread_unless_told_otherwise(recorded, monkeypatch):
    monkeypatch.delenv("MINIRL_BLAS_THREADS", raising=False)
    threads.apply_env()
    monkeypatch.setenv("MINIRL_BLAS_THREADS", " 3 ")
    threads.apply_env()
    assert recorded == [1, 3]


def test_zero_leaves_the_blas_default_alone(recorded, monkeypatch):
    monkeypatch.setenv("MINIRL_BLAS_THREADS", "0")
    threads.apply_env()
    assert recorded == []


@pytest.mark.parametrize("bad", ["two", "1.5", ""])
def test_a_bad_value_says_what_was_expected(recorded, monkeypatch, bad):
    monkeypatch.setenv("MINIRL_BLAS_THREADS", bad)
    with pytest.raises(ValueError, match=rf"MINIRL_BLAS_THREADS: expected a whole number \(0 keeps the BLAS "
                                         rf"default\), got '{bad}'"):
        threads.apply_env()
    assert recorded == []


def test_set_blas_threads_reports_whether_a_library_took_it():
    current = int(os.environ.get("MINIRL_BLAS_THREADS", "1"))  # what kernels set at import: set it again
    if current == 0:
        pytest.skip("MINIRL_BLAS_THREADS=0: this process keeps the BLAS default")
    assert isinstance(threads.set_blas_threads(current), bool)
