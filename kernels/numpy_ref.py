"""`numpy_ref`: the reference implementation of every kernel, in the plainest correct NumPy.

These are the oracles the GPU implementations are tested against, and what autodiff runs on the CPU.
Each function works on arrays only (never on Tensors) and says its formula beside the line computing it.

Each function asks its input for its array module (`xp = array_module(x)`: NumPy for NumPy arrays, CuPy for
CuPy arrays) and calls only functions both modules have. So the very same code, run on CuPy arrays, is the
`cupy_naive` implementation (kernels/cupy_naive.py): one GPU kernel launch per ufunc, the baseline that the
fused and raw CUDA kernels are measured against.
"""

from __future__ import annotations


from kernels.registry import array_module, register

REF = "numpy_ref"


@register("matmul", REF)
def matmul(a, b):
    return array_module(a).matmul(a, b)


@register("logsumexp", REF)
def logsumexp(x, axis=-1, keepdims=False):
    # log Σ exp(x) = m + log Σ exp(x − m), with m = max x, so that exp never overflows
    xp = array_module(x)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


@register("softmax", REF)
def softmax(x, axis=-1):
    # softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m)   (book eq. 1.12, shifted for stability)
    xp = array_module(x)
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


@register("softmax_backward", REF)
def softmax_backward(g, y, axis=-1):
    # ∂L/∂x = y ⊙ (g − Σ_j g_j y_j)
    return y * (g - array_module(y).sum(g * y, axis=axis, keepdims=True))


@register("log_softmax", REF)
def log_softmax(x, axis=-1):
    # log softmax(x) = x − m − log Σ exp(x − m)
    xp = array_module(x)
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


@register("log_softmax_backward", REF)
def log_softmax_backward(g, y, axis=-1):
    # y = log softmax(x):  ∂L/∂x = g − softmax(x) Σ_j g_j = g − exp(y) Σ_j g_j
    xp = array_module(y)
    return g - xp.exp(y) * xp.sum(g, axis=axis, keepdims=True)


@register("softmax_cross_entropy", REF)
def softmax_cross_entropy(logits, targets):
    """Cross-entropy of each row of `logits` (N, C) with integer `targets` (N,), and its gradient.

    loss_n = logsumexp(z_n) − z_n[t_n];  ∂loss_n/∂z_n = softmax(z_n) − onehot(t_n)   (book eq. 1.16)
    """
    xp = array_module(logits)
    log_p = log_softmax(logits, axis=-1)
    rows = xp.arange(logits.shape[0])
    loss = -log_p[rows, targets]
    grad = xp.exp(log_p)
    grad[rows, targets] -= 1
    return loss, grad


