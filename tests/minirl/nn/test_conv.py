"""Conv2d (book ch. 1.8): output size (eq. 1.24), agreement with a direct loop, gradients (and gradients of
gradients), and PyTorch compatibility."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
import kernels
import minirl.nn.functional as F
from layer_reference import cases, check_against_torch
from minirl.nn import Conv2d
from minirl.nn.conv import Col2Im, Im2Col, conv_output_size


def direct_conv(x, w, b, stride, padding):
    """out[n, o, i, j] = Σ_{c,u,v} x_pad[n, c, i·S + u, j·S + v] · w[o, c, u, v] + b[o], one element at a time."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, c_out, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


conv_configs = st.tuples(
    st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),        # N, C_in, C_out
    st.integers(1, 4), st.integers(1, 4),                            # kh, kw
    st.integers(1, 3), st.integers(0, 2),                            # stride, padding
    st.integers(0, 4), st.integers(0, 4),                            # extra height / width beyond the kernel
)


def test_book_example_output_size():
    # book fig. 1.18: a 4×4 RGB image and one 3×3×3 kernel, S = 1, P = 0 → a 2×2×1 output
    conv = Conv2d(3, 1, 3, rng=np.random.default_rng(0))
    assert conv(np.zeros((1, 3, 4, 4), np.float32)).shape == (1, 1, 2, 2)
    assert conv_output_size(4, 3, 1, 0) == 2


def test_dqn_torso_sizes():
    # book §4.8 Q-network: 84 →(8, s4)→ 20 →(4, s2)→ 9 →(3, s1)→ 7, flattened 7·7·64 = 3136
    rng = np.random.default_rng(0)
    x = np.zeros((1, 4, 84, 84), np.float32)
    for layer in (Conv2d(4, 32, 8, stride=4, rng=rng), Conv2d(32, 64, 4, stride=2, rng=rng),
                  Conv2d(64, 64, 3, stride=1, rng=rng)):
        x = layer(x)
    assert x.shape == (1, 64, 7, 7) and x.numpy().size == 3136


@given(conv_configs, st.integers(0, 2**31 - 1))
def test_output_size_formula_and_direct_loop(config, seed):
    n, c_in, c_out, kh, kw, stride, padding, dh, dw = config
    h, w = max(kh - 2 * padding, 1) + dh, max(kw - 2 * padding, 1) + dw
    rng = np.random.default_rng(seed)
    conv = Conv2d(c_in, c_out, (kh, kw), stride=stride, padding=padding, dtype=np.float64, rng=rng)
    x = rng.standard_normal((n, c_in, h, w))
    y = conv(x)
    # eq. 1.24: (W − F + 2P)/S + 1, rounded down when the window does not land on the last pixel
    assert y.shape == (n, c_out, (h - kh + 2 * padding) // stride + 1, (w - kw + 2 * padding) // stride + 1)
    expected = direct_conv(x, conv.weight.numpy(), conv.bias.numpy(), stride, padding)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-10, atol=1e-12)


@given(conv_configs, st.integers(0, 2**31 - 1))
def test_im2col_and_col2im_are_adjoint(config, seed):
    # ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ is what makes each the other's backward rule
    n, c_in, _, kh, kw, stride, padding, dh, dw = config
    h, w = max(kh - 2 * padding, 1) + dh, max(kw - 2 * padding, 1) + dw
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    cols = kernels.im2col(x, kh, kw, stride, padding)
    c = rng.standard_normal(cols.shape)
    back = kernels.col2im(c, x.shape, kh, kw, stride, padding)
    assert np.isclose(np.sum(cols * c), np.sum(x * back))


def test_gradcheck_conv():
    rng = np.random.default_rng(1)
    conv = Conv2d(2, 3, (3, 2), stride=2, padding=1, dtype=np.float64, rng=rng)
    x = ad.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    assert ad.gradcheck(lambda x, w, b: conv(x), [x, conv.weight, conv.bias])


