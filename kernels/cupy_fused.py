"""`cupy_fused`: each kernel as one or a few CuPy `ElementwiseKernel` / `ReductionKernel` launches.

A chain of ufuncs (`cupy_naive`) launches one kernel per operation and sends every intermediate through device
memory. Fusing writes the whole expression as one short C body that CuPy compiles into a single kernel: each
element is read once, computed in registers, written once. For bandwidth-bound work (all of these) the time
falls roughly with the number of passes over memory:

    Adam, naive: ~15 passes over parameter-sized arrays      fused: read g, θ, m, v once, write θ, m, v once
    softmax, naive: max, −, exp, sum, / (5 passes + temps)   fused: max, Σexp(x − max), one output pass
    dense layer, naive: product, + b, tanh (3 launches)      fused: cuBLAS product, then b and tanh in one pass

Scalars (learning rate, β's) are kernel arguments, so a changed hyperparameter reuses the compiled kernel.
Adam's `step` may be a 0-d device array (a GPU-resident step counter): the bias corrections are then computed
on the device, which keeps a captured CUDA graph correct on every replay.
"""

from __future__ import annotations

import cupy

from kernels.numpy_ref import activation_code
from kernels.registry import register

FUSED = "cupy_fused"

# -- activations (book §1.4), for a dense layer without a bias ----------------------------------------------------
_tanh = cupy.ElementwiseKernel("T x", "T y", "y = tanh(x)", "minirl_tanh")
_sigmoid = cupy.ElementwiseKernel(
    "T x", "T y",
    # σ(x) = 1 / (1 + e⁻ˣ) for x ≥ 0 and eˣ / (1 + eˣ) for x < 0: the exponent is never positive, no overflow
    "T e = exp(-fabs(x)); y = x >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e)",
    "minirl_sigmoid")
_relu = cupy.ElementwiseKernel("T x", "T y", "y = x < (T)0 ? (T)0 : x", "minirl_relu")  # NaN passes, as np.maximum


# -- optimizers: one pass over the flat parameter buffer -------------------------------------------------------
_adam = cupy.ElementwiseKernel(
    "T g, float64 c1, float64 c2, float64 beta1, float64 beta2, float64 eps, float64 lr, float64 wd, bool decoupled",
    "T p, T m, T v",
    """
    T grad = g;
    if (wd != 0) {
        if (decoupled) p = p * (T)(1 - lr * wd);         // AdamW: θ ← θ − α λ θ
        else grad = grad + (T)wd * p;                    // L2: g ← g + λ θ
    }
    m = (T)beta1 * m + (T)(1 - beta1) * grad;            // m ← β1 m + (1 − β1) g
    v = (T)beta2 * v + (T)(1 - beta2) * grad * grad;     // v ← β2 v + (1 − β2) g²
    p = p - (T)c1 * m / (sqrt(v) * (T)c2 + (T)eps);      // θ ← θ − α m̂ / (√v̂ + ε)
    """,
    "minirl_adam")


_bias_corrections = cupy.ElementwiseKernel(
    "float64 t, float64 lr, float64 beta1, float64 beta2", "float64 c1, float64 c2",
    "c1 = lr / (1 - pow(beta1, t)); c2 = 1 / sqrt(1 - pow(beta2, t))",
    "minirl_adam_bias_corrections")


def bias_corrections(step, lr, beta1, beta2):
    """c1 = α / (1 − β1ᵗ) and c2 = 1 / √(1 − β2ᵗ): Python floats for a host step; for a device-resident step,
    0-d device arrays computed by one tiny kernel that a CUDA graph captures along with the update."""
    if isinstance(step, cupy.ndarray):
        return _bias_corrections(step, lr, beta1, beta2)
    return lr / (1 - beta1**step), 1 / (1 - beta2**step) ** 0.5


