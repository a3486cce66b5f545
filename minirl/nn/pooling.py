"""Max and average pooling (book ch. 1.8, fig. 1.19): summarise each window of a feature map by one number.

A pooling layer has no weights: it slides a kh×kw window with stride S (default: the window size, so windows
do not overlap) over every channel separately and keeps the window's largest value or its mean. Its output
size follows the same formula as convolution, (W − F + 2P)/S + 1 (book eq. 1.24). The book's example: the
4×4 map [[1,3,1,2],[4,5,4,2],[1,5,6,3],[4,2,0,5]] with 2×2 windows and stride 2 max-pools to [[5,4],[5,6]]
and average-pools to [[3.25,2.25],[3,3.5]].

Both are built on the differentiable `im2col` of conv.py: each channel becomes a 1-channel image whose
windows are the columns of one matrix, and pooling is a reduction over each column.
"""

from __future__ import annotations

import numpy as np

import kernels
from autodiff import Tensor, as_tensor, take_along_axis, where
from autodiff.ops.shape import move_array
from minirl.nn.conv import _pair, _square, conv_output_size, im2col
from minirl.nn.module import Module


def _windows(x, kernel_size, stride, padding):
    """The pooling windows of x (N, C, H, W) as columns: (N·C, kh·kw, OH·OW), plus the output shape."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"pooling: expected an (N, C, H, W) input, got shape {x.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    stride = _square(kernel_size if stride is None else stride, "stride")
    padding = _square(padding, "padding")
    if 2 * padding > min(kh, kw):  # as PyTorch: every window must hold at least one real element
        raise ValueError(f"pooling: padding {padding} is more than half the {kh}×{kw} window")
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    # each channel is pooled on its own: treat it as a separate 1-channel image
    cols = im2col(x.reshape(n * c, 1, h, w), kh, kw, stride, padding)
    return cols, (n, c, oh, ow), (kh, kw, stride, padding)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The largest value of each window. Padding counts as −∞ (it is never the maximum). The gradient goes
    to the first largest element of each window, as in PyTorch (where several tie, any choice is a valid
    subgradient; `autodiff.max` would split it evenly instead)."""
    cols, out_shape, (kh, kw, stride, padding) = _windows(x, kernel_size, stride, padding)
    if padding:
        h, w = as_tensor(x).shape[2:]
        real = kernels.im2col(np.ones((1, 1, h, w), dtype=bool), kh, kw, stride, padding)
        cols = where(move_array(real, cols.device), cols, -np.inf)
    first_max = cols.data.argmax(axis=1)[:, None, :]           # (N·C, 1, OH·OW), a constant of the graph
    # gathering keeps the op linear in x for fixed indices: its backward (a scatter) is differentiable too
    return take_along_axis(cols, first_max, axis=1).reshape(out_shape)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The mean of each window; padded zeros count in the mean (PyTorch's default count_include_pad=True)."""
    cols, out_shape, _ = _windows(x, kernel_size, stride, padding)
    return cols.mean(axis=1).reshape(out_shape)


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling over kh×kw windows (book fig. 1.19, left); stride defaults to the window size."""

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Average pooling over kh×kw windows (book fig. 1.19, right); stride defaults to the window size."""

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
