"""Initializers: bounds, moments, orthogonality, reproducibility, PyTorch's gains."""

import math
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from minirl.nn import Parameter, init

FIXTURE = Path(__file__).parents[2] / "fixtures" / "torch_reference_nn.npz"


def param(*shape, dtype=np.float32):
    return Parameter(np.zeros(shape, dtype=dtype))


def rng(seed=0):
    return np.random.default_rng(seed)


def test_calculate_gain_matches_pytorch():
    with np.load(FIXTURE) as data:
        names, values, leaky = list(data["gain/names"]), data["gain/values"], float(data["gain/leaky_relu_0.2"])
    for name, value in zip(names, values):
        assert init.calculate_gain(str(name)) == pytest.approx(value)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(leaky)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_uniform_normal_constant():
    w = init.uniform_(param(200, 100), -0.5, 2.0, rng=rng())
    assert w.numpy().min() >= -0.5 and w.numpy().max() < 2.0 and abs(w.numpy().mean() - 0.75) < 0.02
    w = init.normal_(param(200, 100), 1.0, 0.5, rng=rng())
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.5) < 0.01
    np.testing.assert_array_equal(init.constant_(param(3), 0.1).numpy(), np.float32(0.1))
    np.testing.assert_array_equal(init.zeros_(param(3)).numpy(), 0)
    np.testing.assert_array_equal(init.ones_(param(2, 2)).numpy(), 1)
    np.testing.assert_array_equal(init.eye_(param(2, 3)).numpy(), np.eye(2, 3))


def test_initializers_write_in_place_and_keep_dtype():
    w = param(4, 3, dtype=np.float64)
    data = w.data
    assert init.xavier_uniform_(w, rng=rng()) is w
    assert w.data is data and w.dtype == np.float64 and w.requires_grad


def test_same_rng_seed_same_weights():
    a = init.kaiming_normal_(param(5, 4), rng=rng(3)).numpy().copy()
    b = init.kaiming_normal_(param(5, 4), rng=rng(3)).numpy()
    c = init.kaiming_normal_(param(5, 4), rng=rng(4)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_xavier_bounds_and_std():
    fan_in, fan_out = 300, 200
    w = init.xavier_uniform_(param(fan_out, fan_in), gain=2.0, rng=rng()).numpy()
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    w = init.xavier_normal_(param(fan_out, fan_in), rng=rng()).numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)


def test_kaiming_bounds_std_and_modes():
    w = init.kaiming_uniform_(param(200, 300), nonlinearity="relu", rng=rng()).numpy()
    bound = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.kaiming_normal_(param(200, 300), mode="fan_out", nonlinearity="relu", rng=rng()).numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    # a conv weight (out, in, kh, kw): fan_in = in·kh·kw
    w = init.kaiming_normal_(param(64, 16, 3, 3), nonlinearity="relu", rng=rng()).numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.03)
    # Linear's default: a = √5 gives U(−1/√fan_in, 1/√fan_in)
    w = init.kaiming_uniform_(param(100, 64), a=math.sqrt(5), rng=rng()).numpy()
    assert np.abs(w).max() <= 1 / 8 and np.abs(w).max() > 0.99 / 8
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(param(2, 2), mode="fan_avg")
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(param(5))


@pytest.mark.parametrize("shape", [(6, 6), (3, 8), (8, 3), (4, 2, 3)])
def test_orthogonal(shape):
    w = init.orthogonal_(param(*shape, dtype=np.float64), gain=2.0, rng=rng()).numpy().reshape(shape[0], -1)
    if w.shape[0] <= w.shape[1]:
        np.testing.assert_allclose(w @ w.T, 4 * np.eye(w.shape[0]), atol=1e-10)  # orthonormal rows
    else:
        np.testing.assert_allclose(w.T @ w, 4 * np.eye(w.shape[1]), atol=1e-10)  # orthonormal columns


def test_orthogonal_is_not_biased_towards_a_fixed_matrix():
    draws = np.stack([init.orthogonal_(param(3, 3, dtype=np.float64), rng=rng(s)).numpy() for s in range(300)])
    # Haar-distributed Q has zero mean entries (without the sign fix, diag(Q) would lean positive)
    assert np.abs(draws.mean(axis=0)).max() < 0.15


def test_trunc_normal_bounds_and_moments():
    w = init.trunc_normal_(param(400, 250), mean=0.0, std=0.05, a=-0.1, b=0.1, rng=rng()).numpy()
    assert w.min() >= -0.1 and w.max() <= 0.1
    # the standard normal truncated at ±2 has std ≈ 0.8796
    assert w.std() == pytest.approx(0.05 * 0.8796, rel=0.01) and abs(w.mean()) < 1e-3
    one_sided = init.trunc_normal_(param(1000), mean=0.0, std=1.0, a=0.5, b=3.0, rng=rng()).numpy()
    assert one_sided.min() >= 0.5 and one_sided.max() <= 3.0
    with pytest.raises(ValueError, match="a < b"):
        init.trunc_normal_(param(3), a=1.0, b=0.0)


def test_initializer_of_plain_tensor_works_too():
    t = ad.zeros(3, 3)
    init.normal_(t, rng=rng())
    assert np.count_nonzero(t.numpy()) == 9
