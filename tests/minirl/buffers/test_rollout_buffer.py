"""Rollout buffer: GAE through truncation with the true final value, value targets, minibatch iteration."""

import numpy as np
import pytest

from minirl.buffers import RolloutBuffer, gae


def fill(buffer, rng, truncate_at=(), terminate_at=()):
    """Random rollout; returns the per-step data the buffer was given. `truncate_at`/`terminate_at` hold (t, env)."""
    T, N = buffer.num_steps, buffer.num_envs
    given = dict(rewards=rng.normal(size=(T, N)), values=rng.normal(size=(T, N)),
                 final_values=rng.normal(size=(T, N)) + 50.0,  # far from every other value, so a mix-up shows
                 terminated=np.zeros((T, N), bool), truncated=np.zeros((T, N), bool))
    for t, e in truncate_at:
        given["truncated"][t, e] = True
    for t, e in terminate_at:
        given["terminated"][t, e] = True
    for t in range(T):
        flat = t * N + np.arange(N)  # names each sample by its flat index, to check alignment after shuffling
        buffer.add(obs=np.repeat(flat[:, None], 3, axis=1), actions=flat, log_probs=-flat.astype(float),
                   rewards=given["rewards"][t], values=given["values"][t], terminated=given["terminated"][t],
                   truncated=given["truncated"][t], final_values=given["final_values"][t])
    return given


def test_gae_bootstraps_through_truncation_from_the_final_value():
    rng = np.random.default_rng(0)
    buffer = RolloutBuffer(6, 2, obs_shape=(3,))
    given = fill(buffer, rng, truncate_at=[(2, 0), (5, 1)], terminate_at=[(3, 1), (2, 1)])
    last_values = rng.normal(size=2)
    advantages, returns = buffer.compute_returns_and_advantages(last_values, gamma=0.99, gae_lambda=0.95)

    # V(s_{t+1}) written out case by case: next stored value, or last_values, or the truncated step's final value
    next_values = np.zeros((6, 2))
    for t, e in np.ndindex(6, 2):
        if given["truncated"][t, e]:
            next_values[t, e] = given["final_values"][t, e]
        elif t == 5:
            next_values[t, e] = last_values[e]
        else:
            next_values[t, e] = given["values"][t + 1, e]
    expected = gae(given["rewards"], given["values"], next_values, given["terminated"], given["truncated"],
                   0.99, 0.95)
    np.testing.assert_allclose(advantages, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(returns, advantages + buffer.values, rtol=1e-6)
    # the truncated step's δ uses V(final observation) ≈ 50, not the next episode's first value
    delta = given["rewards"][2, 0] + 0.99 * given["final_values"][2, 0] - given["values"][2, 0]
    assert advantages[2, 0] == pytest.approx(delta, rel=1e-5)
    # the terminated step's δ has no bootstrap at all
    assert advantages[3, 1] == pytest.approx(given["rewards"][3, 1] - given["values"][3, 1], rel=1e-5)


def test_final_values_are_ignored_where_not_truncated():
    rng = np.random.default_rng(1)
    a, b = RolloutBuffer(4, 1, obs_shape=(3,)), RolloutBuffer(4, 1, obs_shape=(3,))
    fill(a, rng)
    for t in range(4):  # the same rollout with final values of another size
        b.add(a.obs[t], a.actions[t], a.log_probs[t], a.rewards[t], a.values[t], a.terminated[t], a.truncated[t],
              final_values=[1e6])
    adv_a, _ = a.compute_returns_and_advantages([0.3], 0.9, 0.8)
    adv_b, _ = b.compute_returns_and_advantages([0.3], 0.9, 0.8)
    np.testing.assert_array_equal(adv_a, adv_b)


def test_minibatches_cover_every_sample_once_and_keep_fields_aligned():
    rng = np.random.default_rng(2)
    buffer = RolloutBuffer(5, 3, obs_shape=(3,))
    fill(buffer, rng, truncate_at=[(1, 2)])
    buffer.compute_returns_and_advantages(np.zeros(3), 0.99, 0.95)
    batches = list(buffer.minibatches(4, rng=0))
    assert [len(b.actions) for b in batches] == [4, 4, 4, 3]  # 15 samples: the remainder comes last
    seen = np.concatenate([b.actions for b in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(15))
    assert not np.array_equal(seen, np.arange(15))  # shuffled
    flat_advantages, flat_returns = buffer.advantages.reshape(-1), buffer.returns.reshape(-1)
    for b in batches:
        np.testing.assert_array_equal(b.obs, np.repeat(b.actions[:, None], 3, axis=1))
        np.testing.assert_array_equal(b.log_probs, -b.actions)
        np.testing.assert_array_equal(b.advantages, flat_advantages[b.actions])
        np.testing.assert_array_equal(b.returns, flat_returns[b.actions])
        np.testing.assert_array_equal(b.values, buffer.values.reshape(-1)[b.actions])
    # the same seed gives the same order
    again = np.concatenate([b.actions for b in buffer.minibatches(4, rng=0)])
    np.testing.assert_array_equal(seen, again)


def test_misuse_is_reported():
    buffer = RolloutBuffer(2, 1, obs_shape=(3,))
    with pytest.raises(ValueError, match="final_values"):
        buffer.add(np.zeros((1, 3)), [0], [0.0], [0.0], [0.0], [False], [True])
    with pytest.raises(ValueError, match=r"obs should have shape \(1, 3\)"):
        buffer.add(np.zeros((2, 3)), [0], [0.0], [0.0], [0.0], [False], [False])
    with pytest.raises(ValueError, match="only 0 of 2 steps"):
        buffer.compute_returns_and_advantages([0.0], 0.9, 0.9)
    for _ in range(2):
        buffer.add(np.zeros((1, 3)), [0], [0.0], [0.0], [0.0], [False], [False])
    with pytest.raises(ValueError, match="compute_returns_and_advantages first"):
        next(buffer.minibatches(1))
    with pytest.raises(ValueError, match="reset"):
        buffer.add(np.zeros((1, 3)), [0], [0.0], [0.0], [0.0], [False], [False])
    buffer.reset()
    assert buffer.step == 0 and not buffer.full
