"""Functional forms of the layers, activations and losses (PyTorch's `torch.nn.functional`, usually `F`).

    import minirl.nn.functional as F
    logits = F.linear(x, weight, bias)               # book eq. 1.6: z = Wx + b
    loss = F.cross_entropy(logits, labels)           # book eq. 1.16

Each function takes Tensors and returns a Tensor built from autodiff's differentiable ops, so gradients (and
gradients of gradients) flow through it. Activations are book §1.4 (eqs. 1.8–1.12, ELU 13.1); losses (in
`minirl.nn.loss`, re-exported here) are book §1.5 (eqs. 1.13–1.20) and ch. 4 (Huber 4.27, quantile 4.25).
PyTorch's argument names are kept (`dim`, `reduction`, `negative_slope`), so code reads the same in both.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from autodiff import Tensor
from autodiff.ops.dense import DenseStack
from autodiff.ops.shape import move_array

__all__ = [
    "dense_stack", "elu", "leaky_relu", "linear", "log_softmax", "logsigmoid", "one_hot", "prelu", "relu", "relu6",
    "sigmoid", "softmax", "softplus", "tanh",
]


def _const(values, like: Tensor):
    """A constant (target, weight, mask) as an array on `like`'s device, float data in `like`'s dtype."""
    array = values.data if isinstance(values, Tensor) else values
    if not hasattr(array, "dtype"):
        array = np.asarray(array)
    if array.dtype.kind == "f" and array.dtype != like.dtype:
        array = array.astype(like.dtype)
    return move_array(array, like.device)


def _tensor(x, like: Tensor | None = None) -> Tensor:
    """Tensors as they are; arrays and lists as constant Tensors (on `like`'s device, in its float dtype)."""
    if isinstance(x, Tensor):
        return x
    return ad.as_tensor(x if like is None else _const(x, like))


def _host(values) -> np.ndarray:
    """Labels or indices as a NumPy array, wherever they live (they are checked and indexed on the host)."""
    array = values.data if isinstance(values, Tensor) else values
    return array.get() if type(array).__module__.startswith("cupy") else np.asarray(array)


# -- dense layer ----------------------------------------------------------------------------------------
def linear(input, weight, bias=None) -> Tensor:
    """y = x Wᵀ + b (book eqs. 1.4–1.6, z = Wx + b written for a batch of row vectors x).

    `input` is (..., in_features), `weight` (out_features, in_features), `bias` (out_features,). NumPy
    input is cast to the weight's dtype (observations from an environment are often float64); a Tensor of
    another float dtype is an error, as in PyTorch, because silently upcasting would change the parameters'
    gradient dtype."""
    x = _tensor(input, like=weight)
    xa, wa = x.data, weight.data
    if xa.dtype != wa.dtype:
        raise TypeError(f"linear: input dtype {xa.dtype} differs from weight dtype {wa.dtype}; "
                        f"cast one of them (x.astype(...) or module.double()/float())")
    if xa.ndim == 0 or xa.shape[-1] != wa.shape[1]:
        raise ValueError(f"linear: input of shape {xa.shape} cannot be multiplied by weight of shape "
                         f"{wa.shape} (expected input (..., {wa.shape[1]}))")
    return ad.linear(x, weight, bias)


def dense_stack(input, params, activations) -> Tensor:
    """Dense layers one after the other, h_l = f_l(h_{l−1} W_lᵀ + b_l) with f_l one of None, "tanh", "relu",
    "sigmoid" and `params` [W_1, b_1, ..., W_L, b_L] (not in PyTorch): `linear` and the activation layer by
    layer, computed as one graph node where the layers fit one (`autodiff.dense_stack`, the backpropagation
    recursion of book §1.6.1). `nn.DenseStack` uses it."""
    x = _tensor(input, like=params[0])
    if DenseStack.fits(x, params):
        return DenseStack.apply(x, *params, activations=activations)
    for l, activation in enumerate(activations):  # layer by layer: linear's checks name what does not fit
        x = linear(x, params[2 * l], params[2 * l + 1])
        x = x if activation is None else getattr(ad, activation)(x)
    return x


# -- activations (book §1.4) ----------------------------------------------------------------------------
def sigmoid(input) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ) (book eq. 1.8): squashes to (0, 1); saturates, so gradients vanish for large |x|."""
    return ad.sigmoid(_tensor(input))


def tanh(input) -> Tensor:
    """tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) = 2σ(2x) − 1 (book eq. 1.9): zero-centred, range (−1, 1)."""
    return ad.tanh(_tensor(input))


def relu(input) -> Tensor:
    """max(0, x) (book eq. 1.10): gradient 1 for x > 0, so it does not vanish through many layers."""
    return ad.relu(_tensor(input))


def leaky_relu(input, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, αx otherwise (book eq. 1.11): a small slope keeps "dead" units learning."""
    x = _tensor(input)
    return ad.where(x.data > 0, x, x * negative_slope)


