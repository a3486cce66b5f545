"""The kernel registry: listing, choosing (function and context manager), MINIRL_KERNELS, lookup by name, and
dispatch by the backend of the first argument. Tests that register implementations restore the registry."""

import os
import subprocess
import sys

import numpy as np
import pytest

import kernels
from kernels import numpy_ref, registry

OPS = ["adam", "col2im", "dense_delta", "dense_forward", "dense_param_grads", "gather_into", "im2col", "kfac_factor",
       "log_softmax", "log_softmax_backward", "logsumexp", "matmul", "sgd", "softmax", "softmax_backward",
       "softmax_cross_entropy", "squared_error", "squared_error_backward"]


@pytest.fixture
def fresh_registry():
    """Snapshot the registry's tables and restore them in place (dispatchers hold references to them)."""
    implementations = {op: dict(impls) for op, impls in registry._implementations.items()}
    active = {backend: dict(table) for backend, table in registry._active.items()}
    names = {backend: dict(table) for backend, table in registry._active_names.items()}
    pending = dict(registry._pending)
    yield registry
    registry._implementations.clear()
    registry._implementations.update(implementations)
    for backend in active:
        registry._active[backend].clear()
        registry._active[backend].update(active[backend])
        registry._active_names[backend].clear()
        registry._active_names[backend].update(names[backend])
    registry._pending.clear()
    registry._pending.update(pending)


@pytest.fixture
def loop_matmul(fresh_registry):
    """A second NumPy implementation of matmul that records its calls."""
    calls = []

    @registry.register("matmul", "numpy_loop")
    def matmul(a, b):
        calls.append((a, b))
        return np.matmul(a, b)

    return calls


# -- listing and lookup ---------------------------------------------------------------------------------------
def test_every_op_has_the_numpy_reference():
    assert kernels.ops() == OPS
    listing = kernels.available()
    assert sorted(listing) == OPS
    for op in OPS:
        assert "numpy_ref" in kernels.available(op) and listing[op] == kernels.available(op)
        # the CPU runs the preferred NumPy implementation: numpy_fast where one exists, else the reference
        expected = "numpy_fast" if "numpy_fast" in kernels.available(op) else "numpy_ref"
        assert kernels.active(op) == expected
        assert kernels.get(op) is kernels.get(op, expected)
        assert kernels.get(op, "numpy_ref") is getattr(numpy_ref, op)


def test_unknown_op_lists_the_ops():
    with pytest.raises(KeyError, match=r"kernels: unknown op 'convolve'; ops with implementations: adam, col2im"):
        kernels.available("convolve")
    with pytest.raises(KeyError, match=r"unknown op 'convolve'"):
        kernels.get("convolve", "numpy_ref")


def test_unknown_implementation_lists_what_exists(loop_matmul):
    with pytest.raises(KeyError, match=r"kernels: op 'matmul' has no implementation 'numpy_blocked'; "
                                       r"available: numpy_fast, numpy_loop, numpy_ref"):
        kernels.get("matmul", "numpy_blocked")
    with pytest.raises(KeyError, match=r"kernels.use: op 'matmul' has no implementation 'numpy_blocked'; "
                                       r"available: numpy_fast, numpy_loop, numpy_ref"):
        kernels.use(matmul="numpy_blocked")
    with pytest.raises(KeyError, match=r"unknown op 'matmull'"):
        kernels.use(matmull="numpy_ref")
    with pytest.raises(ValueError, match=r"kernel implementation names start with 'numpy' or 'cupy', got 'fast'"):
        kernels.use(matmul="fast")
    assert kernels.active("matmul") == "numpy_fast"


# -- choosing ----------------------------------------------------------------------------------------------
def test_a_new_implementation_does_not_replace_the_default_until_chosen(loop_matmul):
    assert kernels.available("matmul") == ["numpy_fast", "numpy_loop", "numpy_ref"]
    assert kernels.active("matmul") == "numpy_fast"
    kernels.matmul(np.eye(2), np.eye(2))
    assert loop_matmul == []


