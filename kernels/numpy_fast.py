"""`numpy_fast`: the CPU defaults where the plainest NumPy costs more in overhead than in arithmetic.

On the small arrays of RL (a 64×64 layer) a NumPy call takes about a microsecond, and so do a temporary array
and a Python function call. `numpy_ref` pays for both; this file saves them where autodiff calls most often:

- `matmul` (the op of `x @ W`, for arrays of any rank) is NumPy's own function: `numpy_ref`'s is written
  against the input's array module (so that it runs on CuPy too), two Python calls more on every product;
- the dense-layer ops take their products with the arrays' own `.dot`: for matrices the same BLAS routine as
  `np.matmul` (the same numbers, bit for bit, with NumPy 2.4 and OpenBLAS), without the generalized ufunc's
  dispatch (about a microsecond less on a 64×64 product, a third of the time on a 64×4 one). They add the bias
  and apply tanh/ReLU in place in the product's array (for one row of input, the product is the matrix-vector
  product W h), multiply δ W by the derivative in place, and sum a bias gradient as the product 1ᵀδ (half the
  time of a column sum on BLAS); ReLU is the maximum against a cached array of zeros, which NumPy runs as one
  vectorized loop (against the number 0, about three times slower);
- the squared error is one dot product;
- Adam is written with in-place ufuncs and one scratch buffer: `numpy_ref` writes it as the book does, one
  expression per line, each allocating a temporary the size of the whole parameter vector. Here every
  operation writes into `m`, `v`, `param` or the scratch array, the bias corrections are folded into two
  scalars (one pass less) and every scalar is a Python float, so the arithmetic stays in the arrays' dtype (a
  NumPy float64 scalar would promote a float32 array to float64); about twice as fast.

The results equal `numpy_ref`'s to rounding (tests/kernels check it).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from kernels import numpy_ref
from kernels.registry import register

FAST = "numpy_fast"

register("matmul", FAST)(np.matmul)


@register("adam", FAST)
def adam(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    scratch = np.empty_like(param)
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay  # AdamW
        else:
            grad = grad + weight_decay * param
    m *= beta1
    np.multiply(grad, 1 - beta1, out=scratch)
    m += scratch  # m ← β1 m + (1 − β1) g
    v *= beta2
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - beta2
    v += scratch  # v ← β2 v + (1 − β2) g²
    bias1, root_bias2 = 1 - beta1**step, math.sqrt(1 - beta2**step)
    # α m̂ / (√v̂ + ε) = α (m / (1 − β1^t)) / (√v / √(1 − β2^t) + ε)
    #                = (α √(1 − β2^t) / (1 − β1^t)) · m / (√v + ε √(1 − β2^t))
    np.sqrt(v, out=scratch)
    scratch += eps * root_bias2
    np.divide(m, scratch, out=scratch)
    scratch *= lr * root_bias2 / bias1
    param -= scratch
    return param


# -- dense layers --------------------------------------------------------------------------------------------------
def _tanh_in_place(z):
    return np.tanh(z, out=z)


# activation -> f applied in place to a fresh array (ReLU is written out in `dense_forward`); sigmoid has no
# in-place form here (numpy_ref's stable one)
_IN_PLACE = {"tanh": _tanh_in_place, "sigmoid": numpy_ref.sigmoid}


def _times_tanh_derivative(g, y):
    one_minus_square = np.multiply(y, y)
    g *= np.subtract(1, one_minus_square, out=one_minus_square)  # g ⊙ (1 − y²): tanh' from its output (eq. 1.9)
    return g


def _times_relu_derivative(g, y):
    return np.multiply(g, y > 0, out=g)  # g ⊙ [y > 0]


_TIMES_DERIVATIVE = {"tanh": _times_tanh_derivative, "relu": _times_relu_derivative,
                     "sigmoid": numpy_ref.sigmoid_backward}


@register("dense_forward", FAST)
def dense_forward(h, weight, bias=None, activation=None):
    # a fresh array: the bias and the activation go into it in place. One row (acting on one observation) is
    # W h, BLAS's matrix-vector product, which costs less than the product with a matrix of one row; the bias
    # and the activation then work on the vector, as adding a vector to a row of shape (1, out) broadcasts, at
    # twice the cost, and the row is made at the end
    one_row = h.ndim == 2 and h.shape[0] == 1
    z = weight.dot(h[0]) if one_row else h.dot(weight.T)
    if bias is not None:
        z += bias
    if activation == "relu":  # the hidden layers of most value networks: written out, a call less per layer
        # against an array of zeros of z's own shape, not the number 0: NumPy (2.x, AVX2) runs the maximum of two
        # arrays of one shape as one vectorized loop, and of an array and a number 3× slower. NaN stays NaN
        np.maximum(z, _zeros(z.shape, z.dtype), out=z)
    elif activation is not None:
        try:
            z = _IN_PLACE[activation](z)
        except KeyError:
            numpy_ref.activation_pair(activation)  # raises the error naming the activations
            raise
    return z[None] if one_row else z


@register("dense_delta", FAST)
def dense_delta(delta, weight, y=None, activation=None):
    g = delta.dot(weight)
    if activation is None:
        return g
    try:
        return _TIMES_DERIVATIVE[activation](g, y)
    except KeyError:
        numpy_ref.activation_pair(activation)
        raise


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


@functools.lru_cache(maxsize=64)
def _zeros(shape: tuple, dtype) -> np.ndarray:
    zeros = np.zeros(shape, dtype)
    zeros.flags.writeable = False
    return zeros


def sum_rows(g):
    """Σ_n g_n, the column sums of a 2-D array, as the product 1ᵀ g: on the small arrays of RL, BLAS's
    matrix-vector product takes half the time of NumPy's sum along axis 0."""
    return _ones(g.shape[0], g.dtype).dot(g)


@register("dense_param_grads", FAST)
def dense_param_grads(delta, h, weight=True, bias=True):
    return (delta.T.dot(h) if weight else None), (sum_rows(delta) if bias else None)


# -- the squared error -----------------------------------------------------------------------------------------------
@register("squared_error", FAST)
def squared_error(x, y, scale):
    d = np.subtract(x, y)
    return np.asarray(np.vdot(d, d) * scale, dtype=d.dtype)  # Σ d² as one dot product


@register("squared_error_backward", FAST)
def squared_error_backward(g, x, y, scale):
    d = np.subtract(x, y)
    if type(d) is not np.ndarray:  # 0-d inputs give a NumPy scalar: a gradient is an array
        d = np.asarray(d)
    d *= float(g) * 2 * scale  # 2 · scale · g · (x − y), in the arrays' dtype
    return d
