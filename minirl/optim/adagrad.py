"""AdaGrad (Duchi, Hazan & Singer 2011; named in book §1.6.2): a per-coordinate step that shrinks with the
sum of all squared gradients seen, so rarely-updated coordinates keep large steps. PyTorch's form:

    g ← ∂L/∂θ + λ θ                      α_t = α / (1 + (t − 1)·decay)
    s ← s + g²                           θ ← θ − α_t g / (√s + ε)

The sum only grows, so the step size decays for good: fine for convex problems, too aggressive for most deep
nets (RMSprop's running average fixes that). `Adagrad._update` runs these lines on each parameter, or with
``fused=True`` once on a flat buffer per group.
"""

from __future__ import annotations

from minirl.optim.optimizer import Optimizer, _xp, check_non_negative


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False,
                 fused: bool = False):
        check_non_negative(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                           initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps, maximize=maximize,
                                      initial_accumulator_value=initial_accumulator_value), fused=fused)

    def _state_names(self, group):
        return ("sum",)

    def _state_fill(self, name, group):
        return group["initial_accumulator_value"]

    def _update(self, param, grad, state, step, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param  # g ← ∂L/∂θ + λθ
        lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])  # α_t = α / (1 + (t − 1)·decay)
        total = state["sum"]
        total += grad * grad  # s ← s + g²
        param -= lr * grad / (_xp(param).sqrt(total) + group["eps"])  # θ ← θ − α_t g / (√s + ε)
