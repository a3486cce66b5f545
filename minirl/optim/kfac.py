"""K-FAC: Kronecker-factored approximate natural gradient, with ACKTR's KL-clipped step (book §5.9, Alg. 5.25).

The natural gradient F⁻¹g follows the steepest ascent in *policy* space (KL distance) rather than parameter
space, but the Fisher F = E[∇log π ∇log πᵀ] has (#weights)² entries. K-FAC (Martens & Grosse 2015) keeps one
block per layer and factors it. For a layer s = W ā (ā = the input a with a 1 appended for the bias; W holds
the bias as its last column) the per-sample gradient is ∇W = g āᵀ with g = ∂L/∂s, so

    F_layer = E[(ā āᵀ) ⊗ (g gᵀ)] ≈ E[ā āᵀ] ⊗ E[g gᵀ] = A ⊗ G                       (book eq. 5.49)
    (A ⊗ G)⁻¹ vec(∇W) = vec(G⁻¹ ∇W A⁻¹)                                             (book eqs. 5.50–5.52)

so two small inverses (d_in³ + d_out³) replace one huge one (d_in³·d_out³). Convolutions use the same form on
image patches (Grosse & Martens 2016): ā = one patch, G summed over the |T| output positions (G ← |T|·G).

The details, in the order `step` applies them:

1. statistics: every `Ts` steps, the layer inputs (seen by a forward hook on each layer) and the gradients
   of the layer outputs (seen by `Tensor.register_hook` on them) give Â and Ĝ for this batch; the loss is
   taken to be a mean over rows, so the output gradients are multiplied by the batch size to get per-sample
   g. Running averages A ← ρA + (1 − ρ)Â, G ← ρG + (1 − ρ)Ĝ (ρ = stat_decay; the first batch sets them).
2. inverses, every `Tinv` steps: Tikhonov damping λ split between the factors with Martens & Grosse's π
   correction, π = sqrt((tr A / dim A) / (tr G / dim G)):  (A + π√λ I)⁻¹ and (G + √λ/π I)⁻¹.
3. preconditioning: Δ_l = G⁻¹ ∇W_l A⁻¹ for each known layer (Linear, Conv2d); any other parameter keeps its
   gradient (F = I for it). Weight decay is added to the gradient first.
4. ACKTR's trust region (book eq. 5.43): a step η F̂⁻¹g changes the policy by KL ≈ ½ η² gᵀF̂⁻¹g, so with
   η = lr·ν the KL is at most δ = kl_clip for
       ν = min(1, sqrt(2δ / (lr² Σ_l Δ_l·∇W_l))).
   (The book prints η = min(η_max, sqrt(2δ/(θᵀĤθ))); the quadratic form belongs to the step, not to θ.
   OpenAI baselines and pytorch-a2c-ppo-acktr use sqrt(δ/…), i.e. their kl_clip is our 2δ.)
5. SGD with momentum μ on ν·Δ, with rate lr·(1 − μ) so that the momentum-averaged step is lr·ν·Δ.

Where the Fisher statistics come from. As a drop-in optimizer (``empirical_fisher=True``, the default), every
backward pass feeds G: the *empirical* Fisher of the training loss. The true Fisher samples targets from the
model's own predictive distribution; ACKTR does that with a second backward pass:

    kfac = KFAC(policy, empirical_fisher=False)
    pi = Categorical(logits=policy(obs))                   # minirl.distributions
    with kfac.accumulate_stats():                          # only backward passes inside feed the statistics
        sampled = pi.sample(rng)                           # a ~ π(·|s): the model's own predictions
        (-pi.log_prob(sampled).mean()).backward(retain_graph=True)
    kfac.zero_grad()                                       # that backward was for the statistics only
    loss = -(pi.log_prob(actions) * advantages).mean()
    loss.backward(); kfac.step()
"""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np

import kernels
from autodiff import Tensor, enable_grad, is_grad_enabled
from minirl.optim.optimizer import Optimizer, _to_numpy, _xp, check_non_negative


