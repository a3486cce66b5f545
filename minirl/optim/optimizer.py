"""`Optimizer`: the base class of every update rule (book §1.6: θ ← θ − α·(something built from ∂L/∂θ)).

An optimizer holds *parameter groups*, as PyTorch's does: a list of dicts, each with its "params" and its own
hyper-parameters ("lr", ...), so that a learning-rate scheduler, or an agent, can change ``group["lr"]``
between steps and a network can train its parts at different rates:

    opt = Adam([{"params": actor.parameters()}, {"params": critic.parameters(), "lr": 1e-3}], lr=3e-4)
    loss.backward(); opt.step(); opt.zero_grad()

A subclass says which state arrays its rule keeps (`_state_names`: Adam's m and v, a momentum buffer) and
writes the rule itself in `_update(param, grad, state, step, group)`: the formula of its file, in array algebra
on the parameter's array module, updating `param` and the state arrays in place. The base class calls it once
per parameter that has a gradient, with that parameter's own arrays (PyTorch's ``state[p]``); a parameter whose
gradient is None is skipped, and its step count stays behind.

``fused=True`` (PyTorch's name): one update per group instead of one per parameter. Constructing the optimizer
then copies the group's parameters into one contiguous buffer and makes each ``p.data`` a view into it, and keeps
every state array as one array of the same length; a step gathers the gradients into one flat array
(`kernels.gather_into`: one launch on the GPU) and runs the rule once on the flat arrays, through its kernel
where it has one (`_fused_update`: `kernels.adam`, `kernels.sgd`). RL networks have few, small weight
matrices, so per-call overhead, not arithmetic, dominates their update; a GPU updates everything in one launch.
The rules are elementwise, so both ways compute the same numbers (tests/minirl/optim check it). With
``fused=True``:

- in-place writes (``p.data[...] =``, `Module.load_state_dict`) keep ``p.data`` a view of the buffer; code that
  *rebinds* ``p.data`` (`Module.to`, a manual copy) is fine too: the next step copies the new values into the
  buffer (moving it, and the state, to the new device or dtype) and re-attaches the view;
- on steps where a parameter has no gradient, or after parameters took different numbers of steps, the rule
  runs per parameter on slices of the same buffers;
- all parameters of one group must share a dtype and a device (put others in their own group).
"""

from __future__ import annotations

import copy
import functools

import numpy as np

import kernels
from autodiff import Tensor
from autodiff.grad_mode import enable_grad
from kernels import registry


def _xp(array):
    return np if registry.backend_of(array) == "numpy" else registry.load_cupy()


