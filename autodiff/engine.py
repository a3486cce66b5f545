"""Reverse-mode differentiation: walk the graph from the output back to the leaves (book ch. 1.6.1).

The walk is iterative, so a chain of 100,000 ops needs no recursion: a heap hands out nodes in decreasing
order of creation, and since every node is created after the nodes it consumes, each node runs once, after
every node that feeds gradient into it (so diamonds and fan-out are summed first). Intermediate gradients are
dropped as soon as they are used; leaves accumulate into `.grad`.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

import numpy as np

from autodiff.function import GraphFreedError, _check_finite
from autodiff.grad_mode import state
from autodiff.tensor import Tensor, wrap_array

_make = Tensor._make


def _seed(t: Tensor, g, create_graph: bool):
    if g is None:
        if t.data.size != 1:
            raise RuntimeError(f"backward: the gradient can be implied only for one-element outputs, got shape "
                               f"{t.shape}; pass grad= (∂L/∂output) of that shape")
        g = np.empty_like(t.data)  # (CuPy's for a CuPy array)
        g.fill(1)  # not t.data * 0 + 1: an inf or NaN output still gets the seed 1
    else:
        g = g.data if isinstance(g, Tensor) else wrap_array(g)
        if g.shape != t.shape:
            raise ValueError(f"backward: grad has shape {g.shape} but the output has shape {t.shape}")
        g = g.astype(t.dtype)  # a copy: leaves' .grad must never alias the caller's array
    return Tensor._make(g, None) if create_graph else g


def _freed(node):
    raise GraphFreedError(
        f"backward: trying to go through the graph a second time (at a {node.name} node): its saved arrays "
        f"were freed by the first backward; pass retain_graph=True to the first call")


_UNSEEN = object()  # marks a node the walk has not reached yet


def _run_hooks(hooks, g, create_graph):
    for hook in hooks:
        replaced = hook(g if create_graph else Tensor._make(wrap_array(g), None))
        if replaced is not None:
            replaced = replaced if isinstance(replaced, Tensor) else Tensor._make(wrap_array(replaced), None)
            if replaced.shape != g.shape:
                raise ValueError(f"hook returned a gradient of shape {replaced.shape}, expected {g.shape}")
            g = replaced if create_graph else replaced.data
    return g


def backward(outputs, grad_outputs, retain_graph=None, create_graph=False, inputs=None, allow_unused=False):
    """Backpropagate from `outputs`. With `inputs` None, accumulate into leaves' `.grad`; otherwise return
    the gradients with respect to `inputs` (a list, None for an unused input when `allow_unused`)."""
    if retain_graph is None:
        retain_graph = create_graph
    targets = {id(t): i for i, t in enumerate(inputs)} if inputs is not None else None
    captured = [None] * len(inputs) if inputs is not None else None
    leaf_grads = {}  # leaf with hooks -> its summed gradient (hooks see the total, at the end)
    given = set()  # ids of the arrays stored as leaves' .grad by this call
    # node -> the summed gradient of its output so far (None: reached, but no gradient arrived yet). A node
    # enters this table, and the heap, when the walk first reaches it
    grads = {}
    for t, g in zip(outputs, grad_outputs):
        if not t._requires_grad:
            raise RuntimeError(f"backward: the output (shape {t.shape}) does not require grad; "
                               f"no input that requires grad was used to compute it")
        g = _seed(t, g, create_graph)
        if t._node is None:
            _deliver(t, g, targets, captured, leaf_grads)
        else:
            old = grads.get(t._node)
            grads[t._node] = g if old is None else old + g
    # target tensors that are not leaves receive the total gradient of the node that made them
    target_nodes = {t._node: t for t in inputs if t._node is not None} if inputs is not None else None
    # every node is created after the nodes it consumes, so taking nodes in decreasing creation order visits
    # each one after all of its consumers: its gradient is complete when it is popped
    heap = [(-node.seq, node) for node in grads]
    heapify(heap)
    anomaly = state.anomaly
    saved = state.grad_enabled, state.recording_backward
    state.grad_enabled = state.recording_backward = create_graph  # record the backward pass only if asked
    try:
        while heap:
            node = heappop(heap)[1]
            if node.freed:
                _freed(node)
            node_inputs = node.inputs
            g = grads.pop(node)
            if g is None:  # no gradient reached this node: visit it anyway, so that its inputs are freed too
                results = (None,) * len(node_inputs)
            else:
                if node.hooks:
                    g = _run_hooks(node.hooks, g, create_graph)
                if target_nodes and node in target_nodes:
                    captured[targets[id(target_nodes[node])]] = g
                results = node.backward(g)
                if type(results) is not tuple:
                    results = (results,)
                if len(results) != len(node_inputs):
                    raise RuntimeError(f"{node.name}: backward returned {len(results)} gradients for "
                                       f"{len(node_inputs)} inputs")
            for x, need, gx in zip(node_inputs, node.needs, results):
                if not need:
                    continue
                parent = x._node
                if gx is not None:
                    data = x.data
                    if gx.shape != data.shape or (gx.dtype is not data.dtype and gx.dtype != data.dtype):
                        _wrong_gradient(node, gx, data)
                    if anomaly:
                        _check_finite(type(node), "backward", gx, [g])
                    if parent is None:  # a leaf
                        if targets is None and not x._hooks:
                            _accumulate_grad(x, gx, create_graph, given)
                        else:
                            _deliver(x, gx, targets, captured, leaf_grads)
                        continue
                elif parent is None:
                    continue
                old = grads.get(parent, _UNSEEN)
                if old is _UNSEEN:  # first reached: queue it
                    grads[parent] = gx
                    heappush(heap, (-parent.seq, parent))
                elif gx is not None:
                    grads[parent] = gx if old is None else old + gx
            if not retain_graph:
                node.release()
        if targets is None:
            for leaf, g in leaf_grads.items():
                if leaf._hooks:
                    g = _run_hooks(leaf._hooks, g, create_graph)
                _accumulate_grad(leaf, g, create_graph, given)
            return None
    finally:
        state.grad_enabled, state.recording_backward = saved
    for i, t in enumerate(inputs):
        if captured[i] is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               f"pass allow_unused=True to get None for it")
    if create_graph:
        return captured
    return [None if g is None else Tensor._make(wrap_array(g), None) for g in captured]


def _wrong_gradient(node, gx, data):
    raise RuntimeError(f"{node.name}: backward produced a gradient of shape {tuple(gx.shape)} and dtype {gx.dtype} "
                       f"for an input of shape {data.shape} and dtype {data.dtype}")


def _deliver(leaf, g, targets, captured, leaf_grads):
    if targets is None:
        old = leaf_grads.get(leaf)
        leaf_grads[leaf] = g if old is None else old + g
    elif id(leaf) in targets:
        i = targets[id(leaf)]
        captured[i] = g if captured[i] is None else captured[i] + g


def _accumulate_grad(leaf, g, create_graph, given):
    """leaf.grad += g. The array stored is one that nothing else holds: a view, an array already given to
    another leaf (a + b hands g to both) or a read-only one is copied first."""
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    old = leaf.grad
    if old is not None:
        g = old.data + g
    elif g.base is not None or id(g) in given or not getattr(g.flags, "writeable", True):  # CuPy: no flag
        g = g.copy()
    if type(g) is not np.ndarray:
        g = wrap_array(g)  # NumPy turns 0-d results into scalars: a gradient is always an array
    given.add(id(g))
    leaf.grad = _make(g, None)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned (not accumulated into `.grad`).

    With ``create_graph=True`` the returned gradients are themselves differentiable: a Hessian-vector
    product is ``grad((grad(f, x, create_graph=True)[0] * v).sum(), x)``.
    """
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or hasattr(grad_outputs, "shape"):
        grad_outputs = [grad_outputs]
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    return backward(outputs, list(grad_outputs), retain_graph, create_graph, inputs=inputs,
                    allow_unused=allow_unused)
