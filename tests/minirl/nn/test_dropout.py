"""Dropout (book ch. 1.7.3): drops about p of the elements, scales the rest by 1/(1 − p), is the identity in
evaluation mode, and is reproducible from its rng."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
import minirl.nn.functional as F
from minirl.nn import Dropout, Sequential


@given(st.floats(0.05, 0.95), st.integers(0, 2**31 - 1))
def test_drops_about_p_and_scales_the_rest(p, seed):
    x = np.random.default_rng(seed).uniform(1.0, 2.0, 20_000).astype(np.float32)   # no zeros of its own
    y = Dropout(p, rng=np.random.default_rng(seed))(x).numpy()
    dropped = np.mean(y == 0)
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / x.size)    # five binomial standard deviations
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-6)


def test_expectation_is_preserved():
    x = np.ones(200_000, np.float32)
    y = F.dropout(x, 0.3, rng=np.random.default_rng(0)).numpy()
    assert abs(y.mean() - 1.0) < 0.01


def test_identity_in_eval_mode():
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    x = ad.tensor(np.random.default_rng(1).standard_normal((4, 5)), requires_grad=True)
    net = Sequential(layer).eval()
    assert not layer.training
    np.testing.assert_array_equal(net(x).numpy(), x.numpy())
    net.train()
    assert (net(x).numpy() == 0).any()


def test_p_zero_and_one():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(F.dropout(x, 0.0).numpy(), x)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.numpy(), np.zeros_like(x))
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout(1.5)


def test_rng_reproducible():
    x = np.ones((8, 8), np.float32)
    a = Dropout(0.5, rng=np.random.default_rng(42))
    b = Dropout(0.5, rng=np.random.default_rng(42))
    first, second = a(x).numpy(), b(x).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(a(x).numpy(), first)   # the next call draws a fresh mask


def test_gradient_is_the_same_mask():
    x = ad.tensor(np.random.default_rng(0).standard_normal((6, 7)), requires_grad=True)
    y = F.dropout(x, 0.4, rng=np.random.default_rng(3))
    y.sum().backward()
    mask = (y.numpy() != 0) / 0.6
    np.testing.assert_allclose(x.grad.numpy(), mask)
    assert x.grad.dtype == np.float64


def test_gradcheck_with_a_fixed_mask():
    x = ad.tensor(np.random.default_rng(0).standard_normal((3, 5)), requires_grad=True)
    # gradcheck evaluates the function many times: a fresh rng of the same seed gives the same mask each time
    assert ad.gradcheck(lambda x: F.dropout(x, 0.5, rng=np.random.default_rng(9)) ** 2, [x])


def test_no_parameters_and_repr():
    layer = Dropout(0.2)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    assert "p=0.2" in repr(layer)
