"""Segment trees over the priorities of prioritized experience replay (book §4.6, L18621–18715; code L19601–19660).

PER samples transition i with probability P(i) = p_i^α / Σ_k p_k^α (4.15) and corrects with importance-sampling
weights w_i = (N·P(i))^{−β} (4.16). Done naively, each sample scans all N priorities. A segment tree stores the
priorities in the leaves of a complete binary tree whose every inner node holds the sum (or the minimum) of its two
children, so that

- changing one priority rewrites only the log2(N) nodes above its leaf,
- the total Σ_k p_k^α is the root,
- finding the leaf where a running sum of the leaves first exceeds a value ("prefix-sum search") is a walk from the
  root down to a leaf: log2(N) steps.

Layout (array-backed, no pointers): the tree is one array `values` of length 2·size, where size is a power of two.
Node 1 is the root, node k has children 2k and 2k+1, and leaf i lives at node size + i. Node 0 is unused.

Every method works on whole batches of indices at once: an update rewrites one tree level at a time for all changed
leaves, and a prefix-sum search descends for all samples together, so the Python loops run over the log2(N) levels
only, never over samples.
"""

import operator

import numpy as np


SCALAR_OPERATIONS = {np.add: operator.add, np.minimum: min}  # the same operations on two numbers


class SegmentTree:
    """A complete binary tree over `capacity` leaves whose inner nodes combine their children with `operation`.

    `neutral` is the operation's identity (0 for a sum, +inf for a minimum); unused leaves hold it, so they never
    change a reduction.
    """

    def __init__(self, capacity, operation, neutral):
        if capacity < 1:
            raise ValueError(f"SegmentTree: capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self.size = 1 << (self.capacity - 1).bit_length()  # the smallest power of two ≥ capacity
        self.depth = self.size.bit_length() - 1  # levels between the root and the leaves: log2(size)
        self.operation = operation
        self.neutral = float(neutral)
        self.values = np.full(2 * self.size, self.neutral, dtype=np.float64)

    def _check_indices(self, indices):
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= self.capacity):
            raise IndexError(f"{type(self).__name__}: leaf indices must lie in [0, {self.capacity}), "
                             f"got range [{indices.min()}, {indices.max()}]")
        return indices

    def update(self, indices, values):
        """Set leaves `indices` to `values` (both 1-D, or a scalar value) and repair every node above them."""
        indices = self._check_indices(indices)
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
        if indices.size == 1:  # one new transition per step: walk up with Python numbers, no array per level
            node, tree, operation = int(indices[0]) + self.size, self.values, SCALAR_OPERATIONS[self.operation]
            tree[node] = float(values[0])
            for _ in range(self.depth):
                node //= 2
                tree[node] = operation(tree[2 * node], tree[2 * node + 1])
            return
        # a leaf named twice takes its last value (NumPy does not promise an order for repeated fancy indices)
        indices, last = np.unique(indices[::-1], return_index=True)
        values = values[::-1][last]
        nodes = indices + self.size
        self.values[nodes] = values
        for _ in range(self.depth):
            # one level up at a time: each parent is the operation of its two children (a parent named twice is
            # computed twice from the same children, so the repeats write the same value)
            nodes = nodes // 2
            self.values[nodes] = self.operation(self.values[2 * nodes], self.values[2 * nodes + 1])

    def __getitem__(self, indices):
        """The values stored in the leaves `indices`."""
        if np.isscalar(indices):
            return self.values[self.size + self._check_indices(indices)[0]]
        return self.values[self.size + self._check_indices(indices)]

    def reduce(self, start=0, end=None):
        """operation(leaf[start], ..., leaf[end − 1]) over the half-open range [start, end), in O(log N).

        Bottom-up: a boundary node that is a right child (left end) or whose range ends at a left child (right end)
        is taken whole; then both ends move up one level.
        """
        end = self.capacity if end is None else end
        if not 0 <= start <= end <= self.capacity:
            raise IndexError(f"{type(self).__name__}: range [{start}, {end}) is not inside [0, {self.capacity})")
        result = self.neutral
        left, right = start + self.size, end + self.size
        while left < right:
            if left & 1:
                result = self.operation(result, self.values[left])
                left += 1
            if right & 1:
                right -= 1
                result = self.operation(result, self.values[right])
            left //= 2
            right //= 2
        return float(result)


class SumSegmentTree(SegmentTree):
    """Each node holds the sum of its subtree: the root is Σ_k p_k^α, the denominator of (4.15)."""

    def __init__(self, capacity):
        super().__init__(capacity, np.add, 0.0)

    def sum(self, start=0, end=None):
        """Σ leaf[start:end]; with no arguments this is the root, the sum of all leaves."""
        if start == 0 and end is None:
            return float(self.values[1])
        return self.reduce(start, end)

    def find_prefixsum_idx(self, prefix_sums):
        """For each s in `prefix_sums`, the smallest leaf index i with leaf[0] + ... + leaf[i] > s.

        This inverts the cumulative distribution of the leaves: if s is uniform on [0, total), then leaf i is
        returned with probability leaf[i] / total. All samples descend together: at each level a sample goes to
        the left child when s falls inside the left subtree's sum, else it subtracts that sum and goes right.
        """
        prefix_sums = np.array(prefix_sums, dtype=np.float64).reshape(-1)
        if prefix_sums.size and prefix_sums.min() < 0:
            raise ValueError(f"SumSegmentTree.find_prefixsum_idx: prefix sums must be ≥ 0, got {prefix_sums.min()}")
        nodes = np.ones(prefix_sums.shape, dtype=np.int64)
        for _ in range(self.depth):
            left_sums = self.values[2 * nodes]
            go_left = prefix_sums < left_sums
            prefix_sums = np.where(go_left, prefix_sums, prefix_sums - left_sums)
            nodes = np.where(go_left, 2 * nodes, 2 * nodes + 1)
        # a sample at (or, by rounding, past) the total would walk into the empty leaves on the right
        return np.minimum(nodes - self.size, self.capacity - 1)


class MinSegmentTree(SegmentTree):
    """Each node holds the minimum of its subtree: the root is min_k p_k^α, which gives the largest IS weight."""

    def __init__(self, capacity):
        super().__init__(capacity, np.minimum, np.inf)

    def min(self, start=0, end=None):
        """min leaf[start:end]; with no arguments this is the root, the minimum of all leaves."""
        if start == 0 and end is None:
            return float(self.values[1])
        return self.reduce(start, end)
