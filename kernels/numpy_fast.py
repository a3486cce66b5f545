"""`numpy_fast`: Adam's update of `numpy_ref`, rewritten with in-place ufuncs and one scratch buffer.

`numpy_ref` writes Adam as the book does, one expression per line; each expression allocates a temporary the
size of the whole parameter vector, and for the small networks of RL those allocations cost as much as the
arithmetic. Here every operation writes into `m`, `v`, `param` or a single scratch array, the bias corrections
are folded into two scalars (one pass less) and every scalar is a Python float, so the arithmetic stays in the
arrays' dtype (a NumPy float64 scalar would promote a float32 array to float64). The same update runs about
twice as fast; the results equal `numpy_ref`'s to rounding (tests/kernels check it).
"""

from __future__ import annotations

import math

import numpy as np

from kernels.registry import register

FAST = "numpy_fast"


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
