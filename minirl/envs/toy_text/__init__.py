"""Tabular (toy-text) environments; each registers itself with `minirl.envs.register`.

Every environment here except Blackjack is a `DiscreteMDPEnv`: its known model is `env.unwrapped.mdp`, a
`minirl.tabular.MDP` that dynamic programming can solve exactly.
"""

from minirl.envs.registration import register
from minirl.envs.toy_text.discrete import DiscreteMDPEnv, categorical_sample

__all__ = ["DiscreteMDPEnv", "categorical_sample"]

_HERE = "minirl.envs.toy_text"
# Gymnasium's toy-text environments, same ids, kwargs and time limits
register("FrozenLake-v1", f"{_HERE}.frozen_lake:FrozenLakeEnv", max_episode_steps=100, reward_threshold=0.70,
         map_name="4x4")
register("FrozenLake8x8-v1", f"{_HERE}.frozen_lake:FrozenLakeEnv", max_episode_steps=200, reward_threshold=0.85,
         map_name="8x8")
register("CliffWalking-v0", f"{_HERE}.cliff_walking:CliffWalkingEnv")
register("CliffWalking-v1", f"{_HERE}.cliff_walking:CliffWalkingEnv")
register("CliffWalkingSlippery-v1", f"{_HERE}.cliff_walking:CliffWalkingEnv", is_slippery=True)
register("Blackjack-v1", f"{_HERE}.blackjack:BlackjackEnv", sab=True, natural=False)
# the book's example (ch. 2.3) and Sutton & Barto's examples
register("StudentMRP-v0", f"{_HERE}.classic_mdps:StudentMRPEnv")
register("StudentMDP-v0", f"{_HERE}.classic_mdps:StudentMDPEnv")
register("GridWorld4x4-v0", f"{_HERE}.gridworlds:GridWorld4x4Env")
register("GridWorld5x5-v0", f"{_HERE}.gridworlds:GridWorld5x5Env", max_episode_steps=100)
register("WindyGridworld-v0", f"{_HERE}.gridworlds:WindyGridworldEnv")
register("DynaMaze-v0", f"{_HERE}.gridworlds:DynaMazeEnv")
register("RandomWalk-v0", f"{_HERE}.classic_mdps:RandomWalkEnv", n_states=5)
register("RandomWalk19-v0", f"{_HERE}.classic_mdps:RandomWalkEnv", n_states=19, left_reward=-1.0)
register("GamblersProblem-v0", f"{_HERE}.classic_mdps:GamblersProblemEnv")
register("JacksCarRental-v0", f"{_HERE}.classic_mdps:JacksCarRentalEnv", max_episode_steps=100)
register("MaximizationBias-v0", f"{_HERE}.classic_mdps:MaximizationBiasEnv")
register("ShortCorridor-v0", f"{_HERE}.classic_mdps:ShortCorridorEnv")
