"""`Module` and `Parameter`: the containers that hold a network's weights (book ch. 1.3–1.5).

A neural network (book §1.3, eq. 1.3: y = f(Wx + b) layer after layer) is a function with trainable
parameters θ. Training (§1.6) needs every θ in one place: the loss's gradient ∂L/∂θ is accumulated into each
parameter's `.grad`, and an optimizer walks `model.parameters()` to update them. `Module` does that
bookkeeping the way PyTorch's `torch.nn.Module` does, so the names, the `state_dict()` keys and the printed
tree are the ones a PyTorch user expects:

    class MLP(Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Linear(4, 64)          # assigning a Module registers it as a child ...
            self.fc2 = Linear(64, 2)
            self.register_buffer("count", autodiff.zeros(()))   # ... buffers are saved but not trained
        def forward(self, x):
            return self.fc2(tanh(self.fc1(x)))

    model = MLP()
    [name for name, _ in model.named_parameters()]   # ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']

A forward hook (`register_forward_hook`) watches a module from outside: it sees the module's inputs and output at
every call, as K-FAC does to collect its statistics, without changing the module's code.
"""

from __future__ import annotations

import contextlib

from collections import OrderedDict, namedtuple

import numpy as np

from autodiff import Tensor, as_tensor, no_grad
from autodiff.ops.shape import move_array


