"""Adam (book Alg. 1.2), with AMSGrad, and AdamW (decoupled weight decay).

Book Algorithm 1.2 (β1 = 0.9, β2 = 0.999, ε = 1e−8), step t = 1, 2, ...:

    m ← β1 m + (1 − β1) g            v ← β2 v + (1 − β2) g²          (running moments of the gradient)
    m̂ = m / (1 − β1^t)               v̂ = v / (1 − β2^t)              (bias correction: m, v start at 0)
    θ ← θ − α m̂ / (√v̂ + ε)

Weight decay λ: Adam folds it into the gradient (g ← g + λθ, an L2 penalty that the adaptive scaling then
distorts); AdamW (Loshchilov & Hutter 2019) decays the weights directly, θ ← θ − αλθ, outside the adaptive
step. AMSGrad (Reddi et al. 2018) divides by the running *maximum* of v̂, so a step never grows back after a
burst of large gradients. Formulas and defaults are PyTorch's; the plain update runs in `kernels.adam`.

`capturable=True` (GPU only, PyTorch's option) keeps the step count t in a device counter that the update
increments on the GPU, so that a training step recorded as a CUDA graph (`autodiff.cuda_graph.CudaGraph`) uses
the right bias correction every time it is replayed; `state_dict()` reads the counter back.
"""

from __future__ import annotations

import numpy as np

import kernels
from kernels import registry
from minirl.optim.optimizer import Optimizer, _xp, check_non_negative


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False,
                 decoupled_weight_decay: bool = False, capturable: bool = False):
        check_non_negative(lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"invalid betas {betas}: each must lie in [0, 1)")
        self._device_steps: dict = {}  # id(flat buffer) -> (buffer, its device step counter), when capturable
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay,
                                      capturable=capturable))

    def _state_names(self, group):
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if group["amsgrad"] else ("exp_avg", "exp_avg_sq")

    def _update(self, param, grad, state, step, group):
        (beta1, beta2), lr, eps, wd = group["betas"], group["lr"], group["eps"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if group.get("capturable") and registry.backend_of(param) == "cupy":
            step = self._device_step(param, step)
        if not group["amsgrad"]:
            kernels.adam(param, grad, m, v, step, lr, beta1, beta2, eps, wd, decoupled)
            return
        if wd:
            if decoupled:
                param *= 1 - lr * wd
            else:
                grad += wd * param
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        xp, v_max = _xp(param), state["max_exp_avg_sq"]
        xp.maximum(v_max, v, out=v_max)
        # θ ← θ − α m̂ / (√max v̂ + ε)
        param -= (lr / (1 - beta1**step)) * m / (xp.sqrt(v_max) / xp.sqrt(1 - beta2**step) + eps)

    def _device_step(self, param, step: int):
        """t as a 0-d device array, incremented on the device: created from the host count on first use (outside
        any capture), then only ever `+= 1`, a kernel that a captured graph replays."""
        entry = self._device_steps.get(id(param))
        if entry is None or entry[0] is not param:
            entry = self._device_steps[id(param)] = (param, _xp(param).asarray(step - 1, dtype=np.float64))
        counter = entry[1]
        counter += 1
        return counter

    def state_dict(self) -> dict:
        for flat in self._flats:  # replayed graphs stepped on the device: bring the count back to the host
            entry = self._device_steps.get(id(flat.data))
            if entry is not None and entry[0] is flat.data:
                flat.steps[:] = int(entry[1].get())
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._device_steps.clear()  # counters restart from the loaded counts (record any graph again)


class AdamW(Adam):
    """Adam with decoupled weight decay, θ ← θ − αλθ (default λ = 0.01, as PyTorch's AdamW)."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=True)
