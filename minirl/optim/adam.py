"""Adam (book Alg. 1.2), with AMSGrad, and AdamW (decoupled weight decay).

Book Algorithm 1.2 (β1 = 0.9, β2 = 0.999, ε = 1e−8), step t = 1, 2, ...:

    m ← β1 m + (1 − β1) g            v ← β2 v + (1 − β2) g²          (running moments of the gradient)
    m̂ = m / (1 − β1^t)               v̂ = v / (1 − β2^t)              (bias correction: m, v start at 0)
    θ ← θ − α m̂ / (√v̂ + ε)

`Adam._update` runs these lines on each parameter. The last one is multiplied through by √(1 − β2^t):

    α m̂ / (√v̂ + ε) = (α √(1 − β2^t) / (1 − β1^t)) · m / (√v + ε √(1 − β2^t))

the same number with the bias corrections folded into two scalars, and the operation order of the CPU kernel,
so that ``fused=True`` (`kernels.adam` once over a flat buffer per group, see optimizer.py) computes the same
bits on NumPy arrays.

Weight decay λ: Adam folds it into the gradient (g ← g + λθ, an L2 penalty that the adaptive scaling then
distorts); AdamW (Loshchilov & Hutter 2019) decays the weights directly, θ ← θ − αλθ, outside the adaptive
step. AMSGrad (Reddi et al. 2018) divides by the running *maximum* of v, so a step never grows back after a
burst of large gradients (the kernel has no AMSGrad: with ``fused=True`` these lines run on the flat buffer).
Formulas and defaults are PyTorch's.

`capturable=True` (GPU only, PyTorch's option) keeps the step count t in a device counter that the update
increments on the GPU, so that a training step recorded as a CUDA graph (`autodiff.cuda_graph.CudaGraph`) uses
the right bias correction every time it is replayed; `state_dict()` reads the counter back. With ``fused=True``
the recorded step is two launches: the gather of the gradients and `kernels.adam`.
"""

from __future__ import annotations

import math

import numpy as np

import kernels
from kernels import registry
from minirl.optim.optimizer import Optimizer, _xp, check_non_negative


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False, capturable: bool = False, fused: bool = False):
        check_non_negative(lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid betas {betas}: each must lie in [0, 1)")
        self._device_steps: dict = {}  # id(updated array) -> (the array, its device step counter), when capturable
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                                      capturable=capturable), fused=fused)

    def _state_names(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def _update(self, param, grad, state, step, group):
        (beta1, beta2), lr, eps, weight_decay = group["betas"], group["lr"], group["eps"], group["weight_decay"]
        xp, t = _xp(param), self._step_count(param, step) if group["capturable"] else step
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if weight_decay:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * weight_decay  # AdamW: θ ← θ − αλθ, outside the adaptive step
            else:
                grad = grad + weight_decay * param  # L2 penalty: g ← g + λθ
        m *= beta1
        m += (1 - beta1) * grad  # m ← β1 m + (1 − β1) g
        v *= beta2
        v += (1 - beta2) * (grad * grad)  # v ← β2 v + (1 − β2) g²
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # AMSGrad: divide by max v
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t  # m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
        root_bias2 = math.sqrt(bias2) if isinstance(bias2, float) else xp.sqrt(bias2)
        # θ ← θ − α m̂ / (√v̂ + ε)   (multiplied through by √(1 − β2^t), see the docstring)
        param -= m / (xp.sqrt(v) + eps * root_bias2) * (lr * root_bias2 / bias1)

    def _fused_update(self, param, grad, state, step, group):
        if group["amsgrad"]:
            self._update(param, grad, state, step, group)
            return
        (beta1, beta2), t = group["betas"], self._step_count(param, step) if group["capturable"] else step
        kernels.adam(param, grad, state["exp_avg"], state["exp_avg_sq"], t, group["lr"], beta1, beta2, group["eps"],
                     group["weight_decay"], group["decoupled_weight_decay"])

    def _step_count(self, param, step: int):
        """t for ``capturable=True``: on the GPU a 0-d device array incremented on the device, created from the
        host count `step` on first use (outside any capture), then only ever `+= 1`, a kernel that a captured
        graph replays; on the CPU the host count."""
        if registry.backend_of(param) != "cupy":
            return step
        entry = self._device_steps.get(id(param))
        if entry is None or entry[0] is not param:
            entry = self._device_steps[id(param)] = (param, _xp(param).asarray(step - 1, dtype=np.float64))
        counter = entry[1]
        counter += 1
        return counter

    def state_dict(self) -> dict:
        for array, counter in self._device_steps.values():  # replayed graphs stepped on the device
            count = int(counter.get())
            for holder in self._groups:
                holder.set_step(array, count)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._device_steps.clear()  # counters restart from the loaded counts (record any graph again)


class AdamW(Adam):
    """Adam with decoupled weight decay, θ ← θ − αλθ (default λ = 0.01, as PyTorch's AdamW)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False,
                 capturable: bool = False, fused: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True,
                         capturable=capturable, fused=fused)
