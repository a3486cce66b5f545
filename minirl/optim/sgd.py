"""Stochastic gradient descent, with momentum and Nesterov momentum (book Alg. 1.1; momentum: PyTorch's form).

Book Algorithm 1.1 is plain mini-batch SGD, θ ← θ − α ∂L/∂θ. The book names momentum (A3C's asynchrony acts
like it, §5.6; AlphaZero trains with it, Table 15.1) without a formula; we use PyTorch's, so that results and
hyper-parameters transfer:

    g ← ∂L/∂θ + λ θ                              (weight decay λ: an L2 penalty, book eq. 1.23)
    b ← g  on the first step,  else  b ← μ b + (1 − τ) g      (momentum μ, dampening τ)
    θ ← θ − α (g + μ b)   with Nesterov,   θ ← θ − α b   without

`SGD._update` runs these lines on each parameter; ``fused=True`` runs the same lines as one kernel call over a
flat buffer per group (`kernels.sgd`, see optimizer.py), which on the CPU computes the same bits.
"""

from __future__ import annotations

import kernels
from minirl.optim.optimizer import Optimizer, check_non_negative


class SGD(Optimizer):
    counts_steps = False

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False, fused: bool = False):
        check_non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize), fused=fused)

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] else ()

    def _update(self, param, grad, state, step, group):
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        if weight_decay:
            grad = grad + weight_decay * param  # g ← ∂L/∂θ + λθ
        if momentum:
            buf = state["momentum_buffer"]
            if step == 1:
                buf[...] = grad  # b ← g on the first step
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad  # b ← μ b + (1 − τ) g
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad  # θ ← θ − α (g + μ b)  or  θ ← θ − α b

    def _fused_update(self, param, grad, state, step, group):
        kernels.sgd(param, grad, state.get("momentum_buffer"), group["lr"], group["momentum"], group["dampening"],
                    group["nesterov"], group["weight_decay"], first=step == 1)
