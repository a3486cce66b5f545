"""Ops that move elements: reshape, transpose / T, expand / broadcast_to, squeeze / unsqueeze, concatenate,
stack, indexing (slices, None, Ellipsis, integer arrays with repeats, boolean masks), take_along_axis /
gather, sum_to, cast / astype, detach."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from autodiff_strategies import (
    Case, arrays, check_gradients, check_op, expanded_shapes, make_leaf, reshape_targets, shapes, with_layouts,
)


def _np_sum_to(a, shape):
    """Sum out the leading axes, then keep-sum the axes where `shape` has 1 (a loop, not autodiff's code)."""
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and a.shape[i] != 1:
            a = a.sum(axis=i, keepdims=True)
    return a


@st.composite
def reshape_case(draw):
    x = draw(arrays(draw(shapes())))
    target = draw(reshape_targets(x.shape))
    if draw(st.booleans()):
        return Case(lambda t: t.reshape(target), [x], ref=lambda a: a.reshape(target), label=f"reshape{target}")
    return Case(lambda t: ad.reshape(t, target), [x], ref=lambda a: a.reshape(target), label=f"reshape{target}")


@st.composite
def transpose_case(draw):
    x = draw(arrays(draw(shapes())))
    kind = draw(st.sampled_from(["permutation", "T", "none", "swapaxes"]))
    if kind == "T":
        return Case(lambda t: t.T, [x], ref=lambda a: a.T, label="T")
    if kind == "none":
        return Case(lambda t: ad.transpose(t), [x], ref=np.transpose, label="transpose()")
    if kind == "swapaxes" and x.ndim:
        i, j = draw(st.integers(-x.ndim, x.ndim - 1)), draw(st.integers(-x.ndim, x.ndim - 1))
        return Case(lambda t: t.swapaxes(i, j), [x], ref=lambda a: a.swapaxes(i, j), label=f"swapaxes({i}, {j})")
    perm = tuple(draw(st.permutations(range(x.ndim))))
    return Case(lambda t: t.transpose(*perm), [x], ref=lambda a: a.transpose(perm), label=f"transpose{perm}")


@st.composite
def broadcast_case(draw):
    x = draw(arrays(draw(shapes(max_dims=3))))
    target = draw(expanded_shapes(x.shape, allow_minus_one=True))
    resolved = tuple(s if s != -1 else x.shape[i - len(target) + x.ndim] for i, s in enumerate(target))
    if draw(st.booleans()):
        return Case(lambda t: t.expand(*target), [x], ref=lambda a: np.broadcast_to(a, resolved),
                    label=f"expand{target}")
    return Case(lambda t: ad.broadcast_to(t, resolved), [x], ref=lambda a: np.broadcast_to(a, resolved),
                label=f"broadcast_to{resolved}")


@st.composite
def sum_to_case(draw):
    shape = draw(shapes(max_dims=3))
    big = draw(expanded_shapes(shape))
    x = draw(arrays(big))
    return Case(lambda t: ad.sum_to(t, shape), [x], ref=lambda a: _np_sum_to(a, shape), label=f"sum_to{shape}")


@st.composite
def squeeze_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    x = draw(arrays(shape))
    ones = [i for i, s in enumerate(shape) if s == 1]
    kind = draw(st.sampled_from(["all", "one", "unsqueeze"]))
    if kind == "one" and ones:
        axis = draw(st.sampled_from(ones)) - (len(shape) if draw(st.booleans()) else 0)
        return Case(lambda t: t.squeeze(axis), [x], ref=lambda a: np.squeeze(a, axis), label=f"squeeze({axis})")
    if kind == "unsqueeze":
        axis = draw(st.integers(-x.ndim - 1, x.ndim))
        return Case(lambda t: ad.unsqueeze(t, axis), [x], ref=lambda a: np.expand_dims(a, axis),
                    label=f"unsqueeze({axis})")
    return Case(lambda t: ad.squeeze(t), [x], ref=np.squeeze, label="squeeze()")


@st.composite
def join_case(draw, name):
    """concatenate: shapes equal except along the axis; stack: equal shapes."""
    shape = draw(shapes(min_dims=1 if name == "concatenate" else 0, max_dims=3))
    count = draw(st.integers(1, 3))
    if name == "concatenate":
        axis = draw(st.integers(-len(shape), len(shape) - 1))
        xs = []
        for _ in range(count):
            s = list(shape)
            s[axis] = draw(st.integers(1, 3))
            xs.append(draw(arrays(tuple(s))))
        return Case(lambda *ts: ad.concatenate(ts, axis=axis), xs, ref=lambda *a: np.concatenate(a, axis=axis),
                    label=f"concatenate(axis={axis})")
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [draw(arrays(shape)) for _ in range(count)]
    return Case(lambda *ts: ad.stack(ts, axis=axis), xs, ref=lambda *a: np.stack(a, axis=axis),
                label=f"stack(axis={axis})")


@st.composite
def getitem_case(draw, kind):
    shape = draw(shapes(min_dims=0 if kind == "basic" else 1, max_dims=3))
    x = draw(arrays(shape))
    if kind == "basic":  # ints, slices (any step), None, Ellipsis: possibly an empty result
        index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "integer":  # integer arrays (negative too), repeats likely; alone or after slices
        lead = draw(st.integers(0, len(shape) - 1))
        arrays_ = draw(hnp.integer_array_indices(shape[lead:], result_shape=shapes(min_dims=0, max_dims=2)))
        if draw(st.booleans()):
            arrays_ = arrays_[:1]
        index = (slice(None),) * lead + tuple(arrays_)
    else:  # a boolean mask over the leading axes, or over one axis after a slice
        lead = draw(st.integers(0, len(shape) - 1))
        k = draw(st.integers(1, len(shape) - lead))
        mask = draw(hnp.arrays(bool, shape[lead:lead + k], elements=st.booleans()))
        index = (slice(None),) * lead + (mask,)
    return Case(lambda t: t[index], [x], ref=lambda a: a[index], label=f"getitem {kind} {index!r}")


@st.composite
def gather_case(draw):
    """take_along_axis: indices of x's rank, any length along `axis`; on other axes equal to x's, or 1 (broadcast
    over x), or longer where x has 1 (x broadcast over them)."""
    shape = draw(shapes(min_dims=1, max_dims=3))
    x = draw(arrays(shape))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    index_shape = []
    for d, s in enumerate(shape):
        if d == axis % len(shape):
            index_shape.append(draw(st.integers(1, 4)))
        else:
            index_shape.append(draw(st.sampled_from([s, 1] + ([2, 3] if s == 1 else []))))
    indices = draw(hnp.arrays(np.int64, tuple(index_shape), elements=st.integers(-n, n - 1)))
    form = draw(st.sampled_from(["take_along_axis", "gather", "method"]))
    fn = {"take_along_axis": lambda t: ad.take_along_axis(t, indices, axis),
          "gather": lambda t: ad.gather(t, axis, indices),
          "method": lambda t: t.gather(axis, ad.tensor(indices))}[form]
    return Case(fn, [x], ref=lambda a: np.take_along_axis(a, indices, axis), label=f"{form}(axis={axis})")


CASES = {"reshape": reshape_case(), "transpose": transpose_case(), "broadcast_to": broadcast_case(),
         "sum_to": sum_to_case(), "squeeze": squeeze_case(), "concatenate": join_case("concatenate"),
         "stack": join_case("stack"), "getitem-basic": getitem_case("basic"),
         "getitem-integer": getitem_case("integer"), "getitem-mask": getitem_case("mask"), "gather": gather_case()}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_values_and_gradients(name, data):
    check_op(data.draw(with_layouts(CASES[name])))


# -- exact values ----------------------------------------------------------------------------------------
def test_integer_index_with_repeats_accumulates():
    x = ad.tensor(np.arange(5.0), requires_grad=True)
    x[[0, 0, 3, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 0.0, 1.0, 0.0])


def test_boolean_mask_and_tensor_index():
    x = ad.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = ad.tensor(np.array([[True, False, True], [False, False, True]]))
    out = x[mask]
    np.testing.assert_array_equal(out.data, [0.0, 2.0, 5.0])
    (out * ad.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])


