"""Containers: `Sequential` runs its children in order, `ModuleList` holds them for a forward of your own.

Children are named "0", "1", ... as in PyTorch, so a `Sequential`'s state_dict keys are PyTorch's
("0.weight", "2.bias").
"""

from __future__ import annotations

from collections import OrderedDict

from autodiff import Tensor, no_grad
from minirl.nn.module import Module


class Sequential(Module):
    """Layers applied one after the other (book §1.3: a deep network is a composition of layers).
    Children are named "0", "1", ... so `state_dict()` keys are PyTorch's ("0.weight", "2.bias").

    Each child runs as itself, so a recorded graph has a node per layer and per activation, as written; the
    same dense layers as one node are `nn.DenseStack`."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def infer(self, x):
        """The children on `x` under `no_grad`, an array out (or what the last child returns, if not a Tensor).
        `x` goes to the first child as it came: a NumPy array of another dtype is cast by `Linear` there."""
        with no_grad():
            out = self(x)
        return out.data if isinstance(out, Tensor) else out

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
