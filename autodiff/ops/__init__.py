"""The differentiable ops, one file per family, and the two vocabularies backward rules are written in.

A backward rule calls ``self.ops.sum_to(...)``, ``self.ops.exp(...)``, ...: on arrays these are NumPy's
(or CuPy's) functions and the kernels; under ``create_graph=True`` they are the differentiable functions of
autodiff, so the same rule records its own graph.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

import kernels
from autodiff import function
from autodiff.ops import arithmetic, dense, elementwise, reduction, shape  # noqa: F401


def array_namespace(xp):
    return SimpleNamespace(
        sum_to=shape.array_sum_to,
        broadcast_to=xp.broadcast_to,
        where=xp.where,
        exp=xp.exp,
        log=xp.log,
        sigmoid=kernels.sigmoid,
        mT=lambda a: a.swapaxes(-1, -2),
        index_add=shape.array_index_add,
        put_along_axis_add=shape.array_put_along_axis_add,
        take_along_axis=lambda a, indices, axis: xp.take_along_axis(a, indices, axis=axis),
        softmax_backward=kernels.softmax_backward,
        log_softmax_backward=kernels.log_softmax_backward,
        tanh_backward=kernels.tanh_backward,
        sigmoid_backward=kernels.sigmoid_backward,
        relu_backward=kernels.relu_backward,
        matmul=kernels.matmul,
        dense_delta=kernels.dense_delta,
        dense_param_grads=kernels.dense_param_grads,
        to_device=shape.move_array,
    )


def tensor_namespace():
    import autodiff as ad

    namespace = SimpleNamespace(
        sum_to=shape.sum_to,
        broadcast_to=shape.broadcast_to,
        where=ad.where,
        exp=ad.exp,
        log=ad.log,
        sigmoid=ad.sigmoid,
        mT=lambda a: a.swapaxes(-1, -2),
        index_add=lambda g, index, shape_, basic: shape.IndexAdd.apply(g, index=index, shape=shape_, basic=basic),
        put_along_axis_add=lambda g, indices, axis, shape_: shape.PutAlongAxisAdd.apply(
            g, indices=indices, axis=axis, shape=shape_),
        take_along_axis=lambda g, indices, axis: shape.TakeAlongAxis.apply(g, indices=indices, axis=axis),
        softmax_backward=reduction.softmax_backward,
        log_softmax_backward=reduction.log_softmax_backward,
        # the same derivatives written with differentiable ops, for gradients of gradients
        tanh_backward=lambda g, y: g * (1 - y * y),
        sigmoid_backward=lambda g, y: g * y * (1 - y),
        relu_backward=lambda g, y: g * (y.data > 0),
        matmul=ad.matmul,
        dense_param_grads=lambda delta, h, weight, bias: (ad.matmul(delta.T, h) if weight else None,
                                                          delta.sum(axis=0) if bias else None),
        to_device=lambda g, device: g.to(device),
    )

    def dense_delta(delta, weight, y, activation):  # δ W ⊙ f'(y), written with the derivatives above
        g = ad.matmul(delta, weight)
        return g if activation is None else getattr(namespace, f"{activation}_backward")(g, y)

    namespace.dense_delta = dense_delta
    return namespace


class _LazyCupyNamespace(dict):
    def __missing__(self, key):
        if key != "cupy":
            raise KeyError(key)
        from kernels import registry

        self[key] = array_namespace(registry.load_cupy())
        return self[key]


function._namespaces = _LazyCupyNamespace(numpy=array_namespace(np))
