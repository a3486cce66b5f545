"""Uniform replay: circular order, filled slots only, the two end flags, vector-env adds, checkpoint round trip."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl.buffers import ReplayBuffer


def add_scalar_steps(buffer, values):
    """One single-env transition per value v: obs [v], action v, reward v, next_obs [v + 0.5]."""
    for v in values:
        buffer.add([v], v, float(v), [v + 0.5], False, False)


def test_circular_overwrite_replaces_the_oldest_first():
    buffer = ReplayBuffer(5, obs_shape=(1,))
    add_scalar_steps(buffer, range(8))
    assert len(buffer) == 5
    assert buffer.position == 3
    # slots 0..2 were overwritten by transitions 5..7; slots 3, 4 still hold 3, 4
    np.testing.assert_array_equal(buffer.obs[:, 0], [5, 6, 7, 3, 4])
    np.testing.assert_array_equal(buffer.actions, [5, 6, 7, 3, 4])
    np.testing.assert_array_equal(buffer.next_obs[:, 0], [5.5, 6.5, 7.5, 3.5, 4.5])
    # reading from `position` on walks the stored transitions oldest first
    chronological = np.roll(buffer.obs[:, 0], -buffer.position)
    np.testing.assert_array_equal(chronological, [3, 4, 5, 6, 7])


@given(capacity=st.integers(1, 12), num_envs=st.integers(1, 4), steps=st.integers(0, 15))
def test_contents_are_the_last_capacity_transitions(capacity, num_envs, steps):
    buffer = ReplayBuffer(capacity, obs_shape=(2,), num_envs=num_envs)
    stream = []  # every transition ever added, in the order the buffer receives them
    for t in range(steps):
        obs = np.stack([[t, e] for e in range(num_envs)]).astype(np.float32)
        buffer.add(obs, np.arange(num_envs) + 100 * t, np.full(num_envs, t), obs + 1,
                   np.zeros(num_envs, bool), np.zeros(num_envs, bool))
        stream.extend(obs)
    kept = stream[-capacity:] if stream else []
    assert len(buffer) == len(kept)
    if len(buffer) == capacity:
        chronological = np.roll(buffer.obs, -buffer.position, axis=0)
    else:
        chronological = buffer.obs[:len(buffer)]
    np.testing.assert_array_equal(chronological, np.array(kept).reshape(-1, 2))


def test_sampling_draws_only_filled_slots_and_each_of_them():
    buffer = ReplayBuffer(100, obs_shape=(1,), seed=0)
    add_scalar_steps(buffer, range(7))
    batch = buffer.sample(5000)
    assert batch.indices.min() >= 0 and batch.indices.max() < 7
    assert set(batch.actions.tolist()) == set(range(7))  # no zero-filled empty slot, every stored one
    np.testing.assert_array_equal(batch.obs[:, 0], batch.actions)  # fields of one transition stay together
    np.testing.assert_array_equal(batch.weights, np.ones(5000))
    counts = np.bincount(batch.indices, minlength=7)
    assert counts.min() > 600 and counts.max() < 830  # 5000/7 ≈ 714, binomial sd ≈ 25


def test_terminated_and_truncated_are_stored_apart():
    flags = [(True, False), (False, True), (True, True), (False, False)]
    buffer = ReplayBuffer(10, obs_shape=(1,))
    for i, (terminated, truncated) in enumerate(flags):
        buffer.add([i], i, 0.0, [i + 1], terminated, truncated)
    np.testing.assert_array_equal(buffer.terminated[:4], [True, False, True, False])
    np.testing.assert_array_equal(buffer.truncated[:4], [False, True, True, False])
    batch = buffer.sample(64)
    np.testing.assert_array_equal(batch.terminated, [flags[a][0] for a in batch.actions])
    np.testing.assert_array_equal(batch.truncated, [flags[a][1] for a in batch.actions])


def test_batch_add_from_vector_envs_keeps_the_true_final_observation():
    buffer = ReplayBuffer(10, obs_shape=(2,), num_envs=3, gamma=0.9)
    obs = np.array([[0, 0], [1, 1], [2, 2]], np.float32)
    final_obs = np.array([[10, 10], [11, 11], [12, 12]], np.float32)  # env 1's episode ends at this step
    reset_obs = np.array([[20, 20], [-1, -1], [22, 22]], np.float32)   # what the vector env returns after reset
    next_obs = final_obs.copy()
    slots = buffer.add(obs, [0, 1, 2], [1.0, 2.0, 3.0], next_obs, [False, True, False], [False, False, False])
    np.testing.assert_array_equal(slots, [0, 1, 2])
    buffer.add(reset_obs, [3, 4, 5], [4.0, 5.0, 6.0], reset_obs + 1, [False] * 3, [False, False, True])
    assert len(buffer) == 6
    np.testing.assert_array_equal(buffer.obs[:6], np.concatenate([obs, reset_obs]))
    np.testing.assert_array_equal(buffer.next_obs[1], [11, 11])  # not the reset observation [-1, -1]
    np.testing.assert_array_equal(buffer.actions[:6], np.arange(6))
    np.testing.assert_array_equal(buffer.rewards[:6], [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(buffer.terminated[:6], [0, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(buffer.truncated[:6], [0, 0, 0, 0, 0, 1])
    np.testing.assert_allclose(buffer.discounts[:6], 0.9)  # 1-step transitions bootstrap with γ


def test_add_rejects_wrong_shapes_and_sample_rejects_empty_buffer():
    buffer = ReplayBuffer(10, obs_shape=(4,), num_envs=2)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1)
    with pytest.raises(ValueError, match=r"obs should have shape \(2, 4\).*got \(2, 3\)"):
        buffer.add(np.zeros((2, 3)), [0, 0], [0, 0], np.zeros((2, 4)), [0, 0], [0, 0])
    with pytest.raises(ValueError, match="reward"):
        buffer.add(np.zeros((2, 4)), [0, 0], [0, 0, 0], np.zeros((2, 4)), [0, 0], [0, 0])


@pytest.mark.parametrize("n_step", [1, 3])
def test_state_round_trip_gives_identical_future_samples(n_step):
    rng = np.random.default_rng(1)

    def random_step():
        return (rng.normal(size=(2, 3)), rng.integers(0, 4, size=2), rng.normal(size=2), rng.normal(size=(2, 3)),
                rng.random(2) < 0.1, rng.random(2) < 0.1)

    original = ReplayBuffer(16, obs_shape=(3,), num_envs=2, n_step=n_step, seed=7)
    for _ in range(11):
        original.add(*random_step())
    original.sample(4)
    state = original.state_dict()
    saved_obs = state["obs"].copy()
    restored = ReplayBuffer(16, obs_shape=(3,), num_envs=2, n_step=n_step, seed=123)
    restored.load_state_dict(state)

    for _ in range(6):  # the same future steps go to both, including the n-step windows pending at the save
        step = random_step()
        np.testing.assert_array_equal(original.add(*step), restored.add(*step))
        for a, b in zip(original.sample(5), restored.sample(5)):
            np.testing.assert_array_equal(a, b)
    # the saved state is a snapshot: later adds did not change it
    assert not np.array_equal(original.obs, saved_obs)
    np.testing.assert_array_equal(state["obs"], saved_obs)


def test_continuous_actions_keep_their_shape_and_dtype():
    buffer = ReplayBuffer(4, obs_shape=3, action_shape=2, action_dtype=np.float32, num_envs=2, seed=0)
    actions = np.array([[0.25, -1.5], [2.0, 0.125]], np.float32)
    buffer.add(np.zeros((2, 3)), actions, [0.0, 0.0], np.ones((2, 3)), [False, False], [False, False])
    assert buffer.obs.shape == (4, 3) and buffer.actions.shape == (4, 2) and buffer.actions.dtype == np.float32
    np.testing.assert_array_equal(buffer.actions[:2], actions)
    assert buffer.sample(3).actions.shape == (3, 2)
