"""Environments with Gymnasium's API (book ch. 2.1): spaces, the registry, our own environments, vector envs,
wrappers, an env checker and an adapter for Gymnasium's environments.

    env = minirl.envs.make("CartPole-v1")
    obs, info = env.reset(seed=0)
    envs = minirl.envs.make_vec("CartPole-v1", num_envs=16, seed=0)   # see minirl.envs.vector for autoreset
    minirl.envs.list()                                                   # every registered id

Gymnasium itself is imported only by `from_gymnasium` (and the tests), never when minirl is imported.
"""

from minirl.envs import spaces
from minirl.envs.checker import EnvCheckError, check_env
from minirl.envs.core import Env
from minirl.envs.gymnasium_adapter import from_gymnasium
from minirl.envs.registration import EnvSpec, UnknownEnvironmentError, make, make_vec, register, registry, spec
from minirl.envs.registration import list  # noqa: A004
from minirl.envs.vector import SyncVectorEnv, VectorEnv
from minirl.envs.wrappers import (
    ClipAction,
    FrameStack,
    FrameStackObservation,
    NormalizeObservation,
    NormalizeReward,
    RecordEpisodeStatistics,
    TimeLimit,
    TransformObservation,
    TransformReward,
    Wrapper,
)

# importing the packages registers their environments
from minirl.envs import classic_control, toy_text  # noqa: E402,F401
from minirl.envs.board_games import BoardGame, BoardGameEnv, Gomoku, TicTacToe  # noqa: E402

# the Atari games of chapter 4.8 ("BreakoutNoFrameskip-v4", ...), when ale-py is installed (imported at make)
from minirl.envs.wrappers.atari import register_atari_games  # noqa: E402

register_atari_games()

__all__ = [
    "Env", "EnvSpec", "VectorEnv", "SyncVectorEnv", "Wrapper", "TimeLimit", "RecordEpisodeStatistics",
    "NormalizeObservation", "NormalizeReward", "ClipAction", "FrameStackObservation", "FrameStack",
    "TransformObservation", "TransformReward", "make", "make_vec", "register", "registry", "spec", "list",
    "spaces", "check_env", "EnvCheckError", "from_gymnasium", "UnknownEnvironmentError",
    "BoardGame", "Gomoku", "TicTacToe", "BoardGameEnv",
]
