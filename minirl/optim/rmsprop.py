"""RMSprop (Tieleman & Hinton 2012; named in book §1.6.2, used by the book's REINFORCE-Pong and A3C code):
divide each coordinate's step by a running root-mean-square of its recent gradients. PyTorch's form:

    g ← ∂L/∂θ + λ θ
    v ← α v + (1 − α) g²                                  (α = 0.99: the running mean of g²)
    centered:  ḡ ← α ḡ + (1 − α) g,   d = √(v − ḡ²) + ε   (divide by a running standard deviation)
    otherwise: d = √v + ε
    momentum μ > 0:  b ← μ b + g / d,  θ ← θ − η b        else  θ ← θ − η g / d

Note ε is added *outside* the square root, as in PyTorch (TensorFlow adds it inside: their defaults differ).
`RMSprop._update` runs these lines on each parameter, or with ``fused=True`` once on a flat buffer per group.
"""

from __future__ import annotations

from minirl.optim.optimizer import Optimizer, _xp, check_non_negative


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, maximize: bool = False, fused: bool = False):
        check_non_negative(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize), fused=fused)

    def _state_names(self, group):
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, param, grad, state, step, group):
        xp, alpha = _xp(param), group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * param  # g ← ∂L/∂θ + λθ
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad  # v ← α v + (1 − α) g²
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            denom = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]  # d = √(v − ḡ²) + ε
        else:
            denom = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom  # b ← μ b + g / d
            param -= group["lr"] * buf  # θ ← θ − η b
        else:
            param -= group["lr"] * grad / denom  # θ ← θ − η g / d