def test_use_as_a_function_applies_at_once(loop_matmul):
    kernels.use(matmul="numpy_loop")
    assert kernels.active("matmul") == "numpy_loop"
    np.testing.assert_array_equal(kernels.matmul(np.eye(2), np.ones((2, 2))), np.ones((2, 2)))
    assert len(loop_matmul) == 1
    assert kernels.get("matmul") is kernels.get("matmul", "numpy_loop")


def test_use_as_a_context_manager_restores_the_previous_choice(loop_matmul):
    with kernels.use(matmul="numpy_loop"):
        assert kernels.active("matmul") == "numpy_loop"
        with kernels.use(matmul="numpy_ref"):
            assert kernels.active("matmul") == "numpy_ref"
        assert kernels.active("matmul") == "numpy_loop"
        kernels.matmul(np.eye(2), np.eye(2))
    assert kernels.active("matmul") == "numpy_fast"
    assert len(loop_matmul) == 1
    with pytest.raises(RuntimeError):
        with kernels.use(matmul="numpy_loop"):
            raise RuntimeError("inside")
    assert kernels.active("matmul") == "numpy_fast"


def test_autodiff_runs_the_chosen_kernel_forward_and_backward(loop_matmul):
    import autodiff as ad

    a = ad.tensor(np.ones((2, 3)), requires_grad=True)
    with kernels.use(matmul="numpy_loop"):
        (a @ ad.tensor(np.ones((3, 2)))).sum().backward()
    assert len(loop_matmul) == 2  # the product, then g bᵀ for ∂L/∂a (b needs no gradient)
    np.testing.assert_array_equal(a.grad.data, np.full((2, 3), 2.0))


def test_a_cupy_choice_waits_for_cupy_and_is_restored(fresh_registry):
    if registry._cupy_ndarray is not None:
        pytest.skip("CuPy is loaded: a cupy_* choice applies at once")
    with kernels.use(softmax="cupy_fused"):
        assert registry._pending["softmax"] == "cupy_fused"
        assert kernels.active("softmax") == "numpy_ref"  # NumPy arrays are unaffected
    assert "softmax" not in registry._pending


def test_registering_a_preferred_gpu_implementation_makes_it_the_default(fresh_registry):
    """cupy_fused is preferred over cupy_naive whichever registers first (registration needs no CuPy)."""
    registry.register("softmax", "cupy_naive")(lambda x, axis=-1: "naive")
    assert kernels.active("softmax", "cupy") == "cupy_naive"
    registry.register("softmax", "cupy_fused")(lambda x, axis=-1: "fused")
    assert kernels.active("softmax", "cupy") == "cupy_fused"
    registry.register("softmax", "cupy_raw")(lambda x, axis=-1: "raw")
    assert kernels.active("softmax", "cupy") == "cupy_fused"
    assert kernels.active("softmax", "numpy") == "numpy_ref"


# -- dispatch ----------------------------------------------------------------------------------------------
class FakeCupyArray:
    """Stands in for cupy.ndarray so that dispatch to the GPU table can be tested without CuPy."""


def test_dispatcher_picks_the_backend_of_the_first_argument(fresh_registry, monkeypatch):
    registry.register("logsumexp", "cupy_naive")(lambda x, axis=-1, keepdims=False: "from the cupy table")
    x = np.array([0.0, 0.0])
    assert kernels.logsumexp(x) == pytest.approx(np.log(2.0))
    assert kernels.backend_of(x) == "numpy" and kernels.backend_of(1.5) == "numpy"
    monkeypatch.setattr(registry, "_cupy_ndarray", FakeCupyArray)
    assert kernels.logsumexp(x) == pytest.approx(np.log(2.0))  # NumPy arrays still go to numpy_ref
    assert kernels.backend_of(FakeCupyArray()) == "cupy"
    assert kernels.logsumexp(FakeCupyArray()) == "from the cupy table"
    assert kernels.logsumexp.__name__ == "logsumexp" and "kernels.available('logsumexp')" in kernels.logsumexp.__doc__