@register("adam", REF)
def adam(param, grad, m, v, step, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    """One Adam step on flat buffers, in place (book Algorithm 1.2; AdamW when `decoupled`).

    `step` is the step number t after this update (1 for the first): a Python number, or a 0-d device array
    (a step counter that lives on the GPU, so that a captured CUDA graph stays right when replayed).
    Buffers are updated in place.
    """
    xp = array_module(param)
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay  # AdamW: θ ← θ − α λ θ, outside the adaptive step
        else:
            grad = grad + weight_decay * param  # L2 penalty folded into the gradient
    m *= beta1
    m += (1 - beta1) * grad  # m ← β1 m + (1 − β1) g
    v *= beta2
    v += (1 - beta2) * grad * grad  # v ← β2 v + (1 − β2) g²
    bias1 = 1 - beta1**step  # m̂ = m / (1 − β1^t)
    bias2 = 1 - beta2**step  # v̂ = v / (1 − β2^t)
    # θ ← θ − α m̂ / (√v̂ + ε), written as PyTorch does so results agree to rounding
    param -= (lr / bias1) * m / (xp.sqrt(v) / xp.sqrt(bias2) + eps)
    return param


@register("sgd", REF)
def sgd(param, grad, buf, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, first=False):
    """One SGD step with momentum on flat buffers, in place; `buf` is the momentum buffer.

    b ← μ b + (1 − τ) g (b ← g on the first step);  θ ← θ − α (g + μ b if Nesterov else b)
    """
    if weight_decay:
        grad = grad + weight_decay * param
    if momentum:
        if first:
            buf[...] = grad
        else:
            buf *= momentum
            buf += (1 - dampening) * grad
        grad = grad + momentum * buf if nesterov else buf
    param -= lr * grad
    return param


@register("kfac_factor", REF)
def kfac_factor(a):
    """The K-FAC Kronecker factor E[a aᵀ] ≈ AᵀA / n from n rows of activations (or gradients)."""
    return a.T @ a / a.shape[0]


def _conv_out(size, kernel, stride, padding):
    # (W − F + 2P) / S + 1   (book eq. 1.24)
    return (size + 2 * padding - kernel) // stride + 1


@register("im2col", REF)
def im2col(x, kh, kw, stride=1, padding=0):
    """Unfold (N, C, H, W) into patches (N, C·kh·kw, OH·OW) so that convolution becomes one matmul."""
    xp = array_module(x)
    n, c, h, w = x.shape
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    if padding:
        x = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
    return cols.reshape(n, c * kh * kw, oh * ow)


@register("col2im", REF)
def col2im(cols, shape, kh, kw, stride=1, padding=0):
    """The adjoint of im2col: scatter-add patches (N, C·kh·kw, OH·OW) back into an (N, C, H, W) image."""
    n, c, h, w = shape
    oh, ow = _conv_out(h, kh, stride, padding), _conv_out(w, kw, stride, padding)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    x = array_module(cols).zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            x[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += cols[:, :, i, j]
    return x[:, :, padding : padding + h, padding : padding + w] if padding else x


# -- dense layers (book eqs. 1.3–1.6): the forward pass and the two halves of backpropagation ---------------------
# The activations of a layer, and g ⊙ f'(z) written with the output y = f(z): the formulas of autodiff's Tanh,
# Relu and Sigmoid ops (autodiff/ops/elementwise.py), which tests/autodiff check these kernels against.
def tanh(x):
    return array_module(x).tanh(x)


def tanh_backward(g, y):
    return g * (1 - y * y)  # tanh' = 1 − tanh² = 1 − y²   (book eq. 1.9)


def sigmoid(x):
    # σ(x) = 1 / (1 + e⁻ˣ) = exp(−log(1 + e⁻ˣ)): no exp overflows for large |x|   (book eq. 1.8)
    xp = array_module(x)
    return xp.exp(-xp.logaddexp(0, -x))


def sigmoid_backward(g, y):
    return g * y * (1 - y)  # σ' = σ (1 − σ)


def relu(x):
    return array_module(x).maximum(x, 0)  # not x · [x > 0]: relu(−∞) = 0, not −∞ · 0 = NaN


def relu_backward(g, y):
    return g * (y > 0)  # relu'(x) = [x > 0] = [y > 0], and 0 at the kink   (book eq. 1.10)


# a layer's activation by name: (f, g ⊙ f'(z) = <f>_backward(g, f(z)))
ACTIVATIONS = {"tanh": (tanh, tanh_backward), "relu": (relu, relu_backward), "sigmoid": (sigmoid, sigmoid_backward)}
# the number the GPU kernels know each by (enum Activation in kernels/cupy_raw.cu; kernels/cupy_fused.py)
ACTIVATION_CODES = {None: 0, "tanh": 1, "relu": 2, "sigmoid": 3}


def activation_pair(activation):
    """(f, f_backward) for an activation name; (None, None) for None (the identity)."""
    if activation is None:
        return None, None
    try:
        return ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(f"dense layers: activation must be None or one of {', '.join(map(repr, ACTIVATIONS))}, "
                         f"got {activation!r}") from None


def activation_code(activation) -> int:
    """The GPU kernels' code for an activation name, with the error naming the activations for another name."""
    activation_pair(activation)
    return ACTIVATION_CODES[activation]


@register("dense_forward", REF)
def dense_forward(h, weight, bias=None, activation=None):
    """h_l = f(h_{l−1} Wᵀ + b) for a batch of rows h (N, in), W (out, in), b (out,) or None."""
    f, _ = activation_pair(activation)
    z = array_module(h).matmul(h, weight.T)  # z_l = h_{l−1} W_lᵀ + b_l
    if bias is not None:
        z = z + bias
    return z if f is None else f(z)


@register("dense_delta", REF)
def dense_delta(delta, weight, y=None, activation=None):
    """δ_{l−1} = f_{l−1}'(z_{l−1}) ⊙ δ_l W_l: the error handed to the layer below, whose output y = f_{l−1}(z_{l−1})
    gives the derivative; with activation None (the network's input, or a linear layer below) just δ_l W_l."""
    _, f_backward = activation_pair(activation)
    g = array_module(delta).matmul(delta, weight)  # ∂L/∂h_{l−1} = δ_l W_l
    return g if f_backward is None else f_backward(g, y)


@register("dense_param_grads", REF)
def dense_param_grads(delta, h, weight=True, bias=True):
    """(∂L/∂W_l, ∂L/∂b_l) = (δ_lᵀ h_{l−1}, Σ_n δ_l,n); a gradient not asked for (False) is None."""
    xp = array_module(delta)
    return (xp.matmul(delta.T, h) if weight else None), (delta.sum(axis=0) if bias else None)


# -- the squared error, the value loss of nearly every RL network (book eq. 1.19) ---------------------------------
@register("squared_error", REF)
def squared_error(x, y, scale):
    """scale · Σ (x − y)², a 0-d array (scale = 1/n for the mean squared error)."""
    d = x - y
    return array_module(d).asarray((d * d).sum() * scale, dtype=d.dtype)


@register("squared_error_backward", REF)
def squared_error_backward(g, x, y, scale):
    """∂/∂x of g · scale · Σ (x − y)² = 2 · scale · g · (x − y)  (g: the 0-d upstream gradient)."""
    return g * (2 * scale) * (x - y)


# -- many small copies (the optimizer's gather of gradients into its flat buffer) ----------------------------------
@register("gather_into", REF)
def gather_into(flat, views, arrays):
    """views[i][...] = arrays[i] for views of one flat buffer `flat` (which says the backend): one assignment
    each here; one kernel launch for all of them in cupy_raw (a GPU's cost is the launches, not the bytes)."""
    for view, array in zip(views, arrays):
        view[...] = array
    return flat
