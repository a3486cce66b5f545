"""CliffWalking as in Gymnasium 1.x (Sutton & Barto Example 6.6): a 4x12 grid, start at the bottom-left,
goal at the bottom-right, the cliff between them.

Every step costs -1. Stepping into the cliff costs -100 and puts the agent back at the start; the episode
does *not* end there (Gymnasium 1.x), only on reaching the goal. Actions 0 up, 1 right, 2 down, 3 left;
``is_slippery=True`` (CliffWalking-v1's option) moves in the intended or either perpendicular direction
with probability 1/3 each. The model is `env.unwrapped.mdp` (`minirl.tabular.examples.cliff_walking`).
"""

from __future__ import annotations

from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular.examples import cliff_walking


class CliffWalkingEnv(DiscreteMDPEnv):
    shape = (4, 12)

    def __init__(self, is_slippery: bool = False, gamma: float = 1.0, render_mode: str | None = None):
        super().__init__(cliff_walking(is_slippery=is_slippery, gamma=gamma))
        self.is_slippery = is_slippery
        self.render_mode = render_mode
