"""Containers: `Sequential` runs its children in order, `ModuleList` holds them for a forward of your own.

Children are named "0", "1", ... as in PyTorch, so a `Sequential`'s state_dict keys are PyTorch's
("0.weight", "2.bias").
"""

from __future__ import annotations

from collections import OrderedDict

import kernels
from autodiff import Tensor, as_tensor, no_grad
from autodiff.grad_mode import state as grad_mode
from minirl.nn import functional as F
from minirl.nn.activation import ReLU, Sigmoid, Tanh
from minirl.nn.linear import Linear
from minirl.nn.module import Module

# activations that a Sequential computes inside the dense stack of the Linear layers around them
STACKED_ACTIVATIONS = {Tanh: "tanh", ReLU: "relu", Sigmoid: "sigmoid"}


def _is_array(value) -> bool:
    """A NumPy or CuPy array (what a dense stack of `Sequential._without_graph` returns), not a Tensor or a tuple."""
    return hasattr(value, "shape") and not isinstance(value, Tensor)


class Sequential(Module):
    """Layers applied one after the other (book §1.3: a deep network is a composition of layers).
    Children are named "0", "1", ... so `state_dict()` keys are PyTorch's ("0.weight", "2.bias").

    Consecutive `Linear` layers, each optionally followed by `Tanh`, `ReLU` or `Sigmoid`, run as one graph
    node (`F.dense_stack`, backpropagation's recursion in one rule), with the same values and gradients as
    module by module: on the small networks of RL each node's bookkeeping costs about as much as its
    arithmetic. While a layer's `forward` is being watched (K-FAC hooks its output), its stack runs module by
    module.

    With gradients off (`autodiff.no_grad()`: acting, TD targets, evaluation) there is no graph to record, and
    `forward` is `infer`, the same layers on arrays (see there)."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        if not grad_mode.grad_enabled and not grad_mode.anomaly:  # nothing to record: dense stacks on arrays
            out = self._without_graph(x)
            return as_tensor(out) if _is_array(out) else out
        for module, activations, names in self._steps():
            x = module(x) if names is None else self._stack(x, module, activations, names)
        return x

    @staticmethod
    def _stack(x, layers, activations, names):
        """A dense stack as one node (`F.dense_stack`), or module by module while a layer is watched."""
        params = []
        for layer in layers:
            if "forward" in layer.__dict__:  # a watched layer: the stack runs module by module
                for layer_, activation in zip(layers, activations):
                    x = layer_(x) if activation is None else activation(layer_(x))
                return x
            params += (layer.weight, layer.bias)
        return F.dense_stack(x, params, names)

    def infer(self, x):
        """The forward pass as inference: no graph, an array out (the input an array or a Tensor).

        Acting (argmax_a Q(s, a), a policy's sample) and targets (max_a' Q̂(s', a')) only need the numbers
        y = f_L(... f_1(x W_1ᵀ + b_1) ...), one observation at a time when acting, where bookkeeping, not
        arithmetic, is the cost: a dense layer on one observation is a microsecond of arithmetic, and a graph
        node, its Tensors and the checks of `linear` cost several. So each dense stack here is
        `kernels.dense_forward(h, W, b, f)` layer by layer, the kernel `DenseStack.forward` runs, with the same
        values; nothing is recorded, whatever the grad mode. Other children (and a stack with a watched layer, or
        an input that `linear` must cast or reject) run as modules under `no_grad`. `forward` takes this path
        when gradients are off and no anomaly detection runs."""
        out = self._without_graph(x)
        return out.data if isinstance(out, Tensor) else out

    def _without_graph(self, x):
        """The children on `x` with nothing recorded: each dense stack as kernels on arrays, the others as modules
        under no_grad (given Tensors, or the input as it came). Returns the last child's output: an array after a
        dense stack."""
        h = x
        for module, activations, names in self._steps():
            if names is not None:
                a = h.data if isinstance(h, Tensor) else h
                for layer, name in zip(module, names):
                    weight = layer.weight.data
                    # what the kernel takes: rows (N, in) in the weights' dtype; and no watched layer
                    if getattr(a, "ndim", 0) != 2 or a.dtype != weight.dtype or a.shape[1] != weight.shape[1] \
                            or "forward" in layer.__dict__:
                        break
                    bias = layer.bias
                    a = kernels.dense_forward(a, weight, None if bias is None else bias.data, name)
                else:
                    h = a
                    continue
            with no_grad():  # a module, or a stack the recorded path must cast, explain or watch: as modules
                given = as_tensor(h) if h is not x and _is_array(h) else h
                h = module(given) if names is None else self._stack(given, module, activations, names)
        return h

    def _steps(self):
        """The children as steps: (module, None, None), or a dense stack (its Linear layers, the activation
        module after each or None, their names). Computed once for the children as they are now: the cache
        is keyed by the children themselves."""
        children = tuple(self._modules.values())
        cached = self.__dict__.get("_steps_cache")
        if cached is not None and cached[0] == children:  # tuples of modules compare by identity
            return cached[1]
        steps, i = [], 0
        while i < len(children):
            layers, activations = [], []
            while i < len(children) and type(children[i]) is Linear:
                after = children[i + 1] if i + 1 < len(children) else None
                activation = after if type(after) in STACKED_ACTIVATIONS else None
                layers.append(children[i])
                activations.append(activation)
                i += 1 if activation is None else 2
            if len(layers) > 1 or (layers and activations[0] is not None):
                names = tuple(None if a is None else STACKED_ACTIVATIONS[type(a)] for a in activations)
                steps.append((tuple(layers), tuple(activations), names))
            elif layers:
                steps.append((layers[0], None, None))
            else:
                steps.append((children[i], None, None))
                i += 1
        object.__setattr__(self, "_steps_cache", (children, steps))
        return steps

    def _index(self, index: int) -> str:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"{type(self).__name__}: index {index} is out of range for {n} modules")
        return list(self._modules)[index % n]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._index(index), module)

    def __delitem__(self, index: int) -> None:
        delattr(self, self._index(index))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of sub-modules that registers them (a plain Python list would hide their parameters)."""

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or [])

    def _index(self, index: int) -> str:
        n = len(self._modules)
        if not -n <= index < n:
            raise IndexError(f"ModuleList: index {index} is out of range for {n} modules")
        return str(index % n)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[self._index(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        self.add_module(self._index(index), module)

    def __delitem__(self, index: int) -> None:
        modules = list(self._modules.values())
        del modules[int(self._index(index))]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def _renumber(self, modules) -> None:
        """Hold `modules` under the names "0", "1", ... (as PyTorch does after a deletion or an insertion)."""
        for name in list(self._modules):
            delattr(self, name)
        self.extend(modules)
