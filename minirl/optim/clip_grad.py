"""Gradient clipping (book: DQN's clipnorm, §4; gradient-norm 1.0 in Table 14.2): bound the step a single
bad batch can cause. Both work in place on the parameters' `.grad`, as PyTorch's `torch.nn.utils` do.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff import Tensor


def _grads(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together by min(1, max_norm / (‖g‖ + 1e−6)), where ‖g‖ is the `norm_type` norm of
    all gradients concatenated into one vector; returns ‖g‖ (before clipping) as a float."""
    grads = _grads(parameters)
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(abs(g.data).max()) for g in grads)
    else:
        power = np.square if norm_type == 2.0 else lambda g: abs(g) ** norm_type  # |g|² = g²: one pass, not two
        total = sum(float(power(g.data).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total gradient norm is {total}; pass error_if_nonfinite=False "
                           f"to clip anyway")
    coef = min(1.0, max_norm / (total + 1e-6))
    if coef < 1.0:
        for g in grads:
            g.data *= np.asarray(coef, dtype=g.data.dtype)
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient entry into [−clip_value, clip_value]."""
    for g in _grads(parameters):
        g.data.clip(-clip_value, clip_value, out=g.data)