@register("adam", FUSED)
def adam(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    c1, c2 = bias_corrections(step, lr, beta1, beta2)
    _adam(grad, c1, c2, beta1, beta2, eps, lr, weight_decay, bool(decoupled), param, m, v)
    return param


_sgd = cupy.ElementwiseKernel(
    "T g, float64 lr, float64 momentum, float64 dampening, bool nesterov, float64 wd, bool first",
    "T p, T buf",
    """
    T d = g;
    if (wd != 0) d = d + (T)wd * p;
    if (momentum != 0) {
        buf = first ? d : (T)momentum * buf + (T)(1 - dampening) * d;   // b ← μ b + (1 − τ) g
        d = nesterov ? d + (T)momentum * buf : buf;
    }
    p = p - (T)lr * d;                                                  // θ ← θ − α d
    """,
    "minirl_sgd")


@register("sgd", FUSED)
def sgd(param, grad, buf, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, first=False):
    _sgd(grad, lr, momentum, dampening, bool(nesterov), weight_decay, bool(first), param, buf)
    return param


# -- the softmax family: a max reduction, one Σ exp(x − max) reduction, one output pass ---------------------------
_sum_exp = cupy.ReductionKernel("T x, T shift", "T s", "exp(x - shift)", "a + b", "s = a", "0", "minirl_sum_exp")
_sum_product = cupy.ReductionKernel("T g, T y", "T s", "g * y", "a + b", "s = a", "0", "minirl_sum_product")
_softmax_out = cupy.ElementwiseKernel("T x, T shift, T s", "T y", "y = exp(x - shift) / s", "minirl_softmax_out")
_log_softmax_out = cupy.ElementwiseKernel("T x, T shift, T s", "T y", "y = x - shift - log(s)",
                                          "minirl_log_softmax_out")
_softmax_grad = cupy.ElementwiseKernel("T g, T y, T s", "T dx", "dx = y * (g - s)", "minirl_softmax_grad")
_log_softmax_grad = cupy.ElementwiseKernel("T g, T y, T s", "T dx", "dx = g - exp(y) * s", "minirl_log_softmax_grad")


def _shift_and_sum(x, axis):
    """m = max x (0 where the max is ±inf, as numpy_ref does) and s = Σ exp(x − m), both with kept axes."""
    m = x.max(axis=axis, keepdims=True)
    m = cupy.where(cupy.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return m, _sum_exp(x, m, axis=axis, keepdims=True)


@register("softmax", FUSED)
def softmax(x, axis=-1):
    m, s = _shift_and_sum(x, axis)
    return _softmax_out(x, m, s)


@register("log_softmax", FUSED)
def log_softmax(x, axis=-1):
    m, s = _shift_and_sum(x, axis)
    return _log_softmax_out(x, m, s)


@register("logsumexp", FUSED)
def logsumexp(x, axis=-1, keepdims=False):
    m, s = _shift_and_sum(x, axis)
    out = cupy.log(s) + m
    return out if keepdims else cupy.squeeze(out, axis=axis)


@register("softmax_backward", FUSED)
def softmax_backward(g, y, axis=-1):
    return _softmax_grad(g, y, _sum_product(g, y, axis=axis, keepdims=True))  # y ⊙ (g − Σ g y)


@register("log_softmax_backward", FUSED)
def log_softmax_backward(g, y, axis=-1):
    return _log_softmax_grad(g, y, g.sum(axis=axis, keepdims=True))  # g − softmax · Σ g


_cross_entropy_grad = cupy.ElementwiseKernel(
    "T x, T shift, T s, raw I targets, int64 classes", "T grad",
    # i is the flat index of the (N, C) output: row i / C, column i % C
    "grad = exp(x - shift) / s - (T)((i % classes) == targets[i / classes])",  # softmax − onehot
    "minirl_cross_entropy_grad")
_cross_entropy_loss = cupy.ElementwiseKernel(
    "raw T x, T shift, T s, I target, int64 classes", "T loss",
    "loss = log(s) - (x[i * classes + target] - shift)",  # logsumexp(z) − z_t, the shift first (large logits)
    "minirl_cross_entropy_loss")


@register("softmax_cross_entropy", FUSED)
def softmax_cross_entropy(logits, targets):
    logits = cupy.ascontiguousarray(logits)  # the loss kernel indexes rows directly
    targets = cupy.ascontiguousarray(targets)
    m, s = _shift_and_sum(logits, -1)
    classes = logits.shape[1]
    loss = _cross_entropy_loss(logits, m[:, 0], s[:, 0], targets, classes)
    return loss, _cross_entropy_grad(logits, m, s, targets, classes)


# -- dense layers: cuBLAS for the product, then one fused pass for what follows it ------------------------------------
# `code` is numpy_ref.ACTIVATION_CODES's: 0 identity, 1 tanh, 2 ReLU, 3 sigmoid
_ACTIVATE = """
    if (code == 1) z = tanh(z);
    else if (code == 2) z = z < (T)0 ? (T)0 : z;
    else if (code == 3) { T e = exp(-fabs(z)); z = z >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e); }
"""
# the product's array is updated in place, as an output the kernel reads and writes (as Adam's θ, m, v)
_bias_activation = cupy.ElementwiseKernel("T b, int32 code", "T z", "z = z + b;" + _ACTIVATE, "minirl_bias_activation")
_ACTIVATION_KERNELS = {"tanh": _tanh, "relu": _relu, "sigmoid": _sigmoid}  # for a layer without a bias
_times_derivative = cupy.ElementwiseKernel(
    "T y, int32 code", "T g",
    # f'(z) from the output y = f(z): tanh 1 − y², ReLU [y > 0], sigmoid y (1 − y)
    "g = code == 1 ? g * ((T)1 - y * y) : code == 2 ? (y > (T)0 ? g : (T)0) : g * y * ((T)1 - y)",
    "minirl_times_derivative")


@register("dense_forward", FUSED)
def dense_forward(h, weight, bias=None, activation=None):
    code = activation_code(activation)
    z = cupy.matmul(h, weight.T)
    if bias is not None:
        _bias_activation(bias, code, z)  # in place: z is a fresh array
    elif code:
        z = _ACTIVATION_KERNELS[activation](z)
    return z


@register("dense_delta", FUSED)
def dense_delta(delta, weight, y=None, activation=None):
    code = activation_code(activation)
    g = cupy.matmul(delta, weight)
    if code:
        _times_derivative(y, code, g)  # in place
    return g


@register("dense_param_grads", FUSED)
def dense_param_grads(delta, h, weight=True, bias=True):
    return (cupy.matmul(delta.T, h) if weight else None), (delta.sum(axis=0) if bias else None)


# -- the squared error's gradient: one pass, the 0-d upstream gradient read on the device ---------------------------
_squared_error_grad = cupy.ElementwiseKernel("T x, T y, raw T g, float64 scale", "T dx",
                                             "dx = g[0] * (T)(2 * scale) * (x - y)", "minirl_squared_error_grad")


@register("squared_error_backward", FUSED)
def squared_error_backward(g, x, y, scale):
    return _squared_error_grad(x, y, g.astype(x.dtype, copy=False).reshape(1), float(scale))
