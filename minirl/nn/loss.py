"""Loss functions (book §1.5, eqs. 1.13–1.20; Huber 4.27; quantile 4.25) as functions and as Modules.

Names, arguments and reductions are PyTorch's: every loss takes ``reduction='mean' | 'sum' | 'none'``
('none' keeps one loss per element or per sample). The functions are re-exported by
`minirl.nn.functional`; the Modules (`MSELoss()`, `CrossEntropyLoss()`, ...) hold the options and call them.

Elementwise losses (MSE, L1, Huber, BCE) require `input` and `target` of the same shape: broadcasting a
(N, 1) prediction against a (N,) target silently compares every pair, the most common bug of a value loss
in RL (PyTorch only warns).
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
import kernels
from autodiff import Function, Tensor
from autodiff.ops.shape import move_array
from minirl.nn.functional import _const, _host, _tensor
from minirl.nn.module import Module

_REDUCTIONS = ("mean", "sum", "none")


def _pair(input, target, name):
    x = _tensor(input)
    y = _tensor(target, like=x)
    if x.shape != y.shape:
        raise ValueError(f"{name}: input shape {x.shape} and target shape {y.shape} differ; broadcasting them "
                         f"would compare every pair of elements. Reshape one (e.g. q.squeeze(-1)).")
    return x, y


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# -- regression losses ----------------------------------------------------------------------------------
class SquaredError(Function):
    """scale · Σ (x − y)² as one node (scale = 1/n for the mean): the value loss of nearly every RL network.
    The composition (x − y, a product, a sum) is three nodes whose backward rules broadcast and multiply
    the gradient back; this one's rule is the derivative itself, ∂/∂x = 2·scale·(x − y) = −∂/∂y, and both
    directions are one kernel each (`kernels.squared_error`, `kernels.squared_error_backward`)."""

    def forward(self, x, y, scale):
        self.scale = scale
        return kernels.squared_error(x, y, scale)

    def backward(self, g):
        x, y = self.args
        if self.graph:  # create_graph: the same rule, composed of differentiable ops
            gx = g * (2 * self.scale) * (x - y)
        else:
            gx = kernels.squared_error_backward(g, x, y, self.scale)
        return gx if self.needs[0] else None, -gx if self.needs[1] else None


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """(x − y)² (book eq. 1.19, MSE; the L2 loss of eq. 1.18 with p = 2). Smooth, gradient 2(x − y)."""
    x, y = _pair(input, target, "mse_loss")
    if reduction in ("mean", "sum") and x.dtype == y.dtype:
        scale = 1.0 if reduction == "sum" else (1.0 / x.size if x.size else float("nan"))
        return SquaredError.apply(x, y, scale=scale)
    d = x - y
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """|x − y| (book eq. 1.20, MAE): robust to outliers, but its gradient ±1 does not shrink near the optimum
    and it is not differentiable at 0 (book §1.5; the gradient used there is 0)."""
    x, y = _pair(input, target, "l1_loss")
    return _reduce(ad.abs(x - y), reduction, "l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """L_δ(d) = ½d² for |d| ≤ δ, δ(|d| − ½δ) otherwise, d = x − y (book eq. 4.27): MSE near 0, MAE far
    away, so the gradient is clipped to ±δ. DQN's "clipped error" is δ = 1."""
    x, y = _pair(input, target, "huber_loss")
    d = x - y
    a = ad.abs(d)
    return _reduce(ad.where(a.data < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½d²/β for |d| < β, |d| − ½β otherwise: Huber divided by β (equal to it for β = δ = 1)."""
    if beta == 0:
        return l1_loss(input, target, reduction)
    x, y = _pair(input, target, "smooth_l1_loss")
    d = x - y
    a = ad.abs(d)
    return _reduce(ad.where(a.data < beta, (0.5 / beta) * d * d, a - 0.5 * beta), reduction, "smooth_l1_loss")


def quantile_loss(input, target, tau, reduction: str = "mean") -> Tensor:
    """Pinball loss ρ_τ(u) = τu for u > 0, (τ − 1)u otherwise, with u = y − x (book eq. 4.25).

    Minimising E[ρ_τ(y − x)] over x gives the τ-quantile of y (Koenker's convention, used by QR-DQN). The
    book writes ρ_τ(f(x) − y), i.e. u with the opposite sign, and so finds the (1 − τ)-quantile (it says
    F = 1 − τ); the two agree after τ ↔ 1 − τ. `tau` is a number or an array broadcasting with the inputs."""
    x = _tensor(input)
    u = _tensor(target, like=x) - x
    tau = _const(np.asarray(tau, dtype=x.dtype) if not hasattr(tau, "dtype") else tau, x)
    return _reduce(ad.where(u.data > 0, u * tau, u * (tau - 1)), reduction, "quantile_loss")


def quantile_huber_loss(input, target, tau=None, kappa: float = 1.0, reduction: str = "mean") -> Tensor:
    """QR-DQN's quantile Huber loss (Dabney et al. 2018; book §4.7).

    `input` (B, N): the predicted quantiles θ_i at fractions `tau` (N,), by default the midpoints
    τ̂_i = (2i + 1) / 2N. `target` (B, M): samples of the target distribution (r + γθ'_j, detached). For every
    pair, u_ij = y_j − θ_i and ρ^κ_τ(u) = |τ_i − 1{u < 0}| · L_κ(u) / κ, with L_κ the Huber loss (eq. 4.27;
    |u| when κ = 0). A sample's loss is Σ_i mean_j ρ^κ_τ(u_ij); `reduction` then acts over the batch."""
    x = _tensor(input)
    y = _tensor(target, like=x)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"quantile_huber_loss: expected input (B, N) and target (B, M), got {x.shape} and {y.shape}")
    n = x.shape[1]
    tau = (2 * np.arange(n) + 1) / (2.0 * n) if tau is None else tau
    tau = _const(np.asarray(tau, dtype=np.float64) if not hasattr(tau, "dtype") else tau, x).reshape(1, n, 1)
    u = y.reshape(y.shape[0], 1, y.shape[1]) - x.reshape(x.shape[0], n, 1)  # (B, N, M)
    a = ad.abs(u)
    if kappa > 0:
        huber = ad.where(a.data <= kappa, 0.5 * u * u, kappa * (a - 0.5 * kappa)) * (1.0 / kappa)
    else:
        huber = a
    rho = huber * abs(tau - (u.data < 0))  # |τ − 1{u < 0}|, a constant
    return _reduce(rho.mean(axis=2).sum(axis=1), reduction, "quantile_huber_loss")


# -- classification losses ------------------------------------------------------------------------------
_LOG_FLOOR = float(np.exp(-100.0))  # PyTorch clamps log p at −100 so that p = 0 gives a finite loss


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """−[y log p + (1 − y) log(1 − p)] for probabilities p (book eq. 1.15). Use the `_with_logits`
    version when p comes from a sigmoid: it is exact where σ rounds to 0 or 1."""
    p, y = _pair(input, target, "binary_cross_entropy")
    if p.data.size and (bool(p.data.min() < 0) or bool(p.data.max() > 1)):
        raise ValueError("binary_cross_entropy: input must hold probabilities in [0, 1]; for logits use "
                         "binary_cross_entropy_with_logits")
    log_p = ad.log(ad.clip(p, low=_LOG_FLOOR))
    log_q = ad.log(ad.clip(1 - p, low=_LOG_FLOOR))
    loss = -(y * log_p + (1 - y) * log_q)
    if weight is not None:
        loss = loss * _tensor(weight, like=p)
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy of p = σ(x) computed from the logit x (book eqs. 1.8 and 1.15):
    −log σ(x) = softplus(−x) and −log(1 − σ(x)) = x + softplus(−x), so the loss is
    (1 − y)·x + (1 + (w₊ − 1)·y)·softplus(−x), finite for every x. `pos_weight` w₊ (one per class, last
    axis) weighs the positive examples."""
    x, y = _pair(input, target, "binary_cross_entropy_with_logits")
    neg_log_sigmoid = ad.softplus(-x)
    if pos_weight is not None:
        neg_log_sigmoid = neg_log_sigmoid * (1 + (_tensor(pos_weight, like=x) - 1) * y)
    loss = (1 - y) * x + neg_log_sigmoid
    if weight is not None:
        loss = loss * _tensor(weight, like=x)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _rows(input: Tensor, target: np.ndarray, name: str):
    """(N, C, d1, ...) scores and (N, d1, ...) labels as (M, C) rows and (M,) labels; (C,) with a scalar
    label as one row. Returns the rows, the labels and the shape of the per-sample loss."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got dtype {target.dtype} "
                        f"(probability targets go to cross_entropy)")
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"{name}: input of shape {input.shape} needs a scalar target, got {target.shape}")
        return input.reshape(1, -1), target.reshape(1), ()
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} (classes on axis 1) needs target of shape "
                         f"{expected}, got {target.shape}")
    if input.ndim > 2:  # move the class axis last
        input = input.transpose((0,) + tuple(range(2, input.ndim)) + (1,))
    return input.reshape(-1, input.shape[-1]), target.reshape(-1), target.shape


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """−w_y · input[y]: the negative log-likelihood of the labels, given log-probabilities (classes on axis 1).
    'mean' divides by the summed weights of the non-ignored labels, as PyTorch does."""
    x = _tensor(input)
    rows, labels, out_shape = _rows(x, _host(target), "nll_loss")
    n_classes = rows.shape[1]
    valid = labels != ignore_index
    if np.any(valid & ((labels < 0) | (labels >= n_classes))):
        bad = labels[valid & ((labels < 0) | (labels >= n_classes))][0]
        raise IndexError(f"nll_loss: target {bad} is out of bounds for {n_classes} classes")
    safe = np.where(valid, labels, 0)
    w = valid.astype(x.dtype)
    if weight is not None:
        w = w * np.asarray(_host(weight), dtype=x.dtype)[safe]
    picked = ad.take_along_axis(rows, move_array(safe[:, None], x.device), axis=1).reshape(-1)
    loss = -(picked * _const(w, x))
    if reduction == "mean":
        return loss.sum() / float(w.sum())
    return _reduce(loss.reshape(out_shape), reduction, "nll_loss")