def test_none_and_ellipsis_index():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    out = x[None, ..., 1]
    assert out.shape == (1, 2, 3)
    out.sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[..., 1] = 1.0
    np.testing.assert_array_equal(x.grad.data, expected)


def test_gather_with_repeated_indices_accumulates():
    x = ad.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), requires_grad=True)
    indices = np.array([[2, 2], [0, 1]])
    out = ad.gather(x, 1, indices)
    np.testing.assert_array_equal(out.data, [[3.0, 3.0], [4.0, 5.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 2.0], [1.0, 1.0, 0.0]])


def test_gather_of_one_index_per_row_scatters_its_gradient_back():
    """Q(s, a): indices (N, 1) on axis 1. The backward writes each row's gradient into its one position instead
    of accumulating with add.at; the result is the general rule's."""
    from autodiff.ops.shape import _full_index, array_put_along_axis_add

    rng = np.random.default_rng(0)
    g = rng.standard_normal((6, 1))
    indices = rng.integers(0, 3, size=(6, 1))
    general = np.zeros((6, 3))
    np.add.at(general, _full_index(indices, 1, g.shape), g)
    np.testing.assert_array_equal(array_put_along_axis_add(g, indices, 1, (6, 3)), general)
    x = ad.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    ad.take_along_axis(x, indices, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3)[indices[:, 0]])


def test_gather_broadcasts_x_against_longer_indices():
    x = ad.tensor(np.array([[10.0, 20.0, 30.0]]), requires_grad=True)  # (1, 3) against indices (2, 2)
    out = ad.take_along_axis(x, np.array([[0, 2], [2, 2]]), axis=1)
    np.testing.assert_array_equal(out.data, [[10.0, 30.0], [30.0, 30.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 3.0]])


