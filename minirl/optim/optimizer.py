"""`Optimizer`: the base class of every update rule (book §1.6: θ ← θ − α·(something built from ∂L/∂θ)).

An optimizer holds *parameter groups*, as PyTorch's does: a list of dicts, each with its "params" and its own
hyper-parameters ("lr", ...), so that a learning-rate scheduler, or an agent, can change ``group["lr"]``
between steps and a network can train its parts at different rates:

    opt = Adam([{"params": actor.parameters()}, {"params": critic.parameters(), "lr": 1e-3}], lr=3e-4)
    loss.backward(); opt.step(); opt.zero_grad()

Flat buffers (why, and what it means for you). Each group keeps its parameters as *views* into one contiguous
array, and every state array of the rule (Adam's m and v, a momentum buffer) as one array of the same length.
A step then gathers the gradients into one flat array (`kernels.gather_into`: one launch on the GPU) and calls
the update kernel (`kernels.adam`, `kernels.sgd`, ...) once for the whole group instead of once per parameter:
RL networks have few, small weight matrices, and per-call overhead, not arithmetic, dominates their update. It
also lets a GPU kernel update everything in one launch. Consequences:

- after ``Optimizer(params)``, ``p.data`` is a view into the group's buffer; in-place writes (``p.data[...] =``,
  `Module.load_state_dict`) keep it so. Code that *rebinds* ``p.data`` (`Module.to`, a manual copy) is fine
  too: the next `step` copies the new values into the buffer and re-attaches the view.
- parameters whose gradient is None are skipped (PyTorch's rule); on such steps, or when parameters have
  taken different numbers of steps, the kernel is called per parameter on slices of the same buffers.
- all parameters of one group must share a dtype and a device (put others in their own group).

Subclasses say which state arrays they keep (`_state_names`) and how one step updates a parameter vector
(`_update(param, grad, state, step, group)` on arrays, in place); the base class does the rest.
"""

from __future__ import annotations

import copy

import numpy as np

import kernels
from autodiff import Tensor
from autodiff.grad_mode import enable_grad
from kernels import registry


def _xp(array):
    return np if registry.backend_of(array) == "numpy" else registry.load_cupy()


def _to_numpy(array) -> np.ndarray:
    return array if isinstance(array, np.ndarray) else array.get()


class FlatParams:
    """The parameters of one group as views into one flat array, with the rule's state arrays alongside.

    `slices[i]` locates parameter i in `data`, `grad` and every array of `state`; `steps[i]` counts the
    updates parameter i has received (PyTorch keeps a step per parameter too)."""

    def __init__(self, params: list[Tensor]):
        first = params[0].data
        self.backend, self.dtype = registry.backend_of(first), first.dtype
        for i, p in enumerate(params):
            if registry.backend_of(p.data) != self.backend or p.data.dtype != self.dtype:
                raise TypeError(f"optimizer: parameter {i} of a group is a {p.data.dtype} array on "
                                f"{registry.backend_of(p.data)}, parameter 0 a {self.dtype} array on "
                                f"{self.backend}; give parameters of other dtypes or devices their own group")
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


class Optimizer:
    """Base class: param groups, `step`, `zero_grad`, `state_dict`/`load_state_dict` (PyTorch's layout)."""

    counts_steps = True  # "step" is part of each parameter's saved state (SGD has none, as in PyTorch)

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self._flats: list[FlatParams] = []
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
        """Update the flat array `param` in place from the gradient `grad` (a scratch array the rule may
        overwrite) and the state arrays (updated in place); `step` counts this update (1 for the first)."""
        raise NotImplementedError

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
        self.param_groups.append(group)
        self._flats.append(FlatParams(params))

    @property
    def state(self) -> dict:
        """``state[p]``: parameter p's state as arrays (views: writing to them changes the optimizer)."""
        out = {}
        for flat in self._flats:
            for i, p in enumerate(flat.params):
                if flat.steps[i]:
                    sl, shape = flat.slices[i], flat.shapes[i]
                    entry = {"step": int(flat.steps[i])} if self.counts_steps else {}
                    entry.update({name: array[sl].reshape(shape) for name, array in flat.state.items()})
                    out[p] = entry
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
        `.grad` by default): one kernel call on the flat buffers when every parameter takes part."""
        group = self.param_groups[index]
        flat = self._flats[index] = self._flats[index].synced()
        if grads is None:
            grads = [None if p.grad is None else p.grad.data for p in flat.params]
        state = flat.state
        for name in self._state_names(group):
            if name not in state:
                flat.state_array(name, self._state_fill(name, group))
        maximize = group.get("maximize", False)
        if flat.uniform and not any([g is None for g in grads]):
            kernels.gather_into(flat.grad, flat.grad_views, grads)  # the gradients into the flat buffer
            if maximize:  # gradient ascent: follow +∂J/∂θ
                flat.xp.negative(flat.grad, out=flat.grad)
            step = int(flat.steps[0]) + 1
            flat.steps.fill(step)
            self._update(flat.data, flat.grad, state, step, group)
            return
        for i, g in enumerate(grads):
            if g is None:
                continue
            sl = flat.slices[i]
            g = -g.reshape(-1) if maximize else g.reshape(-1).copy()
            flat.steps[i] += 1
            self._update(flat.data[sl], g, {name: array[sl] for name, array in state.items()}, int(flat.steps[i]),
                         group)
        flat.uniform = bool(flat.steps.min() == flat.steps.max())

    # -- saving and resuming ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: {"step", <state arrays>}}, "param_groups": [{hyper-parameters, "params":
        [indices]}]}`` with NumPy copies, laid out and keyed as PyTorch's (indices count parameters across
        groups in order), so a PyTorch optimizer state converted to NumPy loads here and vice versa."""
        state, groups, index = {}, [], 0
        for group, flat in zip(self.param_groups, self._flats):
            flat = flat.synced()
            indices = []
            for i in range(len(flat.params)):
                if flat.steps[i]:
                    sl, shape = flat.slices[i], flat.shapes[i]
                    entry = {"step": float(flat.steps[i])} if self.counts_steps else {}
                    for name, array in flat.state.items():
                        entry[name] = _to_numpy(array[sl]).reshape(shape).copy()
                    if entry:
                        state[index] = entry
                indices.append(index)
                index += 1
            saved = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            groups.append({**saved, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by `state_dict` (from an optimizer over parameters of
        the same shapes, in the same order); the continued trajectory is the one the saved run would take."""
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
            flat = self._flats[index] = self._flats[index].synced()
            for name in flat.state:
                flat.state[name][...] = self._state_fill(name, group)
            for i, key in enumerate(saved["params"]):
                entry = states.get(int(key), {})
                sl, shape = flat.slices[i], flat.shapes[i]
                flat.steps[i] = int(float(entry["step"])) if "step" in entry else (1 if entry else 0)
                for name, value in entry.items():
                    if name == "step":
                        continue
                    value = np.asarray(_to_numpy(value) if hasattr(value, "get") else value)
                    if value.shape != shape:
                        raise ValueError(f"load_state_dict: state {name!r} of parameter {i} in group {index} "
                                         f"has shape {value.shape}, the parameter {shape}")
                    flat.state_array(name, self._state_fill(name, group))[sl] = flat.xp.asarray(value.reshape(-1))
            flat.uniform = bool(flat.steps.min() == flat.steps.max())

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(getattr(self, "param_groups", [])):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def check_non_negative(**values) -> None:
    """Raise a ValueError naming the first hyper-parameter that is negative."""
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"invalid {name}: {value} (expected ≥ 0)")