class SoftmaxCrossEntropy(Function):
    """loss_n = logsumexp(z_n) − z_n[t_n] for rows z (N, C), fused: one kernel (kernels.softmax_cross_entropy)
    returns the losses and ∂loss_n/∂z_n = softmax(z_n) − onehot(t_n) (book eq. 1.16), saved for backward."""

    def forward(self, logits, targets):
        self.targets = targets  # on the host
        loss, self.row_grad = kernels.softmax_cross_entropy(logits, move_array(targets, _device(logits)))
        return loss

    def backward(self, g):
        if self.graph:  # create_graph: the same rule, composed of differentiable ops
            (logits,) = self.args
            onehot = _const(np.eye(logits.shape[1])[self.targets], logits)
            return g.reshape(-1, 1) * (ad.softmax(logits, axis=1) - onehot)
        return g[:, None] * self.row_grad


def _device(array) -> str:
    return "cpu" if isinstance(array, np.ndarray) else "cuda"


def _has_fused_kernel(device: str) -> bool:
    try:
        kernels.registry.active("softmax_cross_entropy", "numpy" if device == "cpu" else "cupy")
    except KeyError:
        return False
    return True


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy H(y, softmax(x)) = −Σ_c y_c log softmax(x)_c of logits x (book eqs. 1.14, 1.16).

    `input`: logits (N, C), (N, C, d1, ...) or (C,). `target`: integer classes (N,) / (N, d1, ...) / scalar,
    or probabilities of the input's shape (soft labels). `label_smoothing` ε mixes the target with the
    uniform distribution: (1 − ε)·y + ε/C. `weight` (C,) weighs classes; `ignore_index` labels add nothing."""
    x = _tensor(input)
    class_axis = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_axis]
    labels = _host(target)
    if labels.dtype.kind == "f":  # probability targets
        y = _tensor(target, like=x)
        if y.shape != x.shape:
            raise ValueError(f"cross_entropy: probability target shape {y.shape} must equal input shape {x.shape}")
        if label_smoothing:
            y = y * (1 - label_smoothing) + label_smoothing / n_classes
        terms = ad.log_softmax(x, axis=class_axis) * y
        if weight is not None:
            terms = terms * _class_weights(weight, x, class_axis)
        return _reduce(-terms.sum(axis=class_axis), reduction, "cross_entropy")
    plain = x.ndim == 2 and weight is None and not label_smoothing and labels.shape == x.shape[:1]
    in_range = np.all((labels >= 0) & (labels < n_classes) & (labels != ignore_index))
    if plain and in_range and _has_fused_kernel(x.device):
        loss = SoftmaxCrossEntropy.apply(x, targets=labels)  # the common case (N, C) logits: one fused kernel
        return _reduce(loss, reduction, "cross_entropy")
    log_p = ad.log_softmax(x, axis=class_axis)
    nll = nll_loss(log_p, labels, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    # PyTorch's label smoothing: (1 − ε)·NLL + (ε/C)·Σ_c −w_c log p_c, with the same normalisation
    w = _class_weights(weight, x, class_axis) if weight is not None else 1.0
    kept = labels != ignore_index
    smooth = -(log_p * w).sum(axis=class_axis) * _const(kept.astype(x.dtype), x)
    if reduction == "mean":
        safe = np.where(kept, labels, 0)
        denominator = float(np.asarray(_host(weight))[safe][kept].sum()) if weight is not None else kept.sum()
        smooth = smooth.sum() / float(denominator)
    else:
        smooth = _reduce(smooth, reduction, "cross_entropy")
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def _class_weights(weight, x, class_axis):
    """Per-class weights shaped to broadcast along the class axis, on x's device."""
    w = np.asarray(_host(weight), dtype=x.dtype)
    return _const(w.reshape((-1,) + (1,) * (x.ndim - 1 - class_axis)), x)