def test_gather_needs_integer_indices():
    with pytest.raises(TypeError, match="take_along_axis: indices must be integers, got dtype float64"):
        ad.take_along_axis(ad.tensor(np.ones((2, 2))), np.zeros((2, 1)), axis=1)


def test_concatenate_and_stack_route_gradients_to_their_pieces():
    a = ad.tensor(np.ones((2, 1)), requires_grad=True)
    b = ad.tensor(np.ones((2, 2)), requires_grad=True)
    out = ad.concatenate([a, b], axis=1) * ad.tensor(np.array([[1.0, 2.0, 3.0]]))
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[1.0], [1.0]])
    np.testing.assert_array_equal(b.grad.data, [[2.0, 3.0], [2.0, 3.0]])
    c = ad.tensor(np.ones(2), requires_grad=True)
    (ad.stack([c, c * 2, c], axis=1) * ad.tensor(np.arange(3.0))).sum().backward()
    np.testing.assert_array_equal(c.grad.data, [4.0, 4.0])  # 0·1 + 1·2 + 2·1


def test_concatenate_and_stack_of_mixed_dtypes_give_each_its_dtype():
    a = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    b = ad.tensor(np.ones(2, np.float64), requires_grad=True)
    for join in (ad.concatenate, ad.stack):
        a.grad = b.grad = None
        out = join([a, b])
        assert out.dtype == np.float64
        out.sum().backward()
        assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_concatenate_of_0d_tensors_is_a_clear_error():
    with pytest.raises(ValueError, match=r"concatenate: zero-dimensional arrays cannot be concatenated"):
        ad.concatenate([ad.tensor(1.0), ad.tensor(2.0)])


def test_squeeze_of_an_axis_that_is_not_1_is_an_error():
    with pytest.raises(ValueError, match=r"squeeze: axis 1 has size 3, not 1 \(shape \(1, 3\)\)"):
        ad.tensor(np.ones((1, 3))).squeeze(1)


# -- cast / astype --------------------------------------------------------------------------------------
@given(x=arrays(shapes(max_dims=3)))
def test_cast_through_float32_and_back(x):
    """Rounding to float32 is not differentiable to finite-difference precision: wider steps and tolerances."""
    case = Case(lambda t: t.astype(np.float32).astype(np.float64) * 3.0, [x], label="cast")
    check_gradients(case, eps=1e-3, atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("source, target", [(np.float32, np.float64), (np.float64, np.float32)])
def test_cast_gradient_comes_back_in_the_input_dtype(source, target):
    x = ad.tensor(np.array([1.0, 2.0], source), requires_grad=True)
    y = ad.cast(x, target)
    assert y.dtype == target
    (y * 2).sum().backward()
    assert x.grad.dtype == source
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert x.double().dtype == np.float64 and x.float().dtype == np.float32
    assert ad.cast(x, source) is x  # a cast to its own dtype is no op at all


# -- detach ------------------------------------------------------------------------------------------------
def test_detach_shares_data_and_stops_the_gradient():
    """detach is deliberately not differentiable (finite differences would see through it): exact values."""
    x = make_leaf(np.array([[1.0, 2.0], [3.0, 4.0]]), "transposed")
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.data, x.data)
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.data, x.data)  # not 2x: d is a constant


def test_flatten_and_view():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12) and x.view(4, -1).shape == (4, 6)
    (x.flatten(1) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3, 4), 2.0))


def test_sum_to_examples():
    y = ad.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(ad.sum_to(y, (3, 1)).data, y.data.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(ad.sum_to(y, ()).data, np.array(math.fsum(range(24))))
    assert ad.sum_to(y, (2, 3, 4)) is y


@pytest.mark.parametrize("basic", [True, False])
def test_the_scatter_behind_getitem_is_differentiable_twice(basic):
    """IndexAdd (zeros with g added at an index) is getitem's backward; its own rule is getitem again."""
    from autodiff.ops.shape import IndexAdd

    index = (slice(1, 3),) if basic else (np.array([0, 2, 2]),)
    g = ad.tensor(np.random.default_rng(0).standard_normal((2 if basic else 3, 4)), requires_grad=True)
    fn = lambda t: IndexAdd.apply(t, index=index, shape=(4, 4), basic=basic)  # noqa: E731
    assert ad.gradcheck(fn, [g]) and ad.gradgradcheck(fn, [g])


def test_the_scatter_behind_take_along_axis_is_differentiable_twice():
    from autodiff.ops.shape import PutAlongAxisAdd

    indices = np.array([[0, 2], [1, 1], [2, 0]])
    g = ad.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    fn = lambda t: PutAlongAxisAdd.apply(t, indices=indices, axis=1, shape=(3, 3))  # noqa: E731
    assert ad.gradcheck(fn, [g]) and ad.gradgradcheck(fn, [g])