def test_gradgradcheck_conv():
    rng = np.random.default_rng(2)
    conv = Conv2d(2, 2, 2, stride=1, padding=1, dtype=np.float64, rng=rng)
    x = ad.tensor(rng.standard_normal((1, 2, 3, 3)), requires_grad=True)
    assert ad.gradgradcheck(lambda x, w, b: conv(x), [x, conv.weight, conv.bias])


def test_im2col_ops_double_backward():
    # the Functions themselves: second derivatives of a cubic through im2col and col2im
    rng = np.random.default_rng(3)
    x = ad.tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert ad.gradgradcheck(lambda x: Im2Col.apply(x, kh=2, kw=3, stride=1, padding=1) ** 3, [x])
    c = ad.tensor(rng.standard_normal((1, 2 * 2 * 2, 4)), requires_grad=True)
    assert ad.gradgradcheck(lambda c: Col2Im.apply(c, shape=(1, 2, 3, 3), kh=2, kw=2, stride=1, padding=0) ** 3,
                            [c])


def test_recorded_backward_equals_plain_backward():
    # gradgradcheck only checks the recorded backward against itself: compare it with the array backward too
    rng = np.random.default_rng(4)
    x = ad.tensor(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    c = ad.tensor(rng.standard_normal((2, 2 * 3 * 2, 6)), requires_grad=True)
    for fn, inp in [(lambda x: Im2Col.apply(x, kh=3, kw=2, stride=2, padding=1), x),
                    (lambda c: Col2Im.apply(c, shape=(2, 2, 4, 5), kh=3, kw=2, stride=2, padding=1), c)]:
        out = fn(inp)
        u = rng.standard_normal(out.shape)
        (plain,) = ad.grad(fn(inp), inp, grad_outputs=u)
        (recorded,) = ad.grad(out, inp, grad_outputs=ad.tensor(u), create_graph=True)
        np.testing.assert_allclose(recorded.numpy(), plain.numpy(), rtol=1e-12)


def test_padding_same_and_valid():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 6, 5)).astype(np.float32)
    same = Conv2d(2, 3, 5, padding="same", rng=rng)
    assert same(x).shape == (1, 3, 6, 5)
    valid = Conv2d(2, 3, 3, padding="valid", rng=rng)
    assert valid(x).shape == (1, 3, 4, 3)
    with pytest.raises(ValueError, match="same"):
        Conv2d(2, 3, 4, padding="same")


def test_no_bias_and_functional_form():
    rng = np.random.default_rng(5)
    conv = Conv2d(2, 3, 2, bias=False, rng=rng)
    assert conv.bias is None and [name for name, _ in conv.named_parameters()] == ["weight"]
    x = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    np.testing.assert_array_equal(conv(x).numpy(), F.conv2d(x, conv.weight).numpy())


def test_parameters_shapes_init_and_dtype():
    conv = Conv2d(3, 8, (5, 3), dtype=np.float64, rng=np.random.default_rng(0))
    assert conv.weight.shape == (8, 3, 5, 3) and conv.bias.shape == (8,)
    bound = 1 / np.sqrt(3 * 5 * 3)   # PyTorch's default U(−1/√fan_in, 1/√fan_in)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.weight.numpy()).max() > 0.8 * bound
    assert conv.weight.dtype == np.float64
    # NumPy input is cast to the parameters' dtype; a Tensor of another dtype is refused with a clear error
    assert conv(np.zeros((1, 3, 5, 5), np.float32)).dtype == np.float64
    with pytest.raises(TypeError, match="dtype"):
        conv(ad.zeros(1, 3, 5, 5))


def test_shape_errors_name_the_shapes():
    conv = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(1, 2, 5, 5\)"):
        conv(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        conv(np.zeros((1, 3, 2, 2), np.float32))


def test_reproducible_init():
    a, b = Conv2d(2, 2, 3, rng=np.random.default_rng(7)), Conv2d(2, 2, 3, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


@pytest.mark.parametrize("case", cases("Conv"))
def test_matches_pytorch(case):
    check_against_torch(case)