class _Layer:
    """What K-FAC knows of one Linear or Conv2d layer: its running factors, their damped inverses, and the
    (input, output-gradient) pairs recorded since the last step."""

    def __init__(self, module, conv: bool):
        self.module, self.conv = module, conv
        self.A = self.G = self.A_inv = self.G_inv = None
        self.batches: list = []

    @property
    def params(self):
        bias = self.module.bias
        return [self.module.weight] if bias is None else [self.module.weight, bias]

    def factor_rows(self, a, g):
        """(ā rows, per-sample g rows, |T|) for one recorded batch."""
        if self.conv:
            kh, kw = self.module.kernel_size
            stride = self.module.stride
            padding = _conv_padding(self.module)
            n = a.shape[0]
            patches = kernels.im2col(a, kh, kw, stride, padding)              # (N, C·kh·kw, T)
            positions = patches.shape[2]
            a_rows = patches.transpose(0, 2, 1).reshape(n * positions, -1)
            g_rows = g.transpose(0, 2, 3, 1).reshape(n * positions, -1) * n    # per-sample: loss = mean over N
        else:
            a_rows, g_rows = a.reshape(-1, a.shape[-1]), g.reshape(-1, g.shape[-1])
            positions = 1
            g_rows = g_rows * g_rows.shape[0]
        if self.module.bias is not None:
            xp = _xp(a_rows)
            a_rows = xp.concatenate([a_rows, xp.ones((a_rows.shape[0], 1), dtype=a_rows.dtype)], axis=1)
        return a_rows, g_rows, positions

    def batch_factors(self):
        """Â = E[ā āᵀ] and Ĝ = |T|·E[g gᵀ] over every row recorded since the last step."""
        A_hat = G_hat = None
        total = 0
        for a, g in self.batches:
            a_rows, g_rows, positions = self.factor_rows(a, g)
            rows = a_rows.shape[0]
            A_b, G_b = kernels.kfac_factor(a_rows) * rows, kernels.kfac_factor(g_rows) * (rows * positions)
            A_hat = A_b if A_hat is None else A_hat + A_b
            G_hat = G_b if G_hat is None else G_hat + G_b
            total += rows
        return A_hat / total, G_hat / total

    def gradient_matrix(self, grads):
        """∇W with the bias gradient as its last column: (out, in·kh·kw [+ 1])."""
        weight = grads[0].reshape(grads[0].shape[0], -1)
        if len(grads) == 1:
            return weight
        return _xp(weight).concatenate([weight, grads[1].reshape(-1, 1)], axis=1)

    def split(self, matrix):
        weight = self.module.weight
        if self.module.bias is None:
            return [matrix.reshape(weight.shape)]
        return [matrix[:, :-1].reshape(weight.shape), matrix[:, -1].copy()]


def _conv_padding(module) -> int:
    padding = module.padding
    if padding == "valid":
        return 0
    if padding == "same":
        return (module.kernel_size[0] - 1) // 2
    return int(padding)


class _ForwardObserver:
    """K-FAC's forward hook on one layer: hooks the layer's output so that its gradient (and the input that went
    with it) are recorded during backward."""

    def __init__(self, kfac: "KFAC", layer: _Layer):
        self.kfac, self.layer = kfac, layer

    def __call__(self, module, inputs, out):
        if self.kfac._wants_stats() and isinstance(out, Tensor) and out.requires_grad:
            x = inputs[0]
            a = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=module.weight.dtype)
            out.register_hook(functools.partial(self.kfac._record, self.layer, a))

    def __reduce__(self):
        # a copy of the network (copy.deepcopy for a target network, pickle) is not watched: the copy of this
        # hook is None, which `Module` drops
        return (_not_watched, ())


def _not_watched():
    return None


