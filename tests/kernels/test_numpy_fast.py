"""`numpy_fast` equals `numpy_ref` (Adam over many steps; matmul; the dense-layer ops and the squared error) and is
what the CPU uses by default."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels
from kernels.numpy_fast import sum_rows


def test_fast_updates_are_the_cpu_defaults():
    assert kernels.active("adam") == "numpy_fast" and kernels.active("sgd") == "numpy_ref"
    assert kernels.active("matmul") == kernels.active("dense_delta") == "numpy_fast"
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
@pytest.mark.parametrize("op, shapes", [("matmul", [(3, 4), (4, 2)]), ("matmul", [(2, 3, 4), (4, 5)])])
def test_fast_elementary_kernels_equal_the_reference(op, shapes, dtype):
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1, 1, shape).astype(dtype) for shape in shapes]
    inputs[0] = inputs[0].T.copy().T if inputs[0].ndim == 2 else inputs[0]  # an F-ordered operand too
    fast, ref = kernels.get(op, "numpy_fast")(*inputs), kernels.get(op, "numpy_ref")(*inputs)
    assert np.asarray(fast).dtype == np.asarray(ref).dtype == dtype
    np.testing.assert_allclose(fast, ref, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert kernels.active(op) == "numpy_fast"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 64), (5, 3), (1, 4), (0, 3), (7, 1)])
def test_bias_gradient_as_a_product_with_ones_equals_the_column_sums(shape, dtype):
    g = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    sums = sum_rows(g)
    assert sums.dtype == dtype and sums.shape == shape[1:] and sums.flags.writeable
    np.testing.assert_allclose(sums, g.sum(axis=0), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
    assert sum_rows(g) is not sums  # a fresh array each time (it becomes a leaf's .grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "tanh", "relu", "sigmoid"])
@given(n=st.integers(0, 9), k=st.integers(1, 7), m=st.integers(1, 7), bias=st.booleans(), seed=st.integers(0, 50))
def test_fast_dense_ops_equal_the_reference(activation, dtype, n, k, m, bias, seed):
    rng = np.random.default_rng(seed)
    h, w, b = (rng.standard_normal(s).astype(dtype) for s in ((n, k), (m, k), (m,)))
    delta, y = rng.standard_normal((n, m)).astype(dtype), np.tanh(rng.standard_normal((n, k))).astype(dtype)
    if activation == "relu":
        y = np.maximum(y, 0)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)

    def both(op, *args):
        ref, fast = (kernels.get(op, impl)(*args) for impl in ("numpy_ref", "numpy_fast"))
        for r, f in zip(ref if isinstance(ref, tuple) else (ref,), fast if isinstance(fast, tuple) else (fast,)):
            assert (r is None) == (f is None)
            if r is not None:
                assert f.dtype == dtype and f.shape == r.shape
                np.testing.assert_allclose(f, r, **tol)

    both("dense_forward", h, w, b if bias else None, activation)
    both("dense_delta", delta, w, y, activation)
    both("dense_param_grads", delta, h, True, bias)
    both("dense_param_grads", delta, h, False, True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(64, 2), (5,), ()])
def test_fast_squared_error_equals_the_reference(shape, dtype):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    g = np.asarray(0.7, dtype)
    tol = dict(rtol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
    for op, args in (("squared_error", (x, y, 0.25)), ("squared_error_backward", (g, x, y, 0.25))):
        ref, fast = (kernels.get(op, impl)(*args) for impl in ("numpy_ref", "numpy_fast"))
        assert isinstance(fast, np.ndarray) and fast.dtype == dtype and fast.shape == ref.shape
        np.testing.assert_allclose(fast, ref, **tol)


def test_dense_ops_name_the_activations_they_know():
    for impl in ("numpy_ref", "numpy_fast"):
        with pytest.raises(ValueError, match=r"activation must be None or one of 'tanh', 'relu', 'sigmoid', "
                                             r"got 'softmax'"):
            kernels.get("dense_forward", impl)(np.ones((2, 3)), np.ones((4, 3)), None, "softmax")
        with pytest.raises(ValueError, match="got 'elu'"):
            kernels.get("dense_delta", impl)(np.ones((2, 4)), np.ones((4, 3)), np.ones((2, 3)), "elu")