def _to_numpy(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else array.get()


def _follows(array, like) -> bool:
    """Whether `array` lives where `like` does, with its dtype (a state array and its parameter)."""
    return type(array) is type(like) and array.dtype == like.dtype


class ParamStates:
    """The parameters of one group as they are, each with its own state: ``states[i]`` holds parameter i's
    step count ("step", the updates it has received) and its state arrays, as PyTorch's ``state[p]`` does."""

    def __init__(self, params: list[Tensor]):
        self.params = params
        self.states: list[dict] = [{} for _ in params]

    def synced(self) -> "ParamStates":
        """Move state arrays whose parameter went to another device or dtype (`Module.to`) along with it."""
        for p, state in zip(self.params, self.states):
            for name, array in list(state.items()):
                if name != "step" and not _follows(array, p.data):
                    moved = _xp(p.data).asarray(_to_numpy(array)) if type(array) is not type(p.data) else array
                    state[name] = moved.astype(p.data.dtype)
        return self

    def units(self, grads: list, names: tuple, fill, maximize: bool) -> list:
        """(parameter array, gradient, state, step) for each parameter with a gradient: what a step updates."""
        out = []
        for p, g, state in zip(self.params, grads, self.states):
            if g is None:
                continue
            for name in names:
                if name not in state:
                    state[name] = _xp(p.data).full_like(p.data, fill(name))
            state["step"] = step = state.get("step", 0) + 1
            out.append((p.data, -g if maximize else g, state, step))
        return out

    def entry(self, i: int) -> dict | None:
        """Parameter i's step count and state arrays (the arrays themselves), or None before its first step."""
        return self.states[i] if self.states[i].get("step") else None

    def clear(self, fill) -> None:
        """Forget every parameter's state (before loading a saved one)."""
        self.states = [{} for _ in self.params]

    def load(self, i: int, step: int, arrays: dict, fill) -> None:
        """Set parameter i's step count and state arrays from NumPy arrays (copies on its device, in its dtype);
        step 0 forgets its state."""
        data = self.params[i].data
        state = {name: _xp(data).array(value, dtype=data.dtype) for name, value in arrays.items()}
        self.states[i] = {"step": step, **state} if step else {}

    def set_step(self, array, step: int) -> None:
        """Set the step count of the parameter whose array is `array` (a count kept on the device came back)."""
        for p, state in zip(self.params, self.states):
            if p.data is array:
                state["step"] = step


class FlatParams(ParamStates):
    """``fused=True``: the parameters of one group as views into one flat array, with the rule's state arrays
    alongside. `slices[i]` locates parameter i in `data`, `grad` and every array of `state`; `steps[i]` counts
    the updates parameter i has received."""

    def __init__(self, params: list[Tensor]):
        first = params[0].data
        self.backend, self.dtype = registry.backend_of(first), first.dtype
        for i, p in enumerate(params):
            if registry.backend_of(p.data) != self.backend or p.data.dtype != self.dtype:
                raise TypeError(f"optimizer: parameter {i} of a group is a {p.data.dtype} array on "
                                f"{registry.backend_of(p.data)}, parameter 0 a {self.dtype} array on "
                                f"{self.backend}; with fused=True give parameters of other dtypes or devices "
                                f"their own group")
        self.xp = _xp(first)
        self.params = params
        self.shapes = [p.shape for p in params]
        offsets = np.cumsum([0] + [int(np.prod(s)) for s in self.shapes])
        self.slices = [slice(int(a), int(b)) for a, b in zip(offsets[:-1], offsets[1:])]
        self.data = self.xp.empty(int(offsets[-1]), dtype=self.dtype)
        self.views = []
        for p, sl, shape in zip(params, self.slices, self.shapes):
            self.data[sl] = p.data.reshape(-1)
            view = self.data[sl].reshape(shape)
            p.data = view
            self.views.append(view)
        self.grad = self.xp.empty_like(self.data)
        self.grad_views = [self.grad[sl].reshape(shape) for sl, shape in zip(self.slices, self.shapes)]
        self.state: dict[str, object] = {}
        self.steps = np.zeros(len(params), dtype=np.int64)
        self.uniform = True  # every parameter has taken the same number of steps

    def synced(self) -> "FlatParams":
        """Re-attach parameters whose `.data` was rebound since the last step (returns a rebuilt buffer
        when one moved to another device or dtype, with the state moved alongside)."""
        for i, (p, view) in enumerate(zip(self.params, self.views)):
            if p.data is view:
                continue
            new = p.data
            if new.shape != self.shapes[i]:
                raise ValueError(f"optimizer: parameter {i} changed shape from {self.shapes[i]} to {new.shape}; "
                                 f"build a new optimizer for the new parameters")
            if registry.backend_of(new) != self.backend or new.dtype != self.dtype:
                return self._rebuilt()
            view[...] = new
            p.data = view
        return self

    def _rebuilt(self) -> "FlatParams":
        for p, view in zip(self.params, self.views):  # parameters not moved yet follow the first one
            if p.data is view:
                p.data = view.copy()
        fresh = FlatParams(self.params)
        for name, array in self.state.items():
            moved = fresh.xp.asarray(_to_numpy(array)) if fresh.backend != self.backend else array
            fresh.state[name] = moved.astype(fresh.dtype)
        fresh.steps, fresh.uniform = self.steps.copy(), self.uniform
        return fresh

    def state_array(self, name: str, fill: float = 0.0):
        """The flat state array `name`, created (filled with `fill`) the first time it is asked for."""
        array = self.state.get(name)
        if array is None:
            array = self.state[name] = self.xp.full(self.data.shape, fill, dtype=self.dtype)
        return array

    def units(self, grads: list, names: tuple, fill, maximize: bool) -> list:
        """The whole group as one unit (the flat arrays) when every parameter has a gradient and all have taken
        the same number of steps; else one unit per parameter with a gradient, on slices of the flat arrays."""
        state = self.state
        for name in names:
            if name not in state:
                self.state_array(name, fill(name))
        if self.uniform and not any([g is None for g in grads]):
            kernels.gather_into(self.grad, self.grad_views, grads)  # the gradients into the flat buffer
            if maximize:  # gradient ascent: follow +∂J/∂θ
                self.xp.negative(self.grad, out=self.grad)
            step = int(self.steps[0]) + 1
            self.steps.fill(step)
            return [(self.data, self.grad, state, step)]
        out = []
        for i, g in enumerate(grads):
            if g is None:
                continue
            sl = self.slices[i]
            self.steps[i] += 1
            out.append((self.data[sl], -g.reshape(-1) if maximize else g.reshape(-1).copy(),
                        {name: array[sl] for name, array in state.items()}, int(self.steps[i])))
        self.uniform = bool(self.steps.min() == self.steps.max())
        return out

    def entry(self, i: int) -> dict | None:
        if not self.steps[i]:
            return None
        sl, shape = self.slices[i], self.shapes[i]
        return {"step": int(self.steps[i]), **{name: array[sl].reshape(shape) for name, array in self.state.items()}}

    def clear(self, fill) -> None:
        for name, array in self.state.items():
            array[...] = fill(name)
        self.steps[:] = 0
        self.uniform = True

    def load(self, i: int, step: int, arrays: dict, fill) -> None:
        self.steps[i] = step
        for name, value in arrays.items():
            self.state_array(name, fill(name))[self.slices[i]] = self.xp.asarray(value.reshape(-1))
        self.uniform = bool(self.steps.min() == self.steps.max())

    def set_step(self, array, step: int) -> None:
        if array is self.data:
            self.steps[:] = step


class Optimizer:
    """Base class: param groups, `step`, `zero_grad`, `state_dict`/`load_state_dict` (PyTorch's layout)."""

    counts_steps = True  # "step" is part of each parameter's saved state (SGD has none, as in PyTorch)

    def __init__(self, params, defaults: dict, fused: bool = False):
        self.defaults = dict(defaults)
        self.fused = bool(fused)
        self.param_groups: list[dict] = []
        self._groups: list[ParamStates] = []  # per group: its parameters and their state (FlatParams if fused)
        if isinstance(params, Tensor):
            raise TypeError("optimizer: params must be an iterable of Tensors or of dicts, got a single Tensor; "
                            "write [param] or model.parameters()")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -- what subclasses define -------------------------------------------------------------------------
    def _state_names(self, group: dict) -> tuple[str, ...]:
        """The per-parameter state arrays this rule keeps for `group` (e.g. ("exp_avg", "exp_avg_sq"))."""
        return ()

    def _state_fill(self, name: str, group: dict) -> float:
        """The value a state array starts from (0; Adagrad's sum starts at initial_accumulator_value)."""
        return 0.0

    def _update(self, param, grad, state: dict, step: int, group: dict) -> None:
        """The rule: update the array `param` in place from its gradient `grad` (read only) and its state arrays
        (updated in place); `step` counts this update (1 for the first)."""
        raise NotImplementedError

    def _fused_update(self, param, grad, state: dict, step: int, group: dict) -> None:
        """The rule on a group's flat arrays (``fused=True``): `_update` itself, unless a kernel does it in one
        call (Adam, SGD); `grad` is then a scratch array the kernel may overwrite."""
        self._update(param, grad, state, step, group)

    # -- groups -----------------------------------------------------------------------------------------
    def add_param_group(self, group: dict) -> None:
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer: parameter {i} of a group is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(f"optimizer: parameter {i} (shape {p.shape}) is not a leaf tensor; optimize "
                                 f"the tensors you created, not results computed from them")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError("optimizer: some parameters appear more than once (in this group or another)")
        if not params:
            raise ValueError("optimizer: a parameter group has no parameters")
        group = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}, "params": params}
        self._groups.append(FlatParams(params) if self.fused else ParamStates(params))
        self.param_groups.append(group)

    @property
    def state(self) -> dict:
        """``state[p]``: parameter p's state as arrays (writing to them changes the optimizer)."""
        out = {}
        for holder in self._groups:
            holder = holder.synced()
            for i, p in enumerate(holder.params):
                entry = holder.entry(i)
                if entry is not None:
                    out[p] = entry if self.counts_steps else {k: v for k, v in entry.items() if k != "step"}
        return out

    # -- the step ---------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (backward *adds* into `.grad`, so each step starts from None)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._make(p.grad.data * 0, None)

    def step(self, closure=None):
        """One update of every parameter that has a gradient. `closure` (optional) re-evaluates the loss,
        calls backward and returns the loss, which `step` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for index in range(len(self.param_groups)):
            self._step_group(index)
        return loss

    def _step_group(self, index: int, grads: list | None = None) -> None:
        """Update group `index` from `grads` (arrays, one per parameter, None to skip one; the parameters'
        `.grad` by default): the rule once per parameter, or once on the flat arrays with ``fused=True``."""
        group = self.param_groups[index]
        holder = self._groups[index] = self._groups[index].synced()
        if grads is None:
            grads = [None if p.grad is None else p.grad.data for p in holder.params]
        update = self._fused_update if self.fused else self._update
        units = holder.units(grads, self._state_names(group), lambda name: self._state_fill(name, group),
                             group.get("maximize", False))
        for param, grad, state, step in units:
            update(param, grad, state, step, group)

    def update_arrays(self, param, grad, state: dict, step: int = 1, group: int = 0) -> None:
        """The rule once on arrays the optimizer does not hold: `param` updated in place from `grad` with the
        state arrays `state` (updated in place), under the settings of param group `group`. A3C's workers apply
        their gradients to the parameters and statistics they share this way (`minirl.algos.a3c`)."""
        self._fused_update(param, grad, state, step, self.param_groups[group])

    # -- saving and resuming ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {"step", <state arrays>}}, "param_groups": [{hyper-parameters, "params":
        [indices]}]}`` with NumPy copies, laid out and keyed as PyTorch's (indices count parameters across
        groups in order), so a PyTorch optimizer state converted to NumPy loads here and vice versa."""
        state, groups, index = {}, [], 0
        for group, holder in zip(self.param_groups, self._groups):
            holder = holder.synced()
            indices = []
            for i in range(len(holder.params)):
                entry = holder.entry(i)
                if entry is not None:
                    saved = {"step": float(entry["step"])} if self.counts_steps else {}
                    shape = holder.params[i].shape
                    for name, array in entry.items():
                        if name != "step":
                            saved[name] = _to_numpy(array).reshape(shape).copy()
                    if saved:
                        state[index] = saved
                indices.append(index)
                index += 1
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**saved, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict` (from an optimizer over parameters of
        the same shapes, in the same order); the continued trajectory is the one the saved run would take."""
        missing = [key for key in ("state", "param_groups") if key not in state_dict]
        if missing:
            raise ValueError(f"load_state_dict: the saved optimizer state lacks {' and '.join(map(repr, missing))}; "
                             f"expected a dict with 'state' and 'param_groups', as state_dict() returns, got keys "
                             f"{sorted(map(str, state_dict))}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the saved state has {len(saved_groups)} parameter groups, this "
                             f"optimizer {len(self.param_groups)}")
        states = {int(k): v for k, v in state_dict["state"].items()}
        for index, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: group {index} has {len(group['params'])} parameters, the "
                                 f"saved group {len(saved['params'])}")
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            holder = self._groups[index] = self._groups[index].synced()
            fill = functools.partial(self._state_fill, group=group)
            holder.clear(fill)
            for i, key in enumerate(saved["params"]):
                entry = states.get(int(key), {})
                shape = holder.params[i].shape
                arrays = {}
                for name, value in entry.items():
                    if name == "step":
                        continue
                    value = np.asarray(_to_numpy(value) if hasattr(value, "get") else value)
                    if value.shape != shape:
                        raise ValueError(f"load_state_dict: state {name!r} of parameter {i} in group {index} "
                                         f"has shape {value.shape}, the parameter {shape}")
                    arrays[name] = value
                step = int(float(entry["step"])) if "step" in entry else (1 if entry else 0)
                holder.load(i, step, arrays, fill)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(getattr(self, "param_groups", [])):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def check_non_negative(**values) -> None:
    """Raise a ValueError naming the first hyper-parameter that is negative or not a finite number (NaN and
    infinity included: a NaN learning rate would silently turn every parameter into NaN)."""
    for name, value in values.items():
        if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and value >= 0):
            raise ValueError(f"invalid {name}: {value!r} (expected a finite number ≥ 0)")
