"""Prioritized replay: sampling frequencies (chi-square), IS weights (4.16), β annealing, new-transition priority."""

from statistics import NormalDist

import numpy as np
import pytest

from minirl.buffers import PrioritizedReplayBuffer


def filled_buffer(count, capacity=None, **kwargs):
    buffer = PrioritizedReplayBuffer(capacity or count, obs_shape=(1,), **kwargs)
    for i in range(count):
        buffer.add([i], i, 0.0, [i + 1], False, False)
    return buffer


def chi_square_critical_value(degrees_of_freedom, confidence):
    """Wilson–Hilferty: (χ²_k / k)^{1/3} is close to normal with mean 1 − 2/(9k) and variance 2/(9k). For k = 9 and
    0.999 it gives 28.1 (the exact quantile is 27.9), so it errs on the lenient side by under 1 %."""
    k, z = degrees_of_freedom, NormalDist().inv_cdf(confidence)
    return k * (1 - 2 / (9 * k) + z * np.sqrt(2 / (9 * k))) ** 3


def test_sampling_frequencies_match_priorities_chi_square():
    # P(i) = p_i^α / Σ p^α (4.15). Under that law the statistic Σ (O − E)²/E over 10 cells is χ² with 9 degrees of
    # freedom; a correct sampler exceeds the 0.999 quantile with probability 0.001 for a random seed, and
    # stratification (one draw per segment) only makes the counts less variable. The seed is fixed, so the test is
    # deterministic; the second check shows that the same statistic rejects a sampler that ignores α.
    alpha, priorities = 0.6, np.arange(1.0, 11.0)
    buffer = filled_buffer(10, alpha=alpha, seed=2024)
    buffer.update_priorities(np.arange(10), priorities - buffer.eps)  # p_i = |δ_i| + ε = i + 1
    draws = np.concatenate([buffer.sample(32).indices for _ in range(600)])
    observed = np.bincount(draws, minlength=10)

    def chi_square(probabilities):
        expected = len(draws) * probabilities
        return np.sum((observed - expected) ** 2 / expected)

    threshold = chi_square_critical_value(9, 0.999)
    assert threshold == pytest.approx(27.877, rel=0.01)
    assert chi_square(priorities ** alpha / np.sum(priorities ** alpha)) < threshold
    assert chi_square(priorities / priorities.sum()) > 10 * threshold  # α = 1 would be a different law


def test_sampling_is_stratified_one_draw_per_segment():
    # equal priorities and as many samples as transitions: segment i of the total is exactly leaf i
    buffer = filled_buffer(16, seed=5)
    for _ in range(3):
        np.testing.assert_array_equal(buffer.sample(16).indices, np.arange(16))


def test_only_filled_slots_are_sampled():
    buffer = filled_buffer(5, capacity=16, seed=0)
    batch = buffer.sample(1000)
    assert batch.indices.max() < 5
    np.testing.assert_array_equal(batch.obs[:, 0], batch.indices)


def test_importance_sampling_weights_equal_their_definition():
    rng = np.random.default_rng(0)
    alpha, beta = 0.7, 0.5
    buffer = filled_buffer(12, capacity=20, alpha=alpha, beta=beta, beta_final=beta, seed=1)
    td_errors = rng.normal(size=12) * 3
    td_errors[7] = 0.0  # p_7 = ε: the largest weight belongs to a transition that is (almost) never drawn
    buffer.update_priorities(np.arange(12), td_errors)
    batch = buffer.sample(64)
    assert 7 not in batch.indices

    p = np.abs(td_errors) + buffer.eps                          # proportional priority
    probabilities = p ** alpha / np.sum(p ** alpha)             # (4.15)
    w = (len(buffer) * probabilities) ** -beta                  # (4.16)
    # normalized by the largest weight over the whole buffer, not over this batch
    np.testing.assert_allclose(batch.weights, w[batch.indices] / w.max(), rtol=1e-5)
    assert batch.weights.max() < 1.0


def test_beta_anneals_linearly_as_in_the_book_footnote():
    # book L18705: β_t = 0.6 + t(1.0 − 0.6)/99 for 0 ≤ t < 100
    buffer = filled_buffer(4, beta=0.6, beta_final=1.0, beta_steps=100)
    betas = []
    for _ in range(150):
        betas.append(buffer.beta)
        buffer.sample(2)
    assert betas[0] == 0.6
    assert betas[50] == pytest.approx(0.80202, abs=1e-5)
    assert betas[99] == pytest.approx(1.0) and betas[149] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(betas[:100]), 0.4 / 99)


def test_new_transitions_get_the_largest_priority_seen():
    buffer = filled_buffer(3, capacity=8, alpha=0.5)
    np.testing.assert_allclose(buffer.sum_tree[np.arange(3)], 1.0)  # max priority starts at 1
    buffer.update_priorities([0, 1], [4.0, -9.0])
    slot = buffer.add([3], 3, 0.0, [4], False, False)
    assert buffer.max_priority == pytest.approx(9.0 + buffer.eps)
    assert buffer.sum_tree[slot[0]] == pytest.approx((9.0 + buffer.eps) ** 0.5)
    assert buffer.min_tree.min() == pytest.approx(1.0)  # slot 2 was never updated


def test_state_round_trip_gives_identical_future_samples():
    original = filled_buffer(10, capacity=16, seed=3, beta_steps=10)
    original.update_priorities(np.arange(10), np.linspace(0, 2, 10))
    original.sample(4)
    restored = filled_buffer(0, capacity=16, seed=99, beta_steps=10)
    restored.load_state_dict(original.state_dict())
    for step in range(5):
        a, b = original.sample(8), restored.sample(8)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.weights, b.weights)
        original.update_priorities(a.indices, a.indices * 0.1 + step)
        restored.update_priorities(b.indices, b.indices * 0.1 + step)


def test_update_priorities_checks_its_inputs():
    buffer = filled_buffer(4)
    with pytest.raises(ValueError, match="2 indices but 3 TD errors"):
        buffer.update_priorities([0, 1], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        buffer.update_priorities([0], [np.nan])