def kl_div(input, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(P ‖ Q) = Σ P log(P / Q) (book eq. 1.13), PyTorch's convention: `input` is log Q (log-probabilities),
    `target` is P (probabilities, or log P with `log_target=True`); terms with P = 0 are 0. Use
    reduction='batchmean' (sum / batch size) for the true KL per sample; 'mean' divides by every element."""
    x = _tensor(input)
    t = _tensor(target, like=x)
    if log_target:
        loss = ad.exp(t) * (t - x)
    else:
        positive = t.data > 0
        loss = t * ad.log(ad.where(positive, t, 1.0)) - t * x  # x log x := 0 at x = 0
    if reduction == "batchmean":
        return loss.sum() * (1.0 / x.shape[0]) if x.ndim else loss.sum()
    return _reduce(loss, reduction, "kl_div")


# -- Modules --------------------------------------------------------------------------------------------
class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction}"


class MSELoss(_Loss):
    def forward(self, input, target):
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    def forward(self, input, target):
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target):
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target):
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class NLLLoss(_Loss):
    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target):
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_Loss):
    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input, target):
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class KLDivLoss(_Loss):
    def __init__(self, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return kl_div(input, target, self.reduction, self.log_target)


class QuantileLoss(_Loss):
    """Pinball loss at fraction(s) `tau` (book eq. 4.25); see `quantile_loss`."""

    def __init__(self, tau, reduction: str = "mean"):
        super().__init__(reduction)
        self.tau = tau

    def forward(self, input, target):
        return quantile_loss(input, target, self.tau, self.reduction)


class QuantileHuberLoss(_Loss):
    """QR-DQN's quantile Huber loss; see `quantile_huber_loss`."""

    def __init__(self, kappa: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.kappa = kappa

    def forward(self, input, target, tau=None):
        return quantile_huber_loss(input, target, tau, self.kappa, self.reduction)
