"""MaxPool2d and AvgPool2d (book ch. 1.8, fig. 1.19): the book's example, window sizes, ties, padding,
gradients, and PyTorch compatibility."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
import minirl.nn.functional as F
from layer_reference import cases, check_against_torch
from minirl.nn import AvgPool2d, MaxPool2d

# book fig. 1.19: a 4×4 input, 2×2 windows, stride 2
BOOK_INPUT = np.array([[1, 3, 1, 2],
                       [4, 5, 4, 2],
                       [1, 5, 6, 3],
                       [4, 2, 0, 5]], dtype=np.float32).reshape(1, 1, 4, 4)


def loop_pool(x, k, stride, padding, reduce, pad_value):
    """Pooling one window at a time (the definition)."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value)
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = reduce(x[:, :, i * stride:i * stride + k, j * stride:j * stride + k], axis=(2, 3))
    return out


def test_book_example():
    np.testing.assert_array_equal(MaxPool2d(2, 2)(BOOK_INPUT).numpy()[0, 0], [[5, 4], [5, 6]])
    np.testing.assert_array_equal(AvgPool2d(2, 2)(BOOK_INPUT).numpy()[0, 0], [[3.25, 2.25], [3, 3.5]])


def test_stride_defaults_to_window():
    assert MaxPool2d(2).stride == 2
    np.testing.assert_array_equal(MaxPool2d(2)(BOOK_INPUT).numpy(), MaxPool2d(2, 2)(BOOK_INPUT).numpy())
    assert AvgPool2d(3)(np.zeros((2, 3, 7, 8), np.float32)).shape == (2, 3, 2, 2)


def test_max_gradient_goes_to_the_maximum():
    x = ad.tensor(BOOK_INPUT, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    for r, c in [(1, 1), (1, 2), (2, 1), (2, 2)]:   # the 5, 4, 5 and 6 picked by each window
        expected[r, c] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)


def test_average_gradient_is_uniform():
    x = ad.tensor(BOOK_INPUT, requires_grad=True)
    F.avg_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 4, 4), 0.25))


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    # window [[4, 5], [5, 5]] and a window of equal values: as PyTorch, the first maximum (row-major) gets it all
    x = ad.tensor(np.array([[4, 5, 2, 2], [5, 5, 2, 2]], np.float32).reshape(1, 1, 2, 4), requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.numpy().ravel(), [5, 2])
    (y * ad.tensor(np.array([3.0, 7.0], np.float32).reshape(1, 1, 1, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 3, 7, 0], [0, 0, 0, 0]])


def test_overlapping_windows_accumulate():
    # stride 1: the central maximum belongs to all four 2×2 windows of a 3×3 map
    x = ad.tensor(np.array([[0, 0, 0], [0, 9, 0], [0, 0, 0]], np.float32).reshape(1, 1, 3, 3), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad.numpy()[0, 0, 1, 1] == 4 and x.grad.numpy().sum() == 4


def test_max_padding_is_never_the_maximum():
    x = -np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3)     # all negative: zero padding would win
    y = MaxPool2d(2, stride=2, padding=1)(x).numpy()[0, 0]
    np.testing.assert_array_equal(y, [[-1, -2], [-4, -5]])


def test_avg_padding_counts_zeros():
    # PyTorch's default count_include_pad=True: the corner window holds one real element out of four
    y = AvgPool2d(2, stride=2, padding=1)(np.ones((1, 1, 2, 2), np.float32)).numpy()
    np.testing.assert_array_equal(y[0, 0], [[0.25, 0.25], [0.25, 0.25]])


pool_configs = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3),
                         st.integers(0, 2), st.integers(0, 4), st.integers(0, 4), st.integers(0, 2**31 - 1))


@given(pool_configs)
def test_pooling_matches_the_definition(config):
    n, c, k, stride, padding, dh, dw, seed = config
    padding = min(padding, k // 2)
    x = np.random.default_rng(seed).standard_normal((n, c, k + dh, k + dw))
    y_max = F.max_pool2d(x, k, stride, padding).numpy()
    y_avg = F.avg_pool2d(x, k, stride, padding).numpy()
    # output size (W − F + 2P)/S + 1 (book eq. 1.24)
    assert y_max.shape == y_avg.shape == (n, c, (k + dh - k + 2 * padding) // stride + 1,
                                          (k + dw - k + 2 * padding) // stride + 1)
    np.testing.assert_array_equal(y_max, loop_pool(x, k, stride, padding, np.max, -np.inf))
    np.testing.assert_allclose(y_avg, loop_pool(x, k, stride, padding, np.mean, 0.0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("pool", [MaxPool2d(3, 2, 1), AvgPool2d(3, 2, 1), MaxPool2d(2), AvgPool2d((2, 3), 1)])
def test_gradcheck(pool):
    x = ad.tensor(np.random.default_rng(0).standard_normal((2, 2, 5, 5)), requires_grad=True)
    assert ad.gradcheck(pool, [x])


def test_gradgradcheck_max_pool():
    x = ad.tensor(np.random.default_rng(1).standard_normal((1, 2, 4, 4)), requires_grad=True)
    assert ad.gradgradcheck(lambda x: F.max_pool2d(x, 2, 1, 1) ** 2, [x])


def test_errors():
    with pytest.raises(ValueError, match="padding"):
        MaxPool2d(2, padding=2)(np.zeros((1, 1, 4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        MaxPool2d(2)(np.zeros((4, 4), np.float32))


def test_no_parameters():
    assert list(MaxPool2d(2).parameters()) == [] and MaxPool2d(2).state_dict() == {}


@pytest.mark.parametrize("case", cases("MaxPool") + cases("AvgPool"))
def test_matches_pytorch(case):
    check_against_torch(case)
