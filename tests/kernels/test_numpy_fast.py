"""`numpy_fast` equals `numpy_ref` (Adam over many steps; matmul, tanh and its derivative) and is what the CPU uses by default."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels


def test_fast_updates_are_the_cpu_defaults():
    assert kernels.active("adam") == "numpy_fast" and kernels.active("sgd") == "numpy_ref"
    assert kernels.active("matmul") == kernels.active("tanh") == kernels.active("tanh_backward") == "numpy_fast"
    assert set(kernels.available("adam")) >= {"numpy_ref", "numpy_fast"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(weight_decay=st.sampled_from([0.0, 0.01]), decoupled=st.booleans(), seed=st.integers(0, 100))
def test_adam_fast_equals_reference(dtype, weight_decay, decoupled, seed):
    rng = np.random.default_rng(seed)
    n = 37
    runs = {impl: [rng.standard_normal(n).astype(dtype)] for impl in ("numpy_ref", "numpy_fast")}
    start = runs["numpy_ref"][0].copy()
    states = {impl: (start.copy(), np.zeros(n, dtype), np.zeros(n, dtype)) for impl in runs}
    for step in range(1, 31):
        grad = rng.standard_normal(n).astype(dtype)
        for impl, (param, m, v) in states.items():
            kernels.get("adam", impl)(param, grad.copy(), m, v, step, 1e-2, weight_decay=weight_decay,
                                      decoupled=decoupled)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(states["numpy_ref"], states["numpy_fast"]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op, shapes", [("matmul", [(3, 4), (4, 2)]), ("matmul", [(2, 3, 4), (4, 5)]),
                                        ("tanh", [(3, 4)]), ("tanh", [()]), ("tanh_backward", [(3, 4), (3, 4)]),
                                        ("tanh_backward", [(), ()])])
def test_fast_elementary_kernels_equal_the_reference(op, shapes, dtype):
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1, 1, shape).astype(dtype) for shape in shapes]
    inputs[0] = inputs[0].T.copy().T if inputs[0].ndim == 2 else inputs[0]  # an F-ordered operand too
    fast, ref = kernels.get(op, "numpy_fast")(*inputs), kernels.get(op, "numpy_ref")(*inputs)
    assert np.asarray(fast).dtype == np.asarray(ref).dtype == dtype
    np.testing.assert_allclose(fast, ref, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert kernels.active(op) == "numpy_fast"
