"""Containers: `Sequential` runs its children in order, `ModuleList` holds them for a forward of your own.

Children are named "0", "1", ... as in PyTorch, so a `Sequential`'s state_dict keys are PyTorch's
("0.weight", "2.bias").
"""

from __future__ import annotations

from collections import OrderedDict

from minirl.nn.activation import ReLU, Sigmoid, Tanh
from minirl.nn.linear import Linear
from minirl.nn.module import Module

# activations that a Sequential runs inside the node of the Linear layer before them (autodiff's LinearTanh, ...)
FUSED_ACTIVATIONS = {Tanh: "tanh", ReLU: "relu", Sigmoid: "sigmoid"}


class Sequential(Module):
    """Layers applied one after the other (book §1.3: a deep network is a composition of layers).
    Children are named "0", "1", ... so `state_dict()` keys are PyTorch's ("0.weight", "2.bias").

    A `Linear` followed by `Tanh`, `ReLU` or `Sigmoid` runs as one graph node, f(x Wᵀ + b) (book eq. 1.3),
    with the same values and gradients as the two modules one after the other: on the small networks of RL
    each node's bookkeeping costs about as much as its arithmetic. A Linear whose `forward` is being
    watched (K-FAC hooks the pre-activation output) runs on its own."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module, activation, name in self._steps():
            if name is None:
                x = module(x)
            elif "forward" in module.__dict__:  # a watched Linear: its own output first, then the activation
                x = activation(module(x))
            else:
                x = module(x, activation=name)
        return x

    def _steps(self):
        """The children as (module, the activation fused into it or None, its name or None), computed once
        for the children as they are now: the cache is keyed by the children themselves."""
        children = tuple(self._modules.values())
        cached = self.__dict__.get("_steps_cache")
        if cached is not None and cached[0] == children:  # tuples of modules compare by identity
            return cached[1]
        steps, i = [], 0
        while i < len(children):
            module = children[i]
            after = children[i + 1] if i + 1 < len(children) else None
            if type(module) is Linear and type(after) in FUSED_ACTIVATIONS:
                steps.append((module, after, FUSED_ACTIVATIONS[type(after)]))
                i += 2
            else:
                steps.append((module, None, None))
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
