"""The kernels that replace a backward rule compute the rule written in autodiff/ops.

Differentiating once, the softmax family and the dense layers run kernels (`kernels.softmax_backward`,
`kernels.dense_delta`, ...); with ``create_graph=True`` they run the formula written in their rule, as recorded
ops. So the gradient of the same graph both ways compares each kernel with its visible formula, for every
implementation the CPU has. The softmax family and the dense δ recursion give the very same bits; the dense
layers' weight and bias gradients agree to rounding (numpy_fast sums the bias gradient as a product with ones).
"""

import numpy as np
import pytest

import autodiff as ad
import kernels
from autodiff.ops.dense import ACTIVATIONS

CPU_IMPLEMENTATIONS = {op: [impl for impl in kernels.available(op) if impl.startswith("numpy")]
                       for op in ("softmax_backward", "log_softmax_backward", "dense_delta", "dense_param_grads")}


def kernel_and_rule(fn, inputs, upstream):
    """(the gradients when differentiating once: the kernels; the same with create_graph=True: the rules)."""
    once = ad.grad(fn(*inputs), inputs, grad_outputs=upstream)
    recorded = ad.grad(fn(*inputs), inputs, grad_outputs=upstream, create_graph=True)
    return [g.numpy() for g in once], [g.numpy() for g in recorded]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_family_kernels_compute_the_rule_bit_for_bit(op, axis, dtype):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((5, 7)).astype(dtype), requires_grad=True)
    upstream = ad.tensor(rng.standard_normal((5, 7)).astype(dtype))
    for impl in CPU_IMPLEMENTATIONS[f"{op}_backward"]:
        with kernels.use(**{f"{op}_backward": impl}):
            (once,), (recorded,) = kernel_and_rule(lambda t: getattr(ad, op)(t, axis=axis), [x], upstream)
        assert once.dtype == recorded.dtype == dtype
        np.testing.assert_array_equal(once, recorded, err_msg=f"{op}_backward={impl}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activations", [("tanh", None), ("relu", "relu"), ("sigmoid", "tanh"), (None, "sigmoid")])
def test_dense_kernels_compute_the_rule(activations, dtype):
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((6, 3)).astype(dtype), requires_grad=True)
    params = []
    for n_in, n_out in ((3, 5), (5, 4)):
        params += [ad.tensor(rng.standard_normal((n_out, n_in)).astype(dtype) / n_in**0.5, requires_grad=True),
                   ad.tensor(rng.standard_normal(n_out).astype(dtype), requires_grad=True)]
    upstream = ad.tensor(rng.standard_normal((6, 4)).astype(dtype))
    tolerance = 1e-6 if dtype == np.float32 else 1e-14
    for delta_impl in CPU_IMPLEMENTATIONS["dense_delta"]:
        for grads_impl in CPU_IMPLEMENTATIONS["dense_param_grads"]:
            with kernels.use(dense_delta=delta_impl, dense_param_grads=grads_impl):
                once, recorded = kernel_and_rule(lambda *ts: ad.dense_stack(ts[0], ts[1:], activations),
                                                 [x, *params], upstream)
            for a, b in zip(once, recorded):
                assert a.dtype == b.dtype == dtype
                np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance,
                                           err_msg=f"dense_delta={delta_impl}, dense_param_grads={grads_impl}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, *ACTIVATIONS])
def test_dense_delta_is_the_activation_rule_times_the_product_bit_for_bit(activation, dtype):
    """δ_{l−1} = f'(z) ⊙ δ_l W_l: each kernel computes exactly `<Op>.chain(δ_l W_l, y)` of autodiff's Tanh, Relu
    and Sigmoid ops, the line their own backward rules run."""
    rng = np.random.default_rng(2)
    delta, weight = rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)
    y = np.tanh(rng.standard_normal((6, 5))).astype(dtype)
    if activation == "sigmoid":
        y = (y + 1) / 2
    product = np.matmul(delta, weight)
    expected = product if activation is None else ACTIVATIONS[activation].chain(product, y)
    for impl in CPU_IMPLEMENTATIONS["dense_delta"]:
        got = kernels.get("dense_delta", impl)(delta, weight, y if activation else None, activation)
        np.testing.assert_array_equal(got, expected, err_msg=f"dense_delta={impl}")


@pytest.mark.parametrize("activation", [None, *ACTIVATIONS])
def test_dense_forward_is_the_activation_op_of_the_affine_map(activation):
    rng = np.random.default_rng(3)
    h, weight, bias = rng.standard_normal((6, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    z = h @ weight.T + bias
    expected = z if activation is None else getattr(ad, activation)(ad.tensor(z)).numpy()
    for impl in kernels.available("dense_forward"):
        if impl.startswith("numpy"):
            np.testing.assert_array_equal(kernels.get("dense_forward", impl)(h, weight, bias, activation), expected)
