"""Convolution as one matrix product (book ch. 1.8: local connectivity and weight sharing).

A convolutional layer slides F×F kernels over the input with stride S after padding P zeros around it; each
output position is the dot product of one kernel with one input patch, so a W-wide input gives

    (W − F + 2P) / S + 1                                                   (book eq. 1.24)

outputs per row (4×4 image, F = 3, S = 1, P = 0 → 2×2, fig. 1.18). Computing those dot products one patch at a
time is slow; `im2col` copies every patch into a column of a matrix, and the whole convolution becomes

    out[n] = W_flat @ cols[n] + b,   W_flat: (C_out, C_in·F·F),   cols[n]: (C_in·F·F, OH·OW).

`Im2Col` and `Col2Im` are adjoint linear maps (one copies patches out, the other adds them back), so each is
the other's backward rule and gradients of gradients come for free. Pooling (pooling.py) reuses `im2col`.
"""

from __future__ import annotations

import math

import numpy as np

import kernels
from autodiff import Function, Tensor, as_tensor
from minirl.nn.module import Module, Parameter


def input_like(x, weight, op: str) -> Tensor:
    """`x` as a Tensor for an op with parameter `weight`: NumPy floats (observations are often float64) are
    cast to the weight's dtype; a Tensor of another float dtype is an error, as in PyTorch, since mixing would
    give the parameter a gradient of the wrong dtype."""
    if not isinstance(x, Tensor):
        array = np.asarray(x)
        return as_tensor(array.astype(weight.dtype, copy=False) if array.dtype.kind == "f" else array)
    if x.dtype != weight.dtype:
        raise TypeError(f"{op}: input dtype {x.dtype} differs from the parameters' dtype {weight.dtype}; cast one "
                        f"of them (x.astype(...) or module.double()/float())")
    return x


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output length along one axis: ⌊(W − F + 2P) / S⌋ + 1 (book eq. 1.24)."""
    return (size - kernel + 2 * padding) // stride + 1


class Im2Col(Function):
    """(N, C, H, W) → patches (N, C·kh·kw, OH·OW); its backward scatters the patches back (col2im)."""

    def forward(self, x, kh, kw, stride, padding):
        self.shape, self.window = x.shape, (kh, kw, stride, padding)
        return kernels.im2col(x, kh, kw, stride, padding)

    def backward(self, g):
        if self.graph:  # recording the backward pass: use the differentiable op
            kh, kw, stride, padding = self.window
            return Col2Im.apply(g, shape=self.shape, kh=kh, kw=kw, stride=stride, padding=padding)
        return kernels.col2im(g, self.shape, *self.window)


class Col2Im(Function):
    """Patches (N, C·kh·kw, OH·OW) → image `shape`, overlapping patches summed; the adjoint of Im2Col."""

    def forward(self, cols, shape, kh, kw, stride, padding):
        self.window = (kh, kw, stride, padding)
        return kernels.col2im(cols, shape, kh, kw, stride, padding)

    def backward(self, g):
        if self.graph:
            kh, kw, stride, padding = self.window
            return Im2Col.apply(g, kh=kh, kw=kw, stride=stride, padding=padding)
        return kernels.im2col(g, *self.window)


def im2col(x, kh: int, kw: int, stride: int = 1, padding: int = 0) -> Tensor:
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"im2col: expected an (N, C, H, W) input, got shape {x.shape}")
    h, w = x.shape[2:]
    if conv_output_size(h, kh, stride, padding) < 1 or conv_output_size(w, kw, stride, padding) < 1:
        raise ValueError(f"im2col: a {kh}×{kw} window does not fit the {h}×{w} input padded by {padding}")
    return Im2Col.apply(x, kh=kh, kw=kw, stride=stride, padding=padding)


def _pair(value, name):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _square(value, name):
    """Stride and padding apply equally to both axes here (the im2col kernel takes one number)."""
    a, b = _pair(value, name)
    if a != b:
        raise ValueError(f"{name}={value!r}: only equal values along height and width are supported")
    return a


def _resolve_padding(padding, kh, kw, stride):
    if padding == "valid":
        return 0
    if padding == "same":  # the output keeps the input's size (TensorFlow's SAME, book §1.10.5)
        if stride != 1 or kh != kw or kh % 2 == 0:
            raise ValueError("padding='same' needs stride 1 and an odd square kernel here")
        return (kh - 1) // 2
    return _square(padding, "padding")


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """2-D convolution (cross-correlation, as in every DL library) of x (N, C_in, H, W) with weight
    (C_out, C_in, kh, kw), plus bias (C_out,); output (N, C_out, OH, OW) with OH, OW from eq. 1.24."""
    weight = as_tensor(weight)
    x = input_like(x, weight, "conv2d")
    if x.ndim != 4 or weight.ndim != 4 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input {x.shape} and weight {weight.shape} do not fit; expected (N, C_in, H, W) "
                         f"and (C_out, C_in, kh, kw) with the same C_in")
    c_out, _, kh, kw = weight.shape
    stride = _square(stride, "stride")
    padding = _resolve_padding(padding, kh, kw, stride)
    n, _, h, w = x.shape
    oh, ow = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    cols = im2col(x, kh, kw, stride, padding)                  # (N, C_in·kh·kw, OH·OW)
    out = weight.reshape(c_out, -1) @ cols                     # (N, C_out, OH·OW): every patch · every kernel
    if bias is not None:
        out = out + as_tensor(bias).reshape(1, c_out, 1)
    return out.reshape(n, c_out, oh, ow)


class Conv2d(Module):
    """A 2-D convolutional layer (book ch. 1.8, fig. 1.17): `out_channels` kernels of size
    in_channels × kh × kw, each giving one output channel.

    Parameters are PyTorch's: weight (out_channels, in_channels, kh, kw) and bias (out_channels,), both
    initialised U(−1/√fan_in, 1/√fan_in) with fan_in = in_channels·kh·kw (PyTorch's default). `padding`
    is an int or 'valid'/'same'; stride and padding are equal along both axes.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, *, bias: bool = True,
                 dtype=np.float32, rng: np.random.Generator | None = None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _square(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _square(padding, "padding")
        _resolve_padding(self.padding, *self.kernel_size, self.stride)  # fail now, not at the first call
        kh, kw = self.kernel_size
        bound = 1.0 / math.sqrt(in_channels * kh * kw)
        self.weight = Parameter(rng.uniform(-bound, bound, (out_channels, in_channels, kh, kw)), dtype=dtype)
        if bias:
            self.bias = Parameter(rng.uniform(-bound, bound, out_channels), dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding!r}, bias={self.bias is not None}")
