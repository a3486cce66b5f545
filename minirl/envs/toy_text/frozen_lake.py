"""FrozenLake-v1 with Gymnasium's maps, state numbering, actions, rewards and transition probabilities.

Walk from S to G over frozen tiles F without falling into a hole H. Actions 0 left, 1 down, 2 right, 3 up;
on slippery ice the agent moves in the intended direction with probability `success_rate` (1/3 by default)
and in each perpendicular direction with half the rest. Reaching G pays 1 and, like falling into H, ends the
episode. Outcomes are drawn in Gymnasium's order, so a seed gives the same trajectory as
``gymnasium.make("FrozenLake-v1")``. The model is `env.unwrapped.mdp` (`minirl.tabular.examples.frozen_lake`).
"""

from __future__ import annotations

from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular.examples import FROZEN_LAKE_MAPS, frozen_lake

MAPS = FROZEN_LAKE_MAPS


class FrozenLakeEnv(DiscreteMDPEnv):
    def __init__(self, desc=None, map_name: str = "4x4", is_slippery: bool = True, success_rate: float = 1.0 / 3.0,
                 reward_schedule=(1.0, 0.0, 0.0), gamma: float = 1.0, render_mode: str | None = None):
        if desc is None and map_name not in MAPS:
            raise ValueError(f"FrozenLake: unknown map_name {map_name!r}; choose one of {sorted(MAPS)} or give desc")
        self.desc = list(desc if desc is not None else MAPS[map_name])
        self.nrow, self.ncol = len(self.desc), len(self.desc[0])
        super().__init__(frozen_lake(desc=self.desc, is_slippery=is_slippery, success_rate=success_rate,
                                     reward_schedule=reward_schedule, gamma=gamma))
        self.render_mode = render_mode
