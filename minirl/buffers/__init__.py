"""Experience storage for deep RL (book chapters 4 and 5).

- `ReplayBuffer`: uniform experience replay of DQN (§4.3), with optional n-step returns (§4.7, (4.17)).
- `PrioritizedReplayBuffer`: proportional prioritized replay with IS weights (§4.6, (4.15)–(4.16)), built on
  `SumSegmentTree` and `MinSegmentTree`; `RankBasedReplayBuffer`, its rank-based variant (P(i) ∝ rank(i)^{−α}).
- `NStepAccumulator`: turns per-environment streams of 1-step transitions into n-step transitions.
- `RolloutBuffer` and `gae`: on-policy rollouts with generalized advantage estimation (A2C, TRPO, PPO; §5.10.5).
"""

from minirl.buffers.gae import gae
from minirl.buffers.n_step import NStepAccumulator
from minirl.buffers.prioritized import PrioritizedReplayBuffer
from minirl.buffers.rank_based import RankBasedReplayBuffer
from minirl.buffers.replay import Batch, ReplayBuffer
from minirl.buffers.rollout import RolloutBatch, RolloutBuffer
from minirl.buffers.segment_tree import MinSegmentTree, SegmentTree, SumSegmentTree

__all__ = ["Batch", "ReplayBuffer", "PrioritizedReplayBuffer", "RankBasedReplayBuffer", "NStepAccumulator", "SegmentTree",
           "SumSegmentTree", "MinSegmentTree", "RolloutBatch", "RolloutBuffer", "gae"]
