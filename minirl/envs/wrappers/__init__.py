"""Wrappers: an environment around an environment, changing one thing about it (Gymnasium's names).

    TimeLimit                truncate after max_episode_steps (make() adds it from the registry)
    RecordEpisodeStatistics  info["episode"] = {"r", "l", "t"} at each episode's end
    NormalizeObservation     running mean/std normalization of observations
    NormalizeReward          rewards divided by the running std of the discounted return
    ClipAction               clip continuous actions into the action space
    FrameStackObservation    the last k observations stacked (alias FrameStack)
    TransformObservation, TransformReward   apply a function
    NoopReset, MaxAndSkip, EpisodicLife, FireReset, WarpFrame, ClipReward   the Atari stack of DQN (book ch. 4.8),
                             put together by wrap_deepmind / make_atari (atari.py)

All but TimeLimit and the Atari wrappers that keep a game's state (NoopReset, MaxAndSkip, EpisodicLife, FireReset)
work on vector envs too (whole batches, and info["final_obs"] kept consistent).
"""

from minirl.envs.wrappers.common import (
    ClipAction,
    RecordEpisodeStatistics,
    TimeLimit,
    TransformObservation,
    TransformReward,
)
from minirl.envs.wrappers.atari import (
    ClipReward,
    EpisodicLife,
    FireReset,
    MaxAndSkip,
    NoopReset,
    WarpFrame,
    make_atari,
    wrap_deepmind,
)
from minirl.envs.wrappers.core import ActionWrapper, ObservationWrapper, RewardWrapper, Wrapper
from minirl.envs.wrappers.frame_stack import FrameStack, FrameStackObservation
from minirl.envs.wrappers.normalize import NormalizeObservation, NormalizeReward, RunningMeanStd

__all__ = [
    "Wrapper", "ObservationWrapper", "RewardWrapper", "ActionWrapper", "TimeLimit", "RecordEpisodeStatistics",
    "ClipAction", "TransformObservation", "TransformReward", "FrameStackObservation", "FrameStack",
    "NormalizeObservation", "NormalizeReward", "RunningMeanStd", "NoopReset", "MaxAndSkip", "EpisodicLife",
    "FireReset", "WarpFrame", "ClipReward", "wrap_deepmind", "make_atari",
]
