"""`Sequential` records a node per module; `DenseStack` computes the same layers as one node, with the same values,
gradients and second derivatives (book §1.6.1), and the same numbers again as kernels on arrays (`infer`)."""

from collections import Counter

import numpy as np
import pytest

import autodiff as ad
import minirl.nn as nn
from minirl.nn import DenseStack, Sequential


def node_names(tensor) -> Counter:
    """How many nodes of each op the graph that made `tensor` holds (walking node.inputs back to the leaves)."""
    names, seen, stack = Counter(), set(), [tensor._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names[node.name] += 1
        stack += [x._node for x in node.inputs if isinstance(x, ad.Tensor)]
    return names


def layers(activation, rng, dtype=np.float64):
    """Three dense layers: with an activation, without one, with one again and no bias."""
    return [nn.Linear(3, 5, rng=rng, dtype=dtype), activation(), nn.Linear(5, 4, rng=rng, dtype=dtype),
            nn.Linear(4, 2, bias=False, rng=rng, dtype=dtype), activation()]


def test_sequential_records_one_node_per_layer_and_activation():
    rng = np.random.default_rng(0)
    model = Sequential(nn.Linear(3, 5, rng=rng, dtype=np.float64), nn.Tanh(),
                       nn.Linear(5, 4, rng=rng, dtype=np.float64), nn.ReLU(),
                       nn.Linear(4, 2, rng=rng, dtype=np.float64), nn.Sigmoid())
    out = model(ad.tensor(rng.standard_normal((6, 3)), requires_grad=True))
    assert node_names(out) == Counter(linear=3, tanh=1, relu=1, sigmoid=1)
    assert node_names(DenseStack(*model)(rng.standard_normal((6, 3)))) == Counter(densestack=1)


@pytest.mark.parametrize("activation", [nn.Tanh, nn.ReLU, nn.Sigmoid])
def test_dense_stack_equals_sequential_in_values_gradients_and_second_derivatives(activation):
    rng = np.random.default_rng(1)
    children = layers(activation, rng)
    fused, visible = DenseStack(*children), Sequential(*children)  # the same Linear modules
    params = list(visible.parameters())
    x = ad.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    v = [ad.tensor(rng.standard_normal(p.shape)) for p in [x, *params]]

    def derivatives(model):
        out = model(x)
        loss = (out * out).sum()
        grads = ad.grad(loss, [x, *params], create_graph=True)
        # a Hessian-vector product: the gradient of the gradient along v
        hvp = ad.grad(sum((g * d).sum() for g, d in zip(grads, v)), [x, *params])
        return [out.numpy()] + [g.numpy() for g in grads] + [h.numpy() for h in hvp]

    fused_out = fused(x)
    assert type(fused_out.grad_fn).__name__ == "DenseStack"
    for a, b in zip(derivatives(fused), derivatives(visible)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", [nn.Tanh, nn.Sigmoid, nn.ReLU])
def test_dense_stack_passes_gradcheck_and_gradgradcheck(activation):
    rng = np.random.default_rng(2)
    stack = DenseStack(*layers(activation, rng))
    x = ad.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    inputs = (x, *stack.parameters())  # gradcheck perturbs the parameters in place, so the stack sees it

    def fn(x, *params):
        return stack(x)

    assert ad.gradcheck(fn, inputs)
    assert ad.gradgradcheck(fn, inputs)


def test_dense_stack_has_sequentials_state_dict():
    rng = np.random.default_rng(3)
    stack = DenseStack(nn.Linear(4, 8, rng=rng), nn.Tanh(), nn.Linear(8, 2, rng=rng))
    visible = Sequential(*stack)
    assert list(stack.state_dict()) == list(visible.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    other = DenseStack(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    other.load_state_dict(visible.state_dict())
    x = rng.standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(other(x).numpy(), stack(x).numpy())
    assert repr(stack).startswith("DenseStack(\n  (0): Linear(in_features=4")


def test_dense_stack_takes_only_dense_layers_and_their_activations():
    with pytest.raises(ValueError, match="DenseStack: child 1 must be a Linear layer, got Softplus"):
        DenseStack(nn.Linear(2, 2), nn.Softplus())
    with pytest.raises(ValueError, match="DenseStack: child 0 must be a Linear layer, got Tanh"):
        DenseStack(nn.Tanh())
    with pytest.raises(ValueError, match="at least one Linear layer"):
        DenseStack()


def test_dense_stack_follows_changes_of_its_children():
    stack = DenseStack(nn.Linear(2, 2), nn.Tanh())
    x = np.ones((1, 2), np.float32)
    stack[1] = nn.ReLU()
    np.testing.assert_array_equal(stack(x).numpy(), np.maximum(stack[0](x).numpy(), 0))
    stack.append(nn.Linear(2, 3))
    assert stack(x).shape == (1, 3) and stack.infer(x).shape == (1, 3)
    stack[1] = nn.Tanh()  # a child replaced keeps its place
    assert list(stack._modules) == ["0", "1", "2"]
    np.testing.assert_array_equal(stack.infer(x), stack[2](ad.tanh(stack[0](x))).numpy())
    del stack[2]
    assert stack.infer(x).shape == (1, 2)
    stack.__setattr__("0", nn.Linear(2, 5))
    assert stack.infer(x).shape == (1, 5)


def test_dense_stack_infer_with_a_head_equals_the_head_after_the_stack():
    rng = np.random.default_rng(7)
    stack, head = DenseStack(nn.Linear(4, 8, rng=rng), nn.ReLU()), nn.Linear(8, 3, rng=rng)
    for x in (rng.standard_normal((1, 4)).astype(np.float32), rng.standard_normal((6, 4)).astype(np.float32),
              rng.standard_normal((2, 4))):  # float64: the module path, then the head
        np.testing.assert_array_equal(stack.infer(x, head=head), head(stack(x.astype(np.float32))).numpy())


def test_a_hook_on_a_layer_runs_the_stack_module_by_module():
    """K-FAC watches each layer with a forward hook: the stack then runs its modules one by one, so the hook
    sees the layer's own input and output, in every mode."""
    rng = np.random.default_rng(4)
    first = nn.Linear(3, 4, rng=rng)
    stack = DenseStack(first, nn.Tanh(), nn.Linear(4, 2, rng=rng))
    x = rng.standard_normal((2, 3)).astype(np.float32)
    expected = stack(x).numpy()
    seen = []
    handle = first.register_forward_hook(lambda module, inputs, output: seen.append((inputs[0], output)))
    out = stack(x)
    assert node_names(out) == Counter(linear=2, tanh=1)
    np.testing.assert_array_equal(out.numpy(), expected)
    with ad.no_grad():
        np.testing.assert_array_equal(stack(x).numpy(), expected)
    np.testing.assert_array_equal(stack.infer(x), expected)
    assert len(seen) == 3 and all(a is x and h.shape == (2, 4) for a, h in seen)
    handle.remove()
    assert node_names(stack(x)) == Counter(densestack=1)
    with stack[1].register_forward_hook(lambda module, inputs, output: -output):  # a hook on an activation counts
        np.testing.assert_array_equal(stack(x).numpy(), stack[2](-ad.tanh(stack[0](x))).numpy())


def test_dense_stack_infer_equals_the_recorded_forward():
    rng = np.random.default_rng(5)
    stack = DenseStack(nn.Linear(4, 8, rng=rng), nn.ReLU(), nn.Linear(8, 6, rng=rng), nn.Tanh(),
                       nn.Linear(6, 2, rng=rng))
    for x in (rng.standard_normal((1, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)):
        recorded = stack(ad.tensor(x)).numpy()
        inferred = stack.infer(x)
        assert type(inferred) is np.ndarray and inferred.dtype == np.float32
        np.testing.assert_array_equal(inferred, recorded)
        np.testing.assert_array_equal(stack.infer(ad.tensor(x, requires_grad=True)), recorded)
        with ad.no_grad():
            out = stack(ad.tensor(x, requires_grad=True))
        assert out.grad_fn is None and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), recorded)


def test_dense_stack_infer_takes_the_module_path_where_the_kernel_does_not_apply():
    rng = np.random.default_rng(6)
    stack = DenseStack(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))
    x = rng.standard_normal((2, 3))
    expected = stack(x.astype(np.float32)).numpy()
    np.testing.assert_array_equal(stack.infer(x), expected)  # a float64 array is cast, as forward casts it
    np.testing.assert_allclose(stack.infer(x[0].astype(np.float32)), expected[0], rtol=1e-5, atol=1e-6)  # one row
    with ad.no_grad(), pytest.raises(TypeError, match="linear: input dtype float64 differs from weight dtype"):
        stack(ad.tensor(x))  # a Tensor of another dtype is an error, with gradients or without
    with ad.no_grad(), ad.detect_anomaly():  # anomaly detection checks every node: the recorded path runs
        np.testing.assert_array_equal(stack(x.astype(np.float32)).numpy(), expected)


@pytest.mark.parametrize("container", [nn.Sequential, DenseStack])
def test_a_layer_that_does_not_fit_is_reported_by_name_and_shapes(container):
    model = container(nn.Linear(3, 4), nn.Tanh(), nn.Linear(5, 2))
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 4\) cannot be multiplied by weight of "
                                         r"shape \(2, 5\) \(expected input \(\.\.\., 5\)\)"):
        model(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"linear: input dtype float64 differs from weight dtype float32"):
        model(ad.tensor(np.ones((2, 3))))
