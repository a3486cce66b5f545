"""Dense layers: one layer y = x Wᵀ + b (`Linear`), and a run of layers with their activations as one node
(`DenseStack`), whose backward rule is backpropagation itself (book §1.6.1).

A network of L dense layers computes, for a batch of row vectors (book eqs. 1.3–1.6),

    z_l = h_{l−1} W_lᵀ + b_l,    h_l = f_l(z_l),    h_0 = x,

and backpropagation walks back through the same layers with the error δ_l = ∂L/∂z_l:

    δ_L = f_L'(z_L) ⊙ ∂L/∂h_L,    ∂L/∂W_l = δ_lᵀ h_{l−1},    ∂L/∂b_l = Σ_n δ_l,    δ_{l−1} = f_{l−1}'(z_{l−1}) ⊙ δ_l W_l.

`Linear` is one layer with f = identity. `DenseStack` is the whole recursion in one node: on the small networks
of RL the bookkeeping of a graph node (recording it, visiting it, freeing it) costs about as much as a layer's
arithmetic, so `nn.DenseStack` (the explicit fused module the agents' networks use) runs its Linear layers and
their tanh/ReLU/sigmoid activations as one stack; `nn.Sequential` runs them one node each.
The numbers are the same as layer by layer; under ``create_graph=True`` the rule recomputes the layers with
recorded ops, so gradients of gradients flow through it too.
"""

from __future__ import annotations

import kernels
from autodiff.function import Function
from autodiff.ops.arithmetic import matmul
from autodiff.ops.elementwise import Relu, Sigmoid, Tanh
from autodiff.tensor import Tensor

# the activations a stack can apply, each as its own op for the layer-by-layer composition; g ⊙ f'(z) is
# `<op>.chain(g, y)`, written with the output y = f(z)
ACTIVATIONS = {"tanh": Tanh,  # tanh' = 1 − y²  (book eq. 1.9)
               "relu": Relu,  # relu' = [y > 0]  (book eq. 1.10)
               "sigmoid": Sigmoid}  # σ' = y (1 − y)  (book eq. 1.8)


# The three steps of a layer, as written at the top of this file. On arrays each is a kernel (the matmul
# epilogues: the product with the bias and activation, or with the derivative, in one pass; one launch per
# step on a GPU, kernels/cupy_raw.cu); on Tensors (create_graph=True) the same formula as recorded ops.
# tests/autodiff/test_kernels_match_rules.py checks that the kernels compute these formulas.
def dense_param_grads(delta, h, weight=True, bias=True):
    """(∂L/∂W_l, ∂L/∂b_l) = (δ_lᵀ h_{l−1}, Σ_n δ_l,n); a gradient not asked for (False) is None."""
    if not isinstance(delta, Tensor):
        return kernels.dense_param_grads(delta, h, weight, bias)
    return (matmul(delta.T, h) if weight else None), (delta.sum(axis=0) if bias else None)


def dense_delta(delta, weight, y=None, activation=None):
    """δ_{l−1} = f_{l−1}'(z_{l−1}) ⊙ δ_l W_l, the derivative written with the layer's output y = f_{l−1}(z_{l−1});
    just δ_l W_l for activation None (the input x, or a linear layer below)."""
    if not isinstance(delta, Tensor):
        return kernels.dense_delta(delta, weight, y, activation)
    g = matmul(delta, weight)
    return g if activation is None else ACTIVATIONS[activation].chain(g, y)


class Linear(Function):
    """The dense layer y = x Wᵀ + b as one node, for a batch of row vectors x of shape (N, in); four nodes
    (transpose, matmul, broadcast, add) compute the same, four times slower on the small layers RL uses."""

    def forward(self, x, weight, bias=None):
        return kernels.dense_forward(x, weight, bias, None)

    def backward(self, g):
        x, weight, _ = self.args
        needs = self.needs
        gw, gb = dense_param_grads(g, x, needs[1], needs[2])  # δ = g: no activation
        return (dense_delta(g, weight) if needs[0] else None), gw, gb


