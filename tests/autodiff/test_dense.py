"""Dense layers: `linear` and `dense_stack` (backpropagation's recursion as one node, book §1.6.1): values
against NumPy, gradients and second derivatives against finite differences, and the stack equal to the same
layers composed op by op (relu included, whose kink finite differences cannot straddle)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from autodiff_strategies import Case, arrays, check_op, make_leaf, with_layouts

NUMPY = {None: lambda z: z, "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0)}
OPS = {None: lambda t: t, "tanh": ad.tanh, "sigmoid": ad.sigmoid, "relu": ad.relu}


@st.composite
def stack_case(draw):
    """1 to 3 layers of random widths, each with or without bias and with a smooth activation or none."""
    depth = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    activations = [draw(st.sampled_from([None, "tanh", "sigmoid"])) for _ in range(depth)]
    with_bias = [draw(st.booleans()) for _ in range(depth)]
    x = draw(arrays((draw(st.integers(1, 3)), widths[0])))
    params = []
    for l in range(depth):
        params.append(draw(arrays((widths[l + 1], widths[l]))))
        if with_bias[l]:
            params.append(draw(arrays((widths[l + 1],))))

    def split(values):
        """[W_1, b_1, ...] with None for the biases left out."""
        values, params = list(values), []
        for has_bias in with_bias:
            params += [values.pop(0), values.pop(0) if has_bias else None]
        return params

    def fn(x_, *values):
        return ad.dense_stack(x_, split(values), activations)

    def ref(a, *values):
        params = split(values)
        for w, b, f in zip(params[::2], params[1::2], activations):
            a = NUMPY[f](a @ w.T + (0 if b is None else b))
        return a

    return Case(fn, [x] + params, ref=ref, label=f"dense stack {widths} {activations} bias {with_bias}")


@given(data=st.data())
def test_dense_stack_values_and_gradients(data):
    check_op(data.draw(with_layouts(stack_case())))


def interleave(weights, biases):
    return [p for pair in zip(weights, biases) for p in pair]


def _layers(seed=3, widths=(4, 5, 3, 2)):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, widths[0]))
    params = [(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)) for n_in, n_out in zip(widths, widths[1:])]
    return x, params


@pytest.mark.parametrize("activations", [("tanh", "relu", None), ("relu", "sigmoid", "tanh"), (None, None, "relu")])
def test_dense_stack_is_one_node_equal_to_the_layers_op_by_op(activations):
    x_values, params = _layers()
    results = []
    for stacked in (True, False):
        x = make_leaf(x_values)
        weights = [make_leaf(w) for w, _ in params]
        biases = [make_leaf(b) for _, b in params]
        if stacked:
            out = ad.dense_stack(x, interleave(weights, biases), activations)
            assert type(out.grad_fn).__name__ == "DenseStack"
        else:
            out = x
            for w, b, f in zip(weights, biases, activations):
                out = OPS[f](ad.linear(out, w, b))
        leaves = [x, *weights, *biases]
        loss = (out * out).sum()
        grads = ad.grad(loss, leaves, create_graph=True)
        second = ad.grad(sum((g * g).sum() for g in grads), leaves)  # through the backward pass
        results.append([out.data] + [g.data for g in grads] + [g.data for g in second])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_dense_stack_computes_only_the_gradients_asked_for():
    x_values, params = _layers()
    x = ad.tensor(x_values)  # a constant input: no ∂L/∂x, and the first layer's δ W is never formed
    weights = [make_leaf(w) for w, _ in params]
    biases = [ad.tensor(b) for _, b in params]  # constants too
    ad.dense_stack(x, interleave(weights, biases), ["tanh", "tanh", None]).sum().backward()
    assert all(w.grad is not None for w in weights) and all(b.grad is None for b in biases)


def test_dense_stack_falls_back_to_layer_by_layer_where_one_node_does_not_fit():
    x_values, params = _layers()
    weights = [make_leaf(w) for w, _ in params]
    biases = [make_leaf(b) for _, b in params]
    x3 = make_leaf(np.stack([x_values, x_values]))  # 3-D input: the layers op by op, same numbers per row
    params = interleave(weights, biases)
    out = ad.dense_stack(x3, params, ["tanh", "sigmoid", None])
    assert type(out.grad_fn).__name__ != "DenseStack"
    two_d = ad.dense_stack(make_leaf(x_values), params, ["tanh", "sigmoid", None])
    np.testing.assert_allclose(out.data[1], two_d.data, rtol=1e-12)
    mixed = ad.dense_stack(make_leaf(x_values.astype(np.float32)), params, ["tanh", "sigmoid", None])
    assert type(mixed.grad_fn).__name__ != "DenseStack" and mixed.dtype == np.float64


def test_dense_stack_rejects_an_unknown_activation():
    x_values, params = _layers()
    with pytest.raises(ValueError, match=r"dense_stack: activation must be one of None, 'tanh', 'relu', "
                                         r"'sigmoid', got 'softmax'"):
        ad.dense_stack(make_leaf(x_values), interleave([make_leaf(w) for w, _ in params], [None] * 3), ["softmax"] * 3)
    with pytest.raises(ValueError, match=r"dense_stack: 3 activations need 6 params \(W_1, b_1, ...\), got 3"):
        ad.dense_stack(make_leaf(x_values), [make_leaf(w) for w, _ in params], ["tanh"] * 3)
