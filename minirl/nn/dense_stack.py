"""`DenseStack`: a run of dense layers and their activations computed as one graph node (book §1.6.1).

    nn.Sequential(Linear(4, 64), Tanh(), Linear(64, 64), Tanh(), Linear(64, 2))   # 5 nodes: one per module
    nn.DenseStack(Linear(4, 64), Tanh(), Linear(64, 64), Tanh(), Linear(64, 2))   # 1 node: the same numbers

Both hold the same children under the same names ("0.weight", "2.bias", ...), so their state dicts are the same.
`Sequential` is the network as written; `DenseStack` is the fast path of the small networks of RL, where each
graph node's bookkeeping (recording it, visiting it, freeing it) costs about as much as the layer's arithmetic.
Its node is `autodiff.ops.dense.DenseStack`, whose backward rule is backpropagation's recursion

    δ_L = f_L'(z_L) ⊙ ∂L/∂h_L,    ∂L/∂W_l = δ_lᵀ h_{l−1},    ∂L/∂b_l = Σ_n δ_l,
    δ_{l−1} = f_{l−1}'(z_{l−1}) ⊙ δ_l W_l,

with the same values and gradients (and gradients of gradients) as the layers one by one; tests check it.
"""

from __future__ import annotations

import kernels
from autodiff import Tensor, as_tensor
from autodiff.grad_mode import state as grad_mode
from minirl.nn import functional as F
from minirl.nn.activation import ReLU, Sigmoid, Tanh
from minirl.nn.container import Sequential
from minirl.nn.linear import Linear

# the activations the node applies after a layer, by the name `F.dense_stack` knows them by
ACTIVATIONS = {Tanh: "tanh", ReLU: "relu", Sigmoid: "sigmoid"}


class DenseStack(Sequential):
    """Dense layers h_l = f_l(h_{l−1} W_lᵀ + b_l) as one graph node (`F.dense_stack`): `Linear` layers, each
    followed by an optional `Tanh`, `ReLU` or `Sigmoid`, the children of a `Sequential` that computes the same.

    Where a layer or an activation has a forward hook (K-FAC watches each layer's input and output), the stack
    runs module by module, as `Sequential`, so that the hook sees what it watches. With gradients off
    (`autodiff.no_grad()`: acting, TD targets, evaluation) there is nothing to record, and `forward` is `infer`
    (see there)."""

    def __init__(self, *modules):
        super().__init__(*modules)
        self._plan()  # a child that is not a dense layer or one of its activations is an error here

    def _plan(self):
        """((layer, activation module or None, its name or None), ...) and the activations' names, for the
        children as they are now: computed once, and again only after a child was added, replaced or removed
        (each way of doing so, `stack[i] = ...`, `append`, `del stack[i]`, assigning an attribute, drops it)."""
        cached = self.__dict__.get("_plan_cache")
        if cached is not None:
            return cached
        children = tuple(self._modules.values())
        pairs, names, i = [], [], 0
        while i < len(children):
            layer = children[i]
            if type(layer) is not Linear:
                raise ValueError(f"DenseStack: child {list(self._modules)[i]} must be a Linear layer, got "
                                 f"{type(layer).__name__} (a Linear may be followed by one of "
                                 f"{', '.join(a.__name__ for a in ACTIVATIONS)})")
            after = children[i + 1] if i + 1 < len(children) else None
            name = ACTIVATIONS.get(type(after))
            pairs.append((layer, None if name is None else after, name))
            names.append(name)
            i += 1 if name is None else 2
        if not pairs:
            raise ValueError("DenseStack: expected at least one Linear layer, got none")
        plan = (tuple(pairs), tuple(names))
        object.__setattr__(self, "_plan_cache", plan)
        return plan

    # the ways a child changes, each followed by a new plan
    def _forget(self, name, keep=None):
        self.__dict__.pop("_plan_cache", None)
        super()._forget(name, keep)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name in self._modules:
            self.__dict__.pop("_plan_cache", None)

    def __delattr__(self, name):
        super().__delattr__(name)
        self.__dict__.pop("_plan_cache", None)

    def forward(self, x, head: Linear | None = None):
        """h_L, or with `head` (a `Linear` layer after the stack: a Q-network's output layer) head(h_L), in the
        same node."""
        layers, names = self._layers(head)
        if not grad_mode.grad_enabled and not grad_mode.anomaly:  # nothing to record: the kernels on arrays
            out = self._on_arrays(x, layers)
            if out is not None:
                return as_tensor(out)
        params = []
        for layer, activation, _ in layers:
            if layer._forward_hooks or (activation is not None and activation._forward_hooks):
                out = super().forward(x)  # watched: module by module
                return out if head is None else head(out)
            params += (layer.weight, layer.bias)
        return F.dense_stack(x, params, names)

    def infer(self, x, head: Linear | None = None):
        """The forward pass as inference: no graph, an array out (the input an array or a Tensor); with `head`, a
        `Linear` layer after the stack (a Q-network's output layer), in the same loop of kernels.

        Acting (argmax_a Q(s, a), a policy's sample) and targets (max_a' Q̂(s', a')) only need the numbers
        y = f_L(... f_1(x W_1ᵀ + b_1) ...), one observation at a time when acting, where bookkeeping, not
        arithmetic, is the cost: a dense layer on one observation is a microsecond of arithmetic, and a graph
        node, its Tensors and the checks of `linear` cost several. So here each layer is
        `kernels.dense_forward(h, W, b, f)`, the kernel the node's forward runs, with the same values; nothing
        is recorded, whatever the grad mode. An input that `linear` must cast or reject, and a stack with a
        forward hook, run through `forward` under no_grad."""
        out = self._on_arrays(x, self._layers(head)[0])
        if out is None:
            out = super().infer(x)
            return out if head is None else head.infer(out)
        return out

    def _layers(self, head: Linear | None):
        """The plan's (layer, activation, name) triples and activation names, with `head` as a last layer
        without activation when given."""
        layers, names = self._plan()
        return (layers, names) if head is None else ((*layers, (head, None, None)), (*names, None))

    @staticmethod
    def _on_arrays(x, layers):
        """h_L by `kernels.dense_forward` layer by layer; None where the kernel does not apply: an input that is
        not rows (N, in) of the weights' dtype, or a layer or activation with a forward hook."""
        a = x.data if isinstance(x, Tensor) else x
        if getattr(a, "ndim", 0) != 2:
            return None
        dense_forward = kernels.resolve("dense_forward", a)  # looked up once for all the layers
        for layer, activation, name in layers:
            weight = layer.weight.data
            if a.dtype != weight.dtype or a.shape[1] != weight.shape[1] \
                    or layer._forward_hooks or (activation is not None and activation._forward_hooks):
                return None
            bias = layer.bias
            a = dense_forward(a, weight, None if bias is None else bias.data, name)
        return a
