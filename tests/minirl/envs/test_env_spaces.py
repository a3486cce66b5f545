"""Spaces: samples lie in the space, seeding is deterministic and draws what Gymnasium's spaces draw, contains
rejects wrong shapes, dtypes and values, flatten/unflatten and batching round trip."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl.envs.spaces import (
    Box,
    Dict,
    Discrete,
    MultiBinary,
    MultiDiscrete,
    Tuple,
    batch_space,
    concatenate,
    flatdim,
    flatten,
    flatten_space,
    iterate,
    unflatten,
)

shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


@st.composite
def boxes(draw):
    shape = draw(shapes)
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.uint8]))
    if np.dtype(dtype).kind == "f":
        low = draw(st.sampled_from([-np.inf, -1.0, 0.0, -5.5]))
        high = draw(st.sampled_from([np.inf, 1.0, 2.5]))
    else:
        low, high = draw(st.sampled_from([(0, 255), (3, 3), (0, 1)]))
    return Box(low, high, shape=shape, dtype=dtype)


leaf_spaces = st.one_of(
    boxes(),
    st.builds(Discrete, st.integers(1, 9), start=st.integers(-3, 3)),
    st.builds(MultiDiscrete, st.lists(st.integers(1, 5), min_size=1, max_size=4)),
    st.builds(MultiBinary, st.integers(1, 6) | shapes),
)
all_spaces = st.recursive(
    leaf_spaces,
    lambda parts: st.lists(parts, min_size=1, max_size=3).map(Tuple)
    | st.dictionaries(st.sampled_from("abcd"), parts, min_size=1, max_size=3).map(Dict),
    max_leaves=5,
)


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)


@given(all_spaces, st.integers(0, 2**32 - 1))
def test_samples_are_in_the_space_and_seeding_is_deterministic(space, seed):
    space.seed(seed)
    first = [space.sample() for _ in range(5)]
    assert all(space.contains(x) and x in space for x in first)
    space.seed(seed)
    assert all(same(x, space.sample()) for x in first)


@given(all_spaces, st.integers(0, 2**32 - 1))
def test_seeded_samples_equal_gymnasiums(space, seed):
    pytest.importorskip("gymnasium")
    from minirl.envs.gymnasium_adapter import to_gymnasium_space

    theirs = to_gymnasium_space(space)
    space.seed(seed)
    theirs.seed(seed)
    for _ in range(3):
        assert same(space.sample(), theirs.sample())


@given(all_spaces, st.integers(0, 1000))
def test_flatten_round_trip(space, seed):
    space.seed(seed)
    x = space.sample()
    flat = flatten(space, x)
    assert flat.shape == (flatdim(space),) and flat in flatten_space(space)
    assert same(unflatten(space, flat), x)
    try:
        import gymnasium
    except ImportError:
        return
    from minirl.envs.gymnasium_adapter import to_gymnasium_space

    np.testing.assert_array_equal(flat, gymnasium.spaces.flatten(to_gymnasium_space(space), x))


@given(all_spaces, st.integers(1, 4), st.integers(0, 1000))
def test_batching_round_trip(space, n, seed):
    space.seed(seed)
    items = [space.sample() for _ in range(n)]
    batched_space = batch_space(space, n)
    batch = concatenate(space, items)
    assert batch in batched_space
    assert all(same(a, b) for a, b in zip(iterate(space, batch), items))
    assert batched_space.sample() in batched_space


def test_contains_rejects_wrong_shape_dtype_and_values():
    box = Box(-1.0, 1.0, shape=(2,))
    assert box.contains(np.zeros(2, dtype=np.float32)) and [0.5, -0.5] in box
    assert not box.contains(np.zeros(2, dtype=np.float64))  # float64 does not fit a float32 box
    assert not box.contains(np.zeros(3, dtype=np.float32)) and not box.contains(np.zeros((2, 1), np.float32))
    assert not box.contains(np.array([0.0, 1.5], dtype=np.float32)) and not box.contains("ab")
    assert not box.contains(np.array([np.nan, 0.0], dtype=np.float32))
    d = Discrete(3, start=1)
    assert 1 in d and np.int64(3) in d and np.array(2) in d
    assert 0 not in d and 4 not in d and 1.0 not in d and np.array([1]) not in d and True not in d
    md = MultiDiscrete([2, 3])
    assert np.array([1, 2]) in md and np.array([2, 0]) not in md and np.array([1]) not in md
    assert np.array([1.0, 2.0]) not in md
    mb = MultiBinary(3)
    assert np.array([0, 1, 1]) in mb and np.array([0, 2, 1]) not in mb and np.array([0, 1]) not in mb
    tup = Tuple([d, box])
    assert (1, np.zeros(2, np.float32)) in tup and (1,) not in tup and (0, np.zeros(2, np.float32)) not in tup
    dic = Dict(a=d, b=box)
    assert {"a": 1, "b": np.zeros(2, np.float32)} in dic and {"a": 1} not in dic


def test_shape_dtype_equality_and_repr():
    assert Box(-1.0, 1.0).shape == (1,)  # scalar bounds, no shape: Gymnasium's (1,)
    box = Box(np.array([0.0, -1.0]), np.array([1.0, 1.0]), dtype=np.float64)
    assert box.shape == (2,) and box.dtype == np.float64 and box.is_bounded()
    assert box == Box(np.array([0.0, -1.0]), np.array([1.0, 1.0]), dtype=np.float64)
    assert box != Box(0.0, 1.0, shape=(2,), dtype=np.float64) and box != Discrete(2)
    assert Discrete(3) != Discrete(3, start=1) and Discrete(3).shape == () and Discrete(3).dtype == np.int64
    assert MultiBinary((2, 3)).shape == (2, 3) and MultiDiscrete([[2, 3]]).shape == (1, 2)
    assert Dict({"b": Discrete(2), "a": Discrete(3)}) == Dict(a=Discrete(3), b=Discrete(2))
    assert list(Dict({"b": Discrete(2), "a": Discrete(3)}).keys()) == ["a", "b"]  # sorted, as in Gymnasium
    assert repr(Discrete(3, start=1)) == "Discrete(3, start=1)" and "Box(-1.0, 1.0, (1,), float32)" == repr(
        Box(-1.0, 1.0))


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="low must not exceed high"):
        Box(1.0, 0.0)
    with pytest.raises(ValueError, match="NaN"):
        Box(np.nan, 1.0)
    with pytest.raises(ValueError, match="does not fit shape"):
        Box(np.zeros(3), np.ones(3), shape=(2,))
    with pytest.raises(ValueError, match="positive"):
        Discrete(0)
    with pytest.raises(TypeError, match="Tuple"):
        Tuple([Discrete(2), "not a space"])
    with pytest.raises(ValueError, match="seed"):
        Discrete(2).seed(-1)


def test_discrete_mask_and_generator_seed():
    d = Discrete(5, seed=0)
    mask = np.array([0, 0, 1, 0, 1], dtype=np.int8)
    assert {int(d.sample(mask=mask)) for _ in range(50)} == {2, 4}
    assert d.sample(mask=np.zeros(5, dtype=np.int8)) == d.start
    rng = np.random.default_rng(1)
    assert Discrete(5, seed=rng).np_random is rng
