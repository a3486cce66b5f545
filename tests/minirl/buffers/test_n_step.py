"""n-step transitions (4.17) against a brute-force computation on random streams, per environment copy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl.buffers import NStepAccumulator, ReplayBuffer

FLAGS = {"": (False, False), "term": (True, False), "trunc": (False, True), "both": (True, True)}


def brute_force_n_step(rewards, terminated, truncated, n, gamma):
    """All finished n-step transitions of one environment's stream, as (t, return, m, last_step) per start t.

    A transition starting at t is finished when its episode ended before t + n, or when n steps after t exist. It sums
    m = min(n, steps to the episode's end) rewards and takes its flags and next_obs from step t + m − 1."""
    steps = len(rewards)
    finished = []
    for t in range(steps):
        m = 0
        while m < n and t + m < steps:
            m += 1
            if terminated[t + m - 1] or truncated[t + m - 1]:
                break
        last = t + m - 1
        if m < n and not (terminated[last] or truncated[last]):
            continue  # still waiting for rewards that the stream has not produced yet
        total = sum(gamma ** k * rewards[t + k] for k in range(m))
        finished.append((t, total, m, last))
    return finished


@st.composite
def streams(draw):
    num_envs, steps, n = draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 4))
    flags = draw(st.lists(st.sampled_from(["", "", "", "term", "trunc", "both"]),
                          min_size=steps * num_envs, max_size=steps * num_envs))
    rewards = draw(st.lists(st.floats(-10, 10), min_size=steps * num_envs, max_size=steps * num_envs))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))
    flags = np.array([FLAGS[f] for f in flags]).reshape(steps, num_envs, 2)
    return n, gamma, np.array(rewards).reshape(steps, num_envs), flags[..., 0], flags[..., 1]


@given(streams())
def test_n_step_transitions_equal_brute_force_per_env(stream):
    n, gamma, rewards, terminated, truncated = stream
    steps, num_envs = rewards.shape
    buffer = ReplayBuffer(1000, obs_shape=(2,), num_envs=num_envs, n_step=n, gamma=gamma)
    for t in range(steps):
        obs = np.stack([[e, t] for e in range(num_envs)])  # obs names its environment and step
        buffer.add(obs, np.full(num_envs, t), rewards[t], obs + [0, 1000], terminated[t], truncated[t])

    stored = buffer.obs[:len(buffer)].astype(int)
    expected_count = 0
    for e in range(num_envs):
        expected = brute_force_n_step(rewards[:, e], terminated[:, e], truncated[:, e], n, gamma)
        expected_count += len(expected)
        rows = np.flatnonzero(stored[:, 0] == e)
        # one transition per finished start, oldest first within an environment
        np.testing.assert_array_equal(stored[rows, 1], [t for t, *_ in expected])
        np.testing.assert_array_equal(buffer.actions[rows], [t for t, *_ in expected])
        np.testing.assert_allclose(buffer.rewards[rows], [g for _, g, _, _ in expected], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(buffer.discounts[rows], [gamma ** m for _, _, m, _ in expected], rtol=1e-6)
        lasts = [last for *_, last in expected]
        np.testing.assert_array_equal(buffer.next_obs[rows], np.reshape([[e, last + 1000] for last in lasts], (-1, 2)))
        np.testing.assert_array_equal(buffer.terminated[rows], terminated[lasts, e])
        np.testing.assert_array_equal(buffer.truncated[rows], truncated[lasts, e])
    assert len(buffer) == expected_count


def test_hand_computed_three_step_returns():
    # one env, γ = 0.5, rewards 1, 2, 4, 8, truncated at step 3: every window is cut there and bootstraps
    buffer = ReplayBuffer(10, obs_shape=(1,), n_step=3, gamma=0.5)
    for t, reward in enumerate([1.0, 2.0, 4.0, 8.0]):
        buffer.add([t], t, reward, [t + 1], False, t == 3)
    # t=0: 1 + 0.5·2 + 0.25·4 = 3 (full window, emitted at step 2); then at the truncation t=1, 2, 3 are flushed:
    # 2 + 0.5·4 + 0.25·8 = 6, 4 + 0.5·8 = 8, 8
    np.testing.assert_allclose(buffer.rewards[:4], [3, 6, 8, 8])
    np.testing.assert_allclose(buffer.discounts[:4], [0.125, 0.125, 0.25, 0.5])
    np.testing.assert_array_equal(buffer.next_obs[:4, 0], [3, 4, 4, 4])
    np.testing.assert_array_equal(buffer.truncated[:4], [False, True, True, True])
    assert not buffer.terminated[:4].any()


def test_windows_of_different_envs_do_not_mix():
    accumulator = NStepAccumulator(2, 1.0, num_envs=2, obs_shape=(1,))
    ones, no = np.ones(2), np.zeros(2, bool)
    first = accumulator.push([[0], [10]], [0, 10], [1.0, 100.0], [[1], [11]], [False, True], no)
    # env 1 terminated at once: its single transition leaves now; env 0 waits for a second reward
    np.testing.assert_array_equal(first["obs"][:, 0], [10])
    np.testing.assert_array_equal(first["rewards"], [100.0])
    second = accumulator.push([[1], [20]], [1, 20], ones, [[2], [21]], no, no)
    np.testing.assert_array_equal(second["obs"][:, 0], [0])
    np.testing.assert_array_equal(second["rewards"], [2.0])  # 1 + 1, nothing from env 1


def test_n_step_must_be_positive():
    with pytest.raises(ValueError, match="n_step"):
        ReplayBuffer(10, obs_shape=(1,), n_step=0)
