"""Sum and min segment trees against NumPy reductions; prefix-sum search against a cumulative sum."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl.buffers import MinSegmentTree, SumSegmentTree


@pytest.mark.parametrize("capacity, size", [(1, 1), (2, 2), (5, 8), (8, 8), (9, 16)])
def test_internal_size_is_the_next_power_of_two(capacity, size):
    tree = SumSegmentTree(capacity)
    assert tree.size == size and tree.values.shape == (2 * size,)


@st.composite
def update_sequences(draw):
    capacity = draw(st.integers(1, 40))
    updates = draw(st.lists(
        st.lists(st.tuples(st.integers(0, capacity - 1), st.floats(0, 100)), min_size=1, max_size=10),
        min_size=1, max_size=6))
    ranges = draw(st.lists(st.tuples(st.integers(0, capacity), st.integers(0, capacity)), min_size=1, max_size=5))
    return capacity, updates, [(min(a, b), max(a, b)) for a, b in ranges]


@given(update_sequences())
def test_sums_and_mins_equal_numpy_after_random_updates(case):
    capacity, updates, ranges = case
    sum_tree, min_tree = SumSegmentTree(capacity), MinSegmentTree(capacity)
    model_sum, model_min = np.zeros(capacity), np.full(capacity, np.inf)
    for batch in updates:
        indices = np.array([i for i, _ in batch])
        values = np.array([v for _, v in batch])
        sum_tree.update(indices, values)
        min_tree.update(indices, values)
        for i, v in batch:  # one at a time, so a repeated index keeps its last value
            model_sum[i], model_min[i] = v, v
        np.testing.assert_array_equal(sum_tree[np.arange(capacity)], model_sum)
        assert sum_tree.sum() == pytest.approx(model_sum.sum(), rel=1e-12, abs=1e-9)
        assert min_tree.min() == model_min.min()
        for start, end in ranges:
            assert sum_tree.sum(start, end) == pytest.approx(model_sum[start:end].sum(), rel=1e-12, abs=1e-9)
            assert min_tree.min(start, end) == (model_min[start:end].min() if end > start else np.inf)


def test_every_inner_node_combines_its_children():
    rng = np.random.default_rng(0)
    tree = SumSegmentTree(13)
    tree.update(rng.integers(0, 13, 30), rng.random(30))
    nodes = np.arange(1, tree.size)
    np.testing.assert_allclose(tree.values[nodes], tree.values[2 * nodes] + tree.values[2 * nodes + 1])


@given(leaves=st.lists(st.integers(0, 9), min_size=1, max_size=33).filter(lambda xs: sum(xs) > 0),
       fractions=st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=20))
def test_prefix_sum_search_finds_the_leaf_whose_cumulative_range_holds_the_prefix(leaves, fractions):
    # integer leaves make every partial sum exact, so the bracket can be checked without tolerance
    tree = SumSegmentTree(len(leaves))
    tree.update(np.arange(len(leaves)), leaves)
    cumulative = np.cumsum(leaves)
    # random prefixes, and every boundary between two leaves, where "<" and "≤" part ways
    prefixes = np.concatenate([np.array(fractions) * cumulative[-1], [0.0], cumulative[cumulative < cumulative[-1]]])
    found = tree.find_prefixsum_idx(prefixes)
    # the smallest i with leaf[0] + ... + leaf[i] > s; it is never a zero leaf
    np.testing.assert_array_equal(found, np.searchsorted(cumulative, prefixes, side="right"))
    assert all(leaves[i] > 0 for i in found)


def test_prefix_sum_search_with_float_leaves_brackets_the_prefix():
    rng = np.random.default_rng(3)
    leaves = rng.random(100) ** 3
    tree = SumSegmentTree(100)
    tree.update(np.arange(100), leaves)
    prefixes = rng.random(1000) * leaves.sum()
    found = tree.find_prefixsum_idx(prefixes)
    upper = np.cumsum(leaves)[found]
    lower = upper - leaves[found]
    assert np.all(lower <= prefixes + 1e-12) and np.all(prefixes < upper + 1e-12)


def test_invalid_indices_and_prefixes_raise():
    tree = SumSegmentTree(4)
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        tree.update([4], [1.0])
    with pytest.raises(IndexError):
        tree.sum(1, 5)
    with pytest.raises(ValueError, match="prefix"):
        tree.find_prefixsum_idx([-1.0])
