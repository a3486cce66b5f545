"""Checkpoints: round trips of nested state, atomic writes, and clear errors for bad files."""

import json
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minirl.io.checkpoint import (CheckpointError, generator_state, load_checkpoint, restore_generator,
                                    save_checkpoint)

arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int64]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                    elements=st.integers(-100, 100))
leaves = st.one_of(arrays, st.integers(-10**30, 10**30), st.floats(allow_nan=False), st.text(max_size=5),
                   st.booleans(), st.none())
trees = st.recursive(leaves, lambda children: st.one_of(
    st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=4), st.lists(children, max_size=3)),
    max_leaves=12)


def assert_same(a, b):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


@given(state=st.dictionaries(st.text(min_size=1, max_size=6), trees, max_size=5))
def test_nested_state_round_trips(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("ckpt") / "c.npz"
    save_checkpoint(path, state, {"algorithm": "x", "hyperparameters": {"lr": 0.1}})
    loaded, meta = load_checkpoint(path)
    assert_same(state, loaded)
    assert meta == {"algorithm": "x", "hyperparameters": {"lr": 0.1}}


def test_generator_state_round_trip_continues_the_stream(tmp_path):
    rng = np.random.default_rng(123)
    rng.random(7)
    save_checkpoint(tmp_path / "c.npz", {"rng": generator_state(rng)})
    expected = rng.random(5)
    state, _ = load_checkpoint(tmp_path / "c.npz")
    fresh = restore_generator(np.random.default_rng(0), state["rng"])
    np.testing.assert_array_equal(fresh.random(5), expected)


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save_checkpoint(path, {"w": np.ones(3)})

    def broken_savez(f, **payload):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"w": np.zeros(3)})
    monkeypatch.undo()
    state, _ = load_checkpoint(path)  # the previous checkpoint is intact
    np.testing.assert_array_equal(state["w"], np.ones(3))
    assert os.listdir(tmp_path) == ["c.npz"]


def test_corrupted_checkpoint_gives_a_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    save_checkpoint(path, {"w": np.ones(3)})
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="damaged or not a minirl checkpoint"):
        load_checkpoint(path)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.npz")
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    with pytest.raises(CheckpointError, match="not a minirl checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")


def test_mismatched_algorithm_and_version(tmp_path):
    path = save_checkpoint(tmp_path / "c.npz", {"w": np.ones(1)}, {"algorithm": "dqn"})
    with pytest.raises(CheckpointError, match="written by algorithm 'dqn', not 'ppo'"):
        load_checkpoint(path, algorithm="ppo")
    with np.load(path) as data:
        payload = {k: data[k] for k in data.files}
    record = json.loads(bytes(payload["__minirl_metadata__"]).decode())
    record["format_version"] = 99
    payload["__minirl_metadata__"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    np.savez(path, **payload)
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(path)


def test_integer_keys_survive(tmp_path):
    state = {"optimizer": {"state": {0: {"step": 3, "m": np.ones(2)}, 1: {"step": 3}}, "groups": [{"lr": 0.1}]}}
    save_checkpoint(tmp_path / "c.npz", state)
    loaded, _ = load_checkpoint(tmp_path / "c.npz")
    assert_same(state, loaded)
    assert list(loaded["optimizer"]["state"]) == [0, 1]


def test_unstorable_values_are_refused_with_their_path(tmp_path):
    with pytest.raises(TypeError, match="cannot store object at /a/b"):
        save_checkpoint(tmp_path / "c.npz", {"a": {"b": object()}})
    with pytest.raises(TypeError, match="keys must be str or int, got 1.5"):
        save_checkpoint(tmp_path / "c.npz", {"a": {1.5: 0}})
