"""Prioritized experience replay, proportional variant (book §4.6, L18621–18715; code L19601–19660; Schaul et al. 2015).

Transitions with a large TD error δ have more to teach, so they are replayed more often:

    P(i) = p_i^α / Σ_k p_k^α,        p_i = |δ_i| + ε                                    (4.15)

α = 0 is uniform replay. Sampling from P changes the distribution the updates average over, which biases them;
importance-sampling weights undo that bias, and are divided by their largest value so they only ever scale a step
down:

    w_i = (N·P(i))^{−β} / max_j w_j                                                      (4.16)

The largest w_j belongs to the smallest P(j), so max_j w_j = (N·min_k p_k^α / Σ_k p_k^α)^{−β}: a sum tree gives the
denominator and P(i), a min tree gives the normalizer (N cancels in the ratio). β starts below 1 and is annealed
linearly to 1, where the correction is complete (the updates are unbiased near the end of training). With the book's
footnote (L18705), β_t = β_0 + t·(β_final − β_0)/(T − 1) for 0 ≤ t < T, and β_final after that.

Sampling is stratified, as in the book's code: the total Σ_k p_k^α is cut into batch_size equal segments and one
prefix sum is drawn uniformly inside each, so a batch covers the whole distribution. New transitions get the largest
priority seen so far, so each is replayed soon after it arrives.
"""

import numpy as np

from minirl.buffers.replay import ReplayBuffer
from minirl.buffers.segment_tree import MinSegmentTree, SumSegmentTree


class PrioritizedReplayBuffer(ReplayBuffer):
    """A `ReplayBuffer` sampled with P(i) ∝ p_i^α (4.15) and returning IS weights (4.16) in `Batch.weights`.

    `beta` is β_0, reached `beta_final` after `beta_steps` calls of `sample` (set it to the number of learning
    updates). After each learning step, call `update_priorities(batch.indices, td_errors)`.
    """

    def __init__(self, capacity, obs_shape, action_shape=(), obs_dtype=np.float32, action_dtype=np.int64,
                 num_envs=1, n_step=1, gamma=0.99, seed=None, alpha=0.6, beta=0.4, beta_final=1.0,
                 beta_steps=100_000, eps=1e-6):
        super().__init__(capacity, obs_shape, action_shape, obs_dtype, action_dtype, num_envs, n_step, gamma, seed)
        if alpha < 0 or eps <= 0 or beta_steps < 1:
            raise ValueError(f"PrioritizedReplayBuffer: need alpha ≥ 0, eps > 0, beta_steps ≥ 1; "
                             f"got alpha={alpha}, eps={eps}, beta_steps={beta_steps}")
        self.alpha, self.beta_start, self.beta_final = float(alpha), float(beta), float(beta_final)
        self.beta_steps, self.eps = int(beta_steps), float(eps)
        self.sum_tree = SumSegmentTree(self.capacity)  # leaves p_i^α
        self.min_tree = MinSegmentTree(self.capacity)
        self.max_priority = 1.0  # the largest p_i seen, given to new transitions
        self.sample_count = 0    # t in the β schedule

    @property
    def beta(self):
        """β_t = β_0 + t·(β_final − β_0)/(T − 1), held at β_final from t = T − 1 on (book footnote, L18705)."""
        progress = min(self.sample_count / max(self.beta_steps - 1, 1), 1.0)
        return self.beta_start + progress * (self.beta_final - self.beta_start)

    def _set_priorities(self, indices, priorities):
        scaled = np.asarray(priorities, dtype=np.float64) ** self.alpha  # p_i^α
        self.sum_tree.update(indices, scaled)
        self.min_tree.update(indices, scaled)

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        slots = super().add(obs, action, reward, next_obs, terminated, truncated)
        self._set_priorities(slots, self.max_priority)
        return slots

    def sample(self, batch_size):
        """A stratified sample with P(i) ∝ p_i^α; `Batch.weights` are the normalized IS weights at the current β."""
        if self.size == 0:
            raise ValueError("PrioritizedReplayBuffer.sample: the buffer is empty; add transitions first")
        total = self.sum_tree.sum()
        segment = total / batch_size
        prefix_sums = (np.arange(batch_size) + self.rng.random(batch_size)) * segment  # one draw per segment
        # the filled slots are 0..size−1; rounding at the very top of the total can only overshoot to the right
        indices = np.minimum(self.sum_tree.find_prefixsum_idx(prefix_sums), self.size - 1)

        beta, n = self.beta, self.size
        probabilities = self.sum_tree[indices] / total                      # P(i)            (4.15)
        weights = (n * probabilities) ** -beta                              # (N·P(i))^{−β}   (4.16)
        max_weight = (n * self.min_tree.min() / total) ** -beta             # max_j w_j at min_j P(j)
        self.sample_count += 1
        return self._batch(indices, weights / max_weight)

    def update_priorities(self, indices, td_errors):
        """Proportional prioritization p_i = |δ_i| + ε for the sampled slots `indices`."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        td_errors = np.asarray(td_errors, dtype=np.float64).reshape(-1)
        if indices.shape != td_errors.shape:
            raise ValueError(f"PrioritizedReplayBuffer.update_priorities: {indices.size} indices but "
                             f"{td_errors.size} TD errors")
        if not np.all(np.isfinite(td_errors)):
            raise ValueError("PrioritizedReplayBuffer.update_priorities: TD errors contain NaN or inf")
        priorities = np.abs(td_errors) + self.eps
        self.max_priority = max(self.max_priority, float(priorities.max(initial=0.0)))
        self._set_priorities(indices, priorities)

    def state_dict(self):
        state = super().state_dict()
        state.update(sum_tree=self.sum_tree.values.copy(), min_tree=self.min_tree.values.copy(),
                     max_priority=self.max_priority, sample_count=self.sample_count)
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.sum_tree.values[...] = state["sum_tree"]
        self.min_tree.values[...] = state["min_tree"]
        self.max_priority, self.sample_count = float(state["max_priority"]), int(state["sample_count"])
