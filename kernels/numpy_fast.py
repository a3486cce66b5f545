"""`numpy_fast`: the CPU defaults where the plainest NumPy costs more in overhead than in arithmetic.

On the small arrays of RL (a 64×64 layer) a NumPy call takes about a microsecond, and so do a temporary array
and a Python function call. `numpy_ref` pays for both; this file saves them where autodiff calls most often:

- `matmul` and `tanh` are NumPy's own functions: `numpy_ref`'s are written against the input's array module
  (so that they run on CuPy too), two Python calls more on every product of the forward and backward pass;
- `tanh_backward` computes g (1 − y²) in one array instead of three temporaries;
- Adam is written with in-place ufuncs and one scratch buffer: `numpy_ref` writes it as the book does, one
  expression per line, each allocating a temporary the size of the whole parameter vector. Here every
  operation writes into `m`, `v`, `param` or the scratch array, the bias corrections are folded into two
  scalars (one pass less) and every scalar is a Python float, so the arithmetic stays in the arrays' dtype (a
  NumPy float64 scalar would promote a float32 array to float64); about twice as fast.

The results equal `numpy_ref`'s to rounding (tests/kernels check it).
"""

from __future__ import annotations

import math

import numpy as np

from kernels.registry import register

FAST = "numpy_fast"

register("matmul", FAST)(np.matmul)
register("tanh", FAST)(np.tanh)


@register("tanh_backward", FAST)
def tanh_backward(g, y):
    out = np.multiply(y, y, out=np.empty_like(y))  # an array also for 0-d y (NumPy would return a scalar)
    np.subtract(1, out, out=out)
    out *= g  # g (1 − y²)   (book eq. 1.9)
    return out


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