def prelu(input, weight) -> Tensor:
    """Leaky ReLU whose slope α is a trainable weight (book §1.4, PReLU), one per channel (axis 1) or one
    shared (`weight` of shape (1,))."""
    x = _tensor(input)
    if weight.size != 1:
        if x.ndim < 2 or x.shape[1] != weight.size:
            raise ValueError(f"prelu: {weight.size} slopes need input with {weight.size} channels on axis 1, "
                             f"got shape {x.shape}")
        weight = weight.reshape((1, weight.size) + (1,) * (x.ndim - 2))
    return ad.where(x.data > 0, x, weight * x)


def elu(input, alpha: float = 1.0) -> Tensor:
    """x for x > 0, α(eˣ − 1) otherwise (book eq. 13.1; the book prints α·exp(x − 1), an erratum).
    The exponential is taken of min(x, 0) so the unused branch cannot overflow for large x."""
    x = _tensor(input)
    return ad.where(x.data > 0, x, alpha * (ad.exp(ad.clip(x, high=0.0)) - 1))


def relu6(input) -> Tensor:
    """min(max(0, x), 6): ReLU capped at 6 (used by the book's SAC code). Gradient 1 strictly inside (0, 6)."""
    x = _tensor(input)
    inside = (x.data > 0) & (x.data < 6)
    return ad.where(inside, x, x.data.clip(0, 6))


def softplus(input, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^{βx}), a smooth ReLU whose derivative is σ(βx). Computed stably for every x, so
    PyTorch's `threshold` (above which it returns x) is accepted for compatibility but not needed."""
    x = _tensor(input)
    return ad.softplus(x) if beta == 1 else ad.softplus(x * beta) * (1.0 / beta)


def logsigmoid(input) -> Tensor:
    """log σ(x) = −softplus(−x), without underflow for very negative x."""
    return -ad.softplus(-_tensor(input))


def softmax(input, dim: int = -1) -> Tensor:
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along `dim` (book eq. 1.12): a probability distribution."""
    return ad.softmax(_tensor(input), axis=dim)


def log_softmax(input, dim: int = -1) -> Tensor:
    """log softmax(x) = x − logsumexp(x) along `dim`: the log-probabilities, stable for large logits."""
    return ad.log_softmax(_tensor(input), axis=dim)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer labels (...,) → (..., num_classes) with a 1 at each label (int64, as in PyTorch; the y of book
    eq. 1.16). `num_classes=-1` means max(label) + 1."""
    labels = _host(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes < 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got min {labels.min()}, "
                         f"max {labels.max()}")
    device = tensor.device if isinstance(tensor, Tensor) else "cpu"
    return ad.tensor(np.eye(num_classes, dtype=np.int64)[labels], device=device)


# -- losses (book §1.5, ch. 4): defined in minirl.nn.loss ----------------------------------------------
from minirl.nn.loss import (  # noqa: E402
    binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div, l1_loss,
    mse_loss, nll_loss, quantile_huber_loss, quantile_loss, smooth_l1_loss,
)

__all__ += [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "kl_div", "l1_loss",
    "mse_loss", "nll_loss", "quantile_huber_loss", "quantile_loss", "smooth_l1_loss",
]

# -- conv2d, pooling, dropout, batch_norm, layer_norm, embedding (engineer B) ---------------------------
# B: re-export your functional forms here, e.g. ``from minirl.nn.conv import conv2d`` and
# ``__all__ += ["conv2d"]``. Keep these imports at the bottom: your modules may import this one.
from minirl.nn.conv import conv2d  # noqa: E402
from minirl.nn.dropout import dropout  # noqa: E402
from minirl.nn.normalization import batch_norm, layer_norm  # noqa: E402
from minirl.nn.pooling import avg_pool2d, max_pool2d  # noqa: E402
from minirl.nn.sparse import embedding  # noqa: E402

__all__ += ["avg_pool2d", "batch_norm", "conv2d", "dropout", "embedding", "layer_norm", "max_pool2d"]