class DenseStack(Function):
    """Layers h_l = f_l(h_{l−1} W_lᵀ + b_l), l = 1..L, as one node. Inputs: x, W_1, b_1, ..., W_L, b_L (a bias
    may be None); `activations`: one name per layer ("tanh", "relu", "sigmoid") or None."""

    def forward(self, x, *params, activations):
        self.activations = activations
        self.hs = hs = [x]  # h_0, ..., h_L: the backward pass reads them
        dense_forward = kernels.resolve("dense_forward", x)  # looked up once for all the layers
        for l, activation in enumerate(activations):
            hs.append(dense_forward(hs[l], params[2 * l], params[2 * l + 1], activation))
        return hs[-1]

    def backward(self, g):
        x, *params = self.args
        activations, needs = self.activations, self.needs
        if self.graph:  # the layers again, recorded, so that the rule below is differentiable
            hs = [x]
            for l, activation in enumerate(activations):
                hs.append(_activate(linear(hs[l], params[2 * l], params[2 * l + 1]), activation))
        else:
            hs = self.hs
        last = activations[-1]
        delta = g if last is None else ACTIVATIONS[last].chain(g, hs[-1])  # δ_L = f_L'(z_L) ⊙ ∂L/∂h_L
        # the two steps below on arrays are kernels, looked up once for all the layers; recorded, the formulas
        param_grads, delta_below = ((dense_param_grads, dense_delta) if self.graph else
                                    (kernels.resolve("dense_param_grads", delta), kernels.resolve("dense_delta", delta)))
        grads = [None] * len(params)
        for l in range(len(activations) - 1, -1, -1):  # δ flows from the last layer to the first
            grads[2 * l], grads[2 * l + 1] = param_grads(delta, hs[l], needs[2 * l + 1], needs[2 * l + 2])
            if not any(needs[:2 * l + 1]):  # neither x nor a layer below needs a gradient: stop here
                return (None, *grads)
            below = activations[l - 1] if l else None  # the input x has no activation
            delta = delta_below(delta, params[2 * l], hs[l] if below else None, below)
        return (delta, *grads)

    @staticmethod
    def fits(x, params) -> bool:
        """Whether one node computes the stack: 2-D x, 2-D weights whose widths chain, biases of shape (out,)
        or None, all of x's dtype (the rule neither broadcasts nor casts)."""
        xa = x.data
        if xa.ndim != 2:
            return False
        dtype, width = xa.dtype, xa.shape[1]
        for i in range(0, len(params), 2):
            weight, bias = params[i].data, params[i + 1]
            shape = weight.shape
            if weight.dtype != dtype or len(shape) != 2 or shape[1] != width:
                return False
            width = shape[0]
            if bias is not None and (bias.data.shape != shape[:1] or bias.data.dtype != dtype):
                return False
        return True


def _activate(out, activation):
    return out if activation is None else ACTIVATIONS[activation].apply(out)


def linear(x, weight, bias=None):
    """x Wᵀ + b: one node for 2-D x, the composition for other ranks."""
    # the one node's backward neither broadcasts a bias of shape (1,) nor casts between dtypes
    if DenseStack.fits(x, (weight, bias)):
        return Linear.apply(x, weight, bias)
    out = matmul(x, weight.T)
    return out if bias is None else out + bias


def dense_stack(x, params, activations):
    """h_L of the layers h_l = f_l(h_{l−1} W_lᵀ + b_l), f_l one of None, "tanh", "relu", "sigmoid"; `params`
    is [W_1, b_1, ..., W_L, b_L] (a bias may be None). One node where the layers fit one (`DenseStack.fits`),
    else layer by layer."""
    for activation in activations:
        if activation is not None and activation not in ACTIVATIONS:
            raise ValueError(f"dense_stack: activation must be one of None, {', '.join(map(repr, ACTIVATIONS))}, "
                             f"got {activation!r}")
    if len(params) != 2 * len(activations):
        raise ValueError(f"dense_stack: {len(activations)} activations need {2 * len(activations)} params "
                         f"(W_1, b_1, ...), got {len(params)}")
    if DenseStack.fits(x, params):
        return DenseStack.apply(x, *params, activations=tuple(activations))
    for l, activation in enumerate(activations):
        x = _activate(linear(x, params[2 * l], params[2 * l + 1]), activation)
    return x