class Parameter(Tensor):
    """A Tensor that is a trainable weight: `requires_grad=True` by default, and registered by a Module
    when assigned to one of its attributes. Ops on it return plain Tensors (only leaves are Parameters)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None, device: str = "cpu"):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # copy.deepcopy / pickle (a DQN target network is a deep copy): rebuild from the arrays
        grad = None if self.grad is None else self.grad.numpy()
        return (_rebuild_parameter, (self.numpy(), self.requires_grad, self.device, grad))


def _rebuild_parameter(array, requires_grad, device, grad=None):
    p = Parameter(array, requires_grad=requires_grad, device=device)
    if grad is not None:
        p.grad = Tensor(grad, device=device)
    return p


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """What `register_forward_hook` returns: `remove()` takes the hook off again (usable as a context manager)."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class Module:
    """Base class of every layer and network. Subclasses call ``super().__init__()`` first, assign their
    Parameters, sub-Modules and buffers as attributes, and define ``forward``.

    The registries (`_parameters`, `_buffers`, `_modules`) say what the module holds, in order; each entry is
    also mirrored in the instance dictionary, so that ``self.weight`` inside `forward` is a plain attribute
    read (through `__getattr__` it costs as much as a small op). Change them with attribute assignment,
    `register_*`, `add_module` or `del`, which keep both in step."""

    training: bool

    def __init__(self):
        # object.__setattr__: our own __setattr__ reads these dictionaries
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):
                result = hook(self, args, output)
                if result is not None:
                    output = result
        return output

    def register_forward_hook(self, hook) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module (`inputs`: the positional
        arguments, as a tuple); a hook that returns something other than None replaces the output. Hooks run in
        the order they were registered; ``handle.remove()`` takes this one off. A copy of the module (deepcopy,
        pickle) keeps its hooks, except those whose own copy is None (K-FAC's: it watches the network it was
        given, not a target network copied from it)."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def __setstate__(self, state) -> None:
        # a copy (deepcopy, pickle): hooks that copy to None stay behind with the original
        hooks = state.get("_forward_hooks")
        if hooks is None:
            state["_forward_hooks"] = OrderedDict()
        else:
            for key in [key for key, hook in hooks.items() if hook is None]:
                del hooks[key]
        self.__dict__.update(state)

    def infer(self, x):
        """The forward pass as inference: an array (or a Tensor) in, an array out, no graph recorded. Acting and
        targets need the numbers y = f(x), not their derivatives. Here it is `forward` under `no_grad`;
        `DenseStack` runs its dense layers as kernels on the arrays themselves."""
        with no_grad():
            return self(x if isinstance(x, Tensor) else as_tensor(x)).data

    # -- registration ------------------------------------------------------------------------------------
    def _registries(self):
        try:
            return self.__dict__["_parameters"], self.__dict__["_buffers"], self.__dict__["_modules"]
        except KeyError:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() in __init__ before "
                                 f"assigning parameters or sub-modules") from None

    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Module)) or name in self.__dict__.get("_parameters", ()) \
                or name in self.__dict__.get("_buffers", ()) or name in self.__dict__.get("_modules", ()):
            params, buffers, modules = self._registries()
            if isinstance(value, Parameter):
                self._forget(name, keep=params)
                registry = params
            elif isinstance(value, Module):
                self._forget(name, keep=modules)
                registry = modules
            elif name in params:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} of "
                                    f"{type(self).__name__} (expected a Parameter or None)")
                registry = params
            elif name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} to sub-module {name!r} of "
                                    f"{type(self).__name__} (expected a Module or None)")
                registry = modules
            else:  # a buffer keeps its registration when replaced: BatchNorm assigns new running stats
                registry, value = buffers, _as_buffer(value, name)
            registry[name] = self.__dict__[name] = value
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails (an entry put into a registry directly): look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self.__dict__.pop(name, None)
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name, keep=None):
        """Remove `name` from every registry but `keep` and from the instance dictionary (it is about to be
        registered in `keep`, where an entry replaced keeps its place: `seq[1] = nn.ReLU()` stays second)."""
        for registry in ("_parameters", "_buffers", "_modules"):
            if self.__dict__[registry] is not keep:
                self.__dict__[registry].pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent.discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._registries()
        self._forget(name, keep=self._parameters)
        self._parameters[name] = self.__dict__[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """A state tensor that is not trained (BatchNorm's running mean): saved in `state_dict()` when
        `persistent`, moved by `to()`, never returned by `parameters()`."""
        if "." in name or not name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        self._registries()
        self._forget(name, keep=self._buffers)
        self._buffers[name] = self.__dict__[name] = _as_buffer(tensor, name)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._registries()
        self._forget(name, keep=self._modules)
        self._modules[name] = self.__dict__[name] = module

    # -- walking the tree --------------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", memo=None, remove_duplicate: bool = True):
        """(dotted name, module) for this module and every descendant, parents first; a module reachable
        by two paths is reported once unless `remove_duplicate=False` (what state_dict uses, as PyTorch)."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool):
        seen = set()  # a weight shared by two layers is reported once, under its first name
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar weights (PyTorch users write ``sum(p.numel() for p in m.parameters())``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- saving and loading ------------------------------------------------------------------------------
    def _state_tensors(self) -> OrderedDict:
        """dotted name -> Tensor for every parameter and persistent buffer, in PyTorch's state_dict order
        (a module's own parameters, then its buffers, then its children); shared modules under each name."""
        tensors = OrderedDict()
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = prefix + "." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    tensors[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    tensors[dot + name] = b
        return tensors

    def state_dict(self) -> OrderedDict:
        """Every parameter and persistent buffer as ``dotted name -> NumPy array`` (a copy), with the keys and
        order of PyTorch's state_dict for the same architecture."""
        return OrderedDict((k, np.array(t.numpy(), copy=True)) for k, t in self._state_tensors().items())

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) from `state_dict` into this module's parameters and buffers, in place
        (an optimizer holding the parameters keeps working), cast to their dtypes. Shapes must match. With
        ``strict=True`` missing or unexpected keys raise a KeyError; either way they are returned as
        ``(missing_keys, unexpected_keys)``."""
        targets = self._state_tensors()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        mismatched = []
        for key, target in targets.items():
            if key in state_dict:
                shape = tuple(np.shape(_array(state_dict[key])))
                if shape != target.shape:
                    mismatched.append(f"  {key}: checkpoint has shape {shape}, the model has {target.shape}")
        errors = []
        if strict and missing:
            errors.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            errors.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:  # never loadable, strict or not (as in PyTorch)
            errors.append("shape mismatch:\n" + "\n".join(mismatched))
        if errors:
            raise KeyError(f"load_state_dict of {type(self).__name__}: " + "; ".join(errors))
        for key, target in targets.items():
            if key in state_dict:
                value = move_array(_array(state_dict[key]), target.device)
                target.data[...] = value.astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # -- modes, gradients, devices -----------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops, BatchNorm uses batch statistics), for this module and all below."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget accumulated gradients (backward adds into `.grad`; book §1.6: one step per batch)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor(p.grad.data * 0, device=p.device)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter, e.g. a target network that is never trained."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    @contextlib.contextmanager
    def frozen(self):
        """Inside the block no parameter of this module takes a gradient: a loss can flow *through* it (an actor's
        loss through its critic, DDPG and SAC) without computing gradients that nobody uses."""
        parameters = list(self.parameters())
        before = [p.requires_grad for p in parameters]
        for p in parameters:
            p.requires_grad = False
        try:
            yield self
        finally:
            for p, requires_grad in zip(parameters, before):
                p.requires_grad = requires_grad

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every descendant, then on this module (e.g. a custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, device: str | None = None, dtype=None) -> Module:
        """Move every parameter and buffer (and gradient) to `device` ('cpu' or 'cuda') and/or cast the
        floating-point ones to `dtype`, in place: the Parameter objects stay the same."""
        for t in list(self.parameters()) + list(self.buffers()):
            data = t.data
            if dtype is not None and data.dtype.kind == "f":
                data = data.astype(dtype)
            if device is not None:
                data = move_array(data, device)
            t.data = data
            if t.grad is not None:
                t.grad = Tensor(t.grad.data, dtype=data.dtype, device=device or t.grad.device)
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self) -> Module:
        return self.to("cuda")

    def float(self) -> Module:
        return self.to(dtype=np.float32)

    def double(self) -> Module:
        return self.to(dtype=np.float64)

    # -- printing ----------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses, e.g. ``in_features=4, out_features=2, bias=True``."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


def _as_buffer(value, name):
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return Tensor(np.asarray(value))
    raise TypeError(f"buffer {name!r} must be a Tensor, a NumPy array or None, got {type(value).__name__}")


def _array(value):
    """A state_dict entry (Tensor, NumPy or CuPy array, list, number) as an array."""
    data = value.data if isinstance(value, Tensor) else value
    return data if type(data).__module__.startswith("cupy") else np.asarray(data)