class KFAC(Optimizer):
    """K-FAC for the Linear and Conv2d layers of `model` (other parameters: SGD on the raw gradient), with
    ACKTR's KL-clipped step size. Defaults are ACKTR's (Wu et al. 2017)."""

    def __init__(self, model, lr: float = 0.25, momentum: float = 0.9, stat_decay: float = 0.99,
                 damping: float = 1e-2, kl_clip: float | None = 1e-3, weight_decay: float = 0.0,
                 Ts: int = 1, Tinv: int = 10,  # noqa: N803  (the ACKTR paper's names)
                 empirical_fisher: bool = True, pi_correction: bool = True):
        from minirl.nn.conv import Conv2d
        from minirl.nn.linear import Linear

        check_non_negative(lr=lr, momentum=momentum, stat_decay=stat_decay, damping=damping,
                           weight_decay=weight_decay, **({} if kl_clip is None else {"kl_clip": kl_clip}))
        super().__init__(list(model.parameters()), dict(lr=lr, momentum=momentum, stat_decay=stat_decay,
                                                        damping=damping, kl_clip=kl_clip,
                                                        weight_decay=weight_decay))
        self.Ts, self.Tinv = Ts, Tinv
        self.empirical_fisher, self.pi_correction = empirical_fisher, pi_correction
        self.steps = 0
        self._accumulating = False
        self.layers: list[_Layer] = []
        self._handles = []
        for _, module in model.named_modules():
            if isinstance(module, (Linear, Conv2d)):
                if any(isinstance(hook, _ForwardObserver) for hook in module._forward_hooks.values()):
                    raise RuntimeError(f"KFAC: {module!r} is already watched (another KFAC?); call its remove()")
                layer = _Layer(module, conv=isinstance(module, Conv2d))
                self._handles.append(module.register_forward_hook(_ForwardObserver(self, layer)))
                self.layers.append(layer)
        index = {id(p): i for i, p in enumerate(self.param_groups[0]["params"])}
        self._layer_indices = [[index[id(p)] for p in layer.params] for layer in self.layers]

    # -- statistics -------------------------------------------------------------------------------------
    def _wants_stats(self) -> bool:
        return self.steps % self.Ts == 0 and is_grad_enabled()

    def _record(self, layer: _Layer, a, grad: Tensor) -> None:
        if self.empirical_fisher or self._accumulating:
            layer.batches.append((a, grad.data))

    @contextlib.contextmanager
    def accumulate_stats(self):
        """Backward passes inside this block feed the Fisher statistics (with ``empirical_fisher=False``,
        only these do): run the backward of a loss on targets sampled from the model here."""
        previous, self._accumulating = self._accumulating, True
        try:
            yield self
        finally:
            self._accumulating = previous

    def remove(self) -> None:
        """Stop watching the layers (take K-FAC's forward hooks off them)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _update_factors(self, group) -> None:
        rho = group["stat_decay"]
        for layer in self.layers:
            if not layer.batches:
                continue
            A_hat, G_hat = layer.batch_factors()
            layer.batches = []
            if layer.A is None:
                layer.A, layer.G = A_hat, G_hat
            else:
                layer.A = rho * layer.A + (1 - rho) * A_hat
                layer.G = rho * layer.G + (1 - rho) * G_hat

    def _update_inverses(self, group) -> None:
        root = math.sqrt(group["damping"])
        for layer in self.layers:
            if layer.A is None:
                continue
            xp, dtype = _xp(layer.A), layer.A.dtype
            pi = 1.0
            if self.pi_correction:
                mean_a = float(xp.trace(layer.A)) / layer.A.shape[0]
                mean_g = float(xp.trace(layer.G)) / layer.G.shape[0]
                pi = math.sqrt(mean_a / mean_g) if mean_a > 0 and mean_g > 0 else 1.0
            eye_a, eye_g = xp.eye(layer.A.shape[0]), xp.eye(layer.G.shape[0])
            layer.A_inv = xp.linalg.inv(layer.A.astype(np.float64) + pi * root * eye_a).astype(dtype)
            layer.G_inv = xp.linalg.inv(layer.G.astype(np.float64) + root / pi * eye_g).astype(dtype)

    # -- the step ---------------------------------------------------------------------------------------
    def natural_gradients(self, grads: list, group: dict) -> list:
        """G⁻¹ ∇W A⁻¹ for every known layer's parameters; other gradients unchanged (None stays None)."""
        out = list(grads)
        for layer, indices in zip(self.layers, self._layer_indices):
            layer_grads = [grads[i] for i in indices]
            if layer.A_inv is None or any(g is None for g in layer_grads):  # no statistics yet: plain gradient
                continue
            natural = layer.G_inv @ layer.gradient_matrix(layer_grads) @ layer.A_inv
            for i, value in zip(indices, layer.split(natural)):
                out[i] = value
        return out

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        group = self.param_groups[0]
        params = group["params"]
        grads = [None if p.grad is None else p.grad.data for p in params]
        if group["weight_decay"]:
            grads = [g if g is None else g + group["weight_decay"] * p.data for g, p in zip(grads, params)]
        if self.steps % self.Ts == 0:
            self._update_factors(group)
        if self.steps % self.Tinv == 0 or any(lay.A is not None and lay.A_inv is None for lay in self.layers):
            self._update_inverses(group)
        natural = self.natural_gradients(grads, group)
        nu = self.kl_scale(natural, grads, group)
        self._step_group(0, [None if d is None else nu * d for d in natural])
        self.steps += 1
        self.last_nu = nu
        return loss

    def kl_scale(self, natural, grads, group) -> float:
        """ν = min(1, sqrt(2δ / (lr² Σ Δ·∇))): the step lr·ν·Δ changes the model by KL ≈ ½ lr²ν² Σ Δ·∇ ≤ δ."""
        if group["kl_clip"] is None:
            return 1.0
        quadratic = sum(float((d * g).sum()) for d, g in zip(natural, grads) if g is not None)
        if quadratic <= 0:
            return 1.0
        return min(1.0, math.sqrt(2 * group["kl_clip"] / (group["lr"] ** 2 * quadratic)))

    def _update(self, param, grad, state, step, group):
        momentum = group["momentum"]
        kernels.sgd(param, grad, state.get("momentum_buffer"), group["lr"] * (1 - momentum), momentum, 0.0, False,
                    0.0, first=step == 1)

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] else ()

    # -- saving -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        saved = super().state_dict()
        saved["kfac"] = {"steps": self.steps, "layers": [
            {k: None if v is None else _to_numpy(v).copy() for k, v in
             (("A", lay.A), ("G", lay.G), ("A_inv", lay.A_inv), ("G_inv", lay.G_inv))} for lay in self.layers]}
        return saved

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        extra = state_dict["kfac"]
        if len(extra["layers"]) != len(self.layers):
            raise ValueError(f"KFAC.load_state_dict: {len(extra['layers'])} saved layers, {len(self.layers)} here")
        self.steps = int(extra["steps"])
        for layer, saved in zip(self.layers, extra["layers"]):
            xp = _xp(layer.module.weight.data)
            for name, value in saved.items():
                setattr(layer, name, None if value is None else xp.asarray(value))
