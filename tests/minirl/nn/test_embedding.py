"""Embedding (the chatbot of book §1.10.6): a lookup table whose gradient adds into the rows looked up."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
import minirl.nn.functional as F
from layer_reference import cases, check_against_torch
from minirl.nn import Embedding


@given(st.integers(1, 8), st.integers(1, 5), st.lists(st.integers(0, 7), min_size=1, max_size=12))
def test_lookup_is_one_hot_times_table(num, dim, ids):
    ids = np.array([i % num for i in ids]).reshape(-1, 1)
    emb = Embedding(num, dim, dtype=np.float64, rng=np.random.default_rng(0))
    y = emb(ids)
    assert y.shape == (len(ids), 1, dim)
    one_hot = np.eye(num)[ids]                                    # (len, 1, num)
    np.testing.assert_allclose(y.numpy(), one_hot @ emb.weight.numpy())


def test_gradient_accumulates_repeated_rows():
    emb = Embedding(5, 3, rng=np.random.default_rng(0))
    ids = np.array([[0, 2, 2], [4, 2, 0]])
    u = np.random.default_rng(1).standard_normal((2, 3, 3)).astype(np.float32)
    (emb(ids) * u).sum().backward()
    expected = np.zeros((5, 3), np.float32)
    np.add.at(expected, ids, u)
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected, rtol=1e-6)
    assert not emb.weight.grad.numpy()[[1, 3]].any()              # rows never looked up get nothing


def test_gradcheck():
    emb = Embedding(4, 2, dtype=np.float64, rng=np.random.default_rng(0))
    ids = ad.tensor(np.array([[1, 3], [3, 3]]))
    assert ad.gradcheck(lambda w: F.embedding(ids, w) ** 2, [emb.weight])


def test_init_state_and_errors():
    emb = Embedding(1000, 8, rng=np.random.default_rng(0))
    assert list(emb.state_dict()) == ["weight"] and emb.weight.shape == (1000, 8)
    assert abs(emb.weight.numpy().std() - 1) < 0.05                # N(0, 1) as in PyTorch
    with pytest.raises(IndexError, match=r"\[0, 1000\)"):
        emb(np.array([1000]))
    with pytest.raises(TypeError, match="integers"):
        emb(np.array([1.0]))


@pytest.mark.parametrize("case", cases("Embedding"))
def test_matches_pytorch(case):
    check_against_torch(case)
