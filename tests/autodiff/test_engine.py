"""The backward pass itself: accumulation (fan-out, diamonds, repeated backward), what is kept and what is freed,
deep graphs, hooks, no_grad / detach, the seed gradient, and detect_anomaly."""

import gc
import sys
import weakref

import numpy as np
import pytest

import autodiff as ad
from autodiff.grad_mode import state


def leaf(values, dtype=np.float64):
    return ad.tensor(np.array(values, dtype=dtype), requires_grad=True)


# -- accumulation ----------------------------------------------------------------------------------------
def test_fan_out_sums_the_gradients_of_every_use():
    x = leaf([1.0, 2.0])
    y = x * x + 3 * x + x.exp()  # x is used four times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3 + np.exp(x.data))


def test_diamond_visits_the_shared_node_once_with_the_summed_gradient():
    x = leaf([0.5, -1.0])
    a = x.exp()
    calls = []
    a.register_hook(lambda g: calls.append(g.data.copy()))
    d = a * 2 + a * 3  # two paths from a to d
    d.sum().backward()
    np.testing.assert_allclose(x.grad.data, 5 * np.exp(x.data))
    assert len(calls) == 1  # a's node ran once, with the total gradient 5
    np.testing.assert_array_equal(calls[0], [5.0, 5.0])


def test_two_backward_calls_with_retain_graph_double_leaf_gradients():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    loss = (ad.tanh(x * w) * x).sum()
    loss.backward(retain_graph=True)
    first_x, first_w = x.grad.data.copy(), w.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first_x)
    np.testing.assert_allclose(w.grad.data, 2 * first_w)


def test_backward_accumulates_into_existing_grad_and_leaves_can_be_zeroed():
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_leaves_that_receive_the_same_array_get_their_own_copies():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    upstream = np.array([1.0, 1.0])
    (a + b).backward(upstream)  # add hands the same gradient array to both
    assert not np.shares_memory(a.grad.data, b.grad.data)
    assert not np.shares_memory(a.grad.data, upstream) and not np.shares_memory(b.grad.data, upstream)
    a.grad.data[...] = 0.0  # e.g. an optimizer zeroing gradients in place
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(upstream, [1.0, 1.0])


def test_gradient_of_a_broadcast_is_a_writable_array_of_its_own():
    x = leaf(2.0)
    ad.broadcast_to(x, (3, 4)).sum().backward()
    assert type(x.grad.data) is np.ndarray and x.grad.shape == () and x.grad.item() == 12.0
    y = leaf([1.0, 2.0])
    (y.reshape(2, 1) * 1.0).sum().backward()
    assert y.grad.data.flags.writeable and y.grad.data.base is None


def test_backward_of_a_leaf_itself():
    x = leaf(3.0)
    x.backward()
    assert type(x.grad.data) is np.ndarray and x.grad.item() == 1.0


def test_seed_gradient_is_one_even_for_an_infinite_output():
    x = leaf([1000.0])
    with np.errstate(over="ignore"):
        y = x.exp().sum()
    assert y.item() == np.inf
    y.backward()
    assert x.grad.data[0] == np.inf  # 1 · e^1000, not (inf · 0 + 1) · ... = NaN


# -- what is kept, what is freed ------------------------------------------------------------------------------
def test_intermediate_tensors_keep_no_gradient():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = h.exp()
    y.sum().backward()
    assert h.grad is None and y.grad is None
    assert x.grad is not None
    assert not h.is_leaf and h.grad_fn is not None and x.is_leaf


def test_graph_releases_saved_arrays_after_backward():
    x = leaf(np.ones(3))
    h = x * 2
    y = ad.abs(h - 5)
    node = y.grad_fn
    assert node.sign is not None  # abs saved the signs for backward
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # the graph holds the intermediate until backward
    y.sum().backward()
    gc.collect()
    assert ref() is None  # freed with the graph
    assert node.inputs is None and node.out is None and not hasattr(node, "sign")


def test_retain_graph_keeps_saved_arrays():
    x = leaf(np.ones(3))
    y = ad.abs(x * 2 - 5)
    y.sum().backward(retain_graph=True)
    assert y.grad_fn.inputs is not None and y.grad_fn.sign is not None


def test_second_backward_through_a_freed_graph_names_the_op():
    x = leaf([1.0, 2.0])
    y = ad.tanh(x).sum()
    y.backward()
    with pytest.raises(ad.GraphFreedError, match=r"backward: trying to go through the graph a second time "
                                                 r"\(at a sum node\).*retain_graph=True"):
        y.backward()


