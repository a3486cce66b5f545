"""Grid worlds of Sutton & Barto (2018): Example 4.1 (4x4), Example 3.5 (5x5 with the A/B jumps),
Example 6.5 (windy gridworld) and Example 8.1 (Dyna maze). States are cells numbered row-major from the
top-left; actions 0 up, 1 right, 2 down, 3 left. Each model is `env.unwrapped.mdp`, built by the function of
`minirl.tabular.examples` with the same name.
"""

from __future__ import annotations

from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular import examples


class GridWorld4x4Env(DiscreteMDPEnv):
    """Example 4.1: terminal corners 0 and 15, reward -1 per step; episodes start in a uniformly random
    non-terminal cell."""

    def __init__(self, gamma: float = 1.0):
        super().__init__(examples.gridworld_4x4(gamma))


class GridWorld5x5Env(DiscreteMDPEnv):
    """Example 3.5, a continuing task (register it with a time limit): A -> A' pays +10, B -> B' +5,
    bumping into the edge -1; episodes start in a uniformly random cell."""

    def __init__(self, gamma: float = 0.9):
        super().__init__(examples.gridworld_5x5(gamma))


class WindyGridworldEnv(DiscreteMDPEnv):
    """Example 6.5: reward -1 per step until the goal; the wind of the current column pushes the agent up.
    king_moves=True adds the diagonal moves 4..7 (Exercise 6.9)."""

    def __init__(self, king_moves: bool = False, gamma: float = 1.0):
        super().__init__(examples.windy_gridworld(king_moves=king_moves, gamma=gamma))


class DynaMazeEnv(DiscreteMDPEnv):
    """Example 8.1: reward +1 on reaching the goal, 0 otherwise; `layout` rows use S, G, # and spaces."""

    def __init__(self, layout=examples.DYNA_MAZE, gamma: float = 0.95):
        super().__init__(examples.dyna_maze(layout=layout, gamma=gamma))
        self.layout = list(layout)
