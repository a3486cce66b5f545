"""minirl.nn.functional: the exported names, linear, one_hot, and gradient properties on random shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
import minirl.nn as nn
import minirl.nn.functional as F


def test_all_names_exist_and_mirror_pytorch():
    expected = {"linear", "relu", "leaky_relu", "elu", "relu6", "prelu", "sigmoid", "tanh", "softmax",
                "log_softmax", "softplus", "one_hot", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
                "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
                "quantile_loss", "quantile_huber_loss"}
    assert expected <= set(F.__all__)
    assert all(callable(getattr(F, name)) for name in F.__all__)
    assert all(hasattr(nn, name) for name in nn.__all__)


def test_one_hot():
    out = F.one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy()[0], [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(ad.tensor(np.array([4])), -1).shape == (1, 5)  # num_classes = max + 1
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        F.one_hot(np.array([3]), 3)
    with pytest.raises(TypeError, match="integers"):
        F.one_hot(np.array([0.5]))


def test_linear_without_bias_and_with_tensor_input():
    w = ad.tensor([[1.0, -1.0]], requires_grad=True)
    x = ad.tensor([[2.0, 3.0]], requires_grad=True)
    y = F.linear(x, w)
    assert y.item() == -1.0
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2.0, 3.0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, -1.0]])


def test_kink_gradients_follow_pytorch_conventions():
    x = ad.tensor([0.0, 6.0], requires_grad=True)
    F.relu6(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])  # hardtanh: 0 at both kinks
    x = ad.tensor([0.0], requires_grad=True)
    F.elu(x, alpha=2.0).sum().backward()
    assert x.grad.item() == 2.0  # the x ≤ 0 branch: α·eˣ
    x = ad.tensor([0.0], requires_grad=True)
    F.leaky_relu(x, 0.1).sum().backward()
    assert x.grad.item() == pytest.approx(0.1)


arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
                    elements=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-2))


@settings(max_examples=15)
@given(arrays, st.sampled_from(["sigmoid", "tanh", "elu", "softplus", "leaky_relu", "log_softmax", "softmax"]))
def test_activation_gradcheck_on_random_shapes(values, name):
    fn = getattr(F, name)
    assert ad.gradcheck(fn, ad.tensor(values, requires_grad=True))


@settings(max_examples=15)
@given(arrays, st.sampled_from(["mean", "sum", "none"]), st.integers(0, 2**31))
def test_cross_entropy_gradcheck_on_random_shapes(values, reduction, seed):
    # classes on axis 1, with any number of extra axes (as PyTorch's (N, C, d1, ...))
    labels = np.random.default_rng(seed).integers(0, values.shape[1], (values.shape[0],) + values.shape[2:])
    x = ad.tensor(values, requires_grad=True)
    assert ad.gradcheck(lambda t: F.cross_entropy(t, labels, reduction=reduction), x)
    assert F.cross_entropy(x, labels, reduction="none").shape == labels.shape