def test_freed_graph_below_a_new_op_is_also_detected():
    x = leaf([1.0, 2.0])
    h = ad.tanh(x)
    h.sum().backward()
    with pytest.raises(ad.GraphFreedError, match=r"at a tanh node"):
        (h * 2).sum().backward()


def test_100000_op_chain_backpropagates_without_recursion():
    assert sys.getrecursionlimit() < 100_000
    x = leaf([1.0, -2.0])
    y = x
    for _ in range(100_000):
        y = -y
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])  # (−1)^100000


# -- grad modes -------------------------------------------------------------------------------------------
def test_no_grad_records_nothing_and_restores_the_mode():
    x = leaf([1.0, 2.0])
    with ad.no_grad():
        y = x * 2 + 1
        assert not ad.is_grad_enabled()
        with ad.enable_grad():
            z = x * 3
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_decorator_and_after_an_exception():
    @ad.no_grad()
    def evaluate(t):
        return t * 2

    assert not evaluate(leaf([1.0])).requires_grad
    with pytest.raises(ZeroDivisionError):
        with ad.no_grad():
            1 / 0
    assert ad.is_grad_enabled()
    with ad.set_grad_enabled(False):
        assert not (leaf([1.0]) * 2).requires_grad
    assert ad.is_grad_enabled()


def test_no_grad_part_of_a_computation_is_a_constant():
    x = leaf([2.0])
    with ad.no_grad():
        c = x * x
    (x * c).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0])  # not 3x² = 12


def test_constant_inputs_get_no_gradient():
    x = leaf([1.0, 2.0])
    c = ad.tensor(np.array([3.0, 4.0]))
    (x * c).sum().backward()
    assert c.grad is None and not c.requires_grad


def test_requires_grad_off_only_on_leaves():
    x = leaf([1.0])
    y = x * 2
    with pytest.raises(RuntimeError, match="only be turned off on leaf tensors; use .detach()"):
        y.requires_grad = False
    x.requires_grad = False
    assert not (x * 2).requires_grad


# -- hooks ------------------------------------------------------------------------------------------------
def test_hook_on_a_leaf_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []

    def double(g):
        seen.append(g.data.copy())
        return g * 2

    handle = x.register_hook(double)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert len(seen) == 1
    handle.remove()  # removing twice is harmless


def test_hook_on_an_intermediate_changes_what_flows_upstream():
    x = leaf([1.0, 2.0])
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))  # returns None: only observes
    h.register_hook(lambda g: g * 0 + 1)  # replaces with ones
    (h * 5).sum().backward()
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)  # 1 · 2x instead of 5 · 2x
    assert h.grad is None


def test_hook_handle_on_an_intermediate_removes_it():
    x = leaf([1.0])
    h = x * 2
    handle = h.register_hook(lambda g: g * 10)
    handle.remove()
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0])


def test_hook_returning_a_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"hook returned a gradient of shape \(3,\), expected \(2,\)"):
        (x * 2).sum().backward()


def test_hook_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="register_hook: cannot register a hook on a tensor that does not"):
        ad.tensor([1.0]).register_hook(lambda g: g)


def test_hook_on_a_0d_leaf_gets_an_array():
    x = leaf(2.0)
    kinds = []
    x.register_hook(lambda g: kinds.append((type(g.data), g.numpy().shape)))
    (x * x).backward()
    assert kinds == [(np.ndarray, ())]


# -- detect_anomaly ---------------------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_whose_forward_made_nan():
    x = leaf([-1.0, 1.0])
    with ad.detect_anomaly(), np.errstate(invalid="ignore"):
        y = x * 2
        with pytest.raises(FloatingPointError, match=r"detect_anomaly: log forward produced NaN or inf "
                                                     r"\(input shapes \(2,\)\)"):
            ad.log(y)
    assert not state.anomaly


def test_detect_anomaly_names_the_op_whose_backward_made_inf():
    x = leaf([0.0, 4.0])
    with ad.detect_anomaly(), np.errstate(divide="ignore"):
        y = (ad.sqrt(x) * 3).sum()  # forward is finite; sqrt's backward divides by 2√0
        with pytest.raises(FloatingPointError, match=r"detect_anomaly: sqrt backward produced NaN or inf"):
            y.backward()


def test_without_detect_anomaly_nan_passes_silently():
    x = leaf([-1.0])
    with np.errstate(invalid="ignore"):
        y = ad.log(x)
    assert np.isnan(y.data[0])