def test_a_cupy_array_without_a_cupy_implementation_is_a_clear_error(fresh_registry, monkeypatch):
    monkeypatch.setattr(registry, "_cupy_ndarray", FakeCupyArray)
    registry._active["cupy"].pop("softmax", None)
    for run in (kernels.softmax, lambda x: kernels.resolve("softmax", x)):
        with pytest.raises(KeyError, match=r"kernels: 'softmax' has no CuPy implementation for a cupy array "
                                           r"\(registered: numpy_ref\)"):
            run(FakeCupyArray())


def test_resolve_gives_what_the_dispatcher_runs(loop_matmul, monkeypatch):
    x = np.eye(2)
    assert kernels.resolve("matmul", x) is kernels.get("matmul")
    with kernels.use(matmul="numpy_loop"):
        kernels.resolve("matmul", x)(x, x)
        assert len(loop_matmul) == 1
    assert kernels.resolve("matmul", x) is not kernels.get("matmul", "numpy_loop")
    registry.register("matmul", "cupy_naive")(lambda a, b: "from the cupy table")
    monkeypatch.setattr(registry, "_cupy_ndarray", FakeCupyArray)
    assert kernels.resolve("matmul", FakeCupyArray())(None, None) == "from the cupy table"


def test_require_contiguous_copies_only_strided_arrays():
    a = np.ones((3, 4))
    b = np.ones((4, 6))[:, ::2]
    ca, cb = kernels.require_contiguous(a, b)
    assert ca is a
    assert cb is not b and cb.flags.c_contiguous
    np.testing.assert_array_equal(cb, b)


# -- MINIRL_KERNELS ----------------------------------------------------------------------------------------
def test_parse_env_reads_op_impl_pairs():
    assert kernels.parse_env("") == {}
    assert kernels.parse_env(" matmul = numpy_ref , softmax=cupy_raw,, ") == {"matmul": "numpy_ref",
                                                                             "softmax": "cupy_raw"}


@pytest.mark.parametrize("bad", ["matmul", "matmul=", "=numpy_ref", "matmul=numpy_ref,softmax"])
def test_parse_env_rejects_malformed_items(bad):
    with pytest.raises(ValueError, match=r"MINIRL_KERNELS: expected 'op=impl' items separated by commas, got '"):
        kernels.parse_env(bad)


def test_parse_env_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MINIRL_KERNELS", "adam=numpy_ref")
    assert kernels.parse_env() == {"adam": "numpy_ref"}
    monkeypatch.delenv("MINIRL_KERNELS")
    assert kernels.parse_env() == {}


def test_apply_env_chooses_and_rejects(loop_matmul, monkeypatch):
    monkeypatch.setenv("MINIRL_KERNELS", "matmul=numpy_loop")
    kernels.apply_env()
    assert kernels.active("matmul") == "numpy_loop"
    monkeypatch.setenv("MINIRL_KERNELS", "matmul=numpy_ref,nope=numpy_ref")
    with pytest.raises(KeyError, match=r"unknown op 'nope'"):
        kernels.apply_env()
    monkeypatch.setenv("MINIRL_KERNELS", "matmul=numpy_blocked")
    with pytest.raises(KeyError, match=r"no implementation 'numpy_blocked'; available: numpy_fast, numpy_loop, numpy_ref"):
        kernels.apply_env()


def test_a_bad_minirl_kernels_fails_the_import_with_the_reason():
    env = dict(os.environ, MINIRL_KERNELS="softmax=numpy_fast")
    result = subprocess.run([sys.executable, "-c", "import kernels"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "op 'softmax' has no implementation 'numpy_fast'; available: numpy_ref" in result.stderr
