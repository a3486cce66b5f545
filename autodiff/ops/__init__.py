"""The differentiable ops, one file per family: together they are the chain-rule table of book ch. 1.6.1.

    arithmetic.py    + − × ÷ ** and the matrix product
    elementwise.py   exp, log, sqrt, abs, the activations tanh / sigmoid / ReLU, softplus, clip, max, min, where
    reduction.py     sum, mean, var, max/min, logsumexp, and the softmax family
    shape.py         reshape, transpose, broadcasting, indexing, concatenate, stack, device moves
    dense.py         a dense layer, and a stack of them as one node (backpropagation's δ recursion)

Each op is a `Function` (autodiff/function.py says how forward and backward are written). A backward rule is
its derivative in array algebra, on arrays when differentiating once and on Tensors (recorded, so it can be
differentiated again) when ``create_graph=True``.
"""

from autodiff.ops import arithmetic, dense, elementwise, reduction, shape  # noqa: F401
