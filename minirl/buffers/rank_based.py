"""Prioritized experience replay, rank-based variant (book §4.6, L18661–18685; Schaul et al. 2015).

The proportional variant (prioritized.py) replays in proportion to |δ|, so one outlier with a huge TD error
can dominate the batches. The rank-based variant only uses the order of the errors:

    p_i = 1 / rank(i),        P(i) = p_i^α / Σ_k p_k^α                                   (4.15)

where rank(i) is the position of transition i when the stored |δ| are sorted from largest to smallest. The law
over ranks depends only on the number N of stored transitions (a truncated power law), so it is robust to the
scale of the errors and to outliers. The IS weights (4.16) are the same as in the proportional variant; the
largest w_j belongs to the last rank, N.

Here the ranks are exact: the stored |δ| are sorted at every `sample` (N log N, a few milliseconds at N = 10^5;
Schaul et al. keep an approximately sorted heap instead). Sampling is stratified like the proportional
variant's: the total probability is cut into batch_size equal segments, one draw in each.
"""

import numpy as np

from minirl.buffers.prioritized import PrioritizedReplayBuffer


def rank_probabilities(size: int, alpha: float) -> np.ndarray:
    """P(rank r) = r^{−α} / Σ_{k=1}^N k^{−α} for r = 1..N (4.15 with p = 1/rank)."""
    scaled = np.arange(1, size + 1, dtype=np.float64) ** -alpha
    return scaled / scaled.sum()


class RankBasedReplayBuffer(PrioritizedReplayBuffer):
    """A `ReplayBuffer` sampled with P(i) ∝ rank(i)^{−α} (4.15), with IS weights (4.16) in `Batch.weights`.

    The arguments and `update_priorities(batch.indices, td_errors)` are those of `PrioritizedReplayBuffer`."""

    def __init__(self, capacity, obs_shape, **kwargs):
        super().__init__(capacity, obs_shape, **kwargs)
        self.priorities = np.zeros(self.capacity)  # |δ_i| + ε of each slot; only their order matters
        self._law = (0, None, None)  # (N, P over ranks 1..N, its running sum), recomputed when N changes

    def _set_priorities(self, indices, priorities):
        self.priorities[indices] = priorities

    def sample(self, batch_size):
        """A stratified sample with P(i) ∝ rank(i)^{−α}; `Batch.weights` are the normalized IS weights at β."""
        if self.size == 0:
            raise ValueError("RankBasedReplayBuffer.sample: the buffer is empty; add transitions first")
        n = self.size
        if self._law[0] != n:
            law = rank_probabilities(n, self.alpha)
            self._law = (n, law, np.cumsum(law))
        _, law, cumulative = self._law
        by_rank = np.argsort(-self.priorities[:n], kind="stable")  # the slots of ranks 1, 2, ..., N
        draws = (np.arange(batch_size) + self.rng.random(batch_size)) / batch_size * cumulative[-1]
        rank_index = np.minimum(np.searchsorted(cumulative, draws, side="right"), n - 1)  # rank − 1
        beta = self.beta
        weights = (n * law[rank_index]) ** -beta                   # (N·P(i))^{−β}   (4.16)
        max_weight = (n * law[-1]) ** -beta                        # the largest: the last rank's
        self.sample_count += 1
        return self._batch(by_rank[rank_index], weights / max_weight)

    def state_dict(self):
        return {**super().state_dict(), "priorities": self.priorities.copy()}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.priorities[...] = state["priorities"]
