"""Wrappers: an environment around an environment, changing one thing about it (Gymnasium's names).

    TimeLimit                truncate after max_episode_steps (make() adds it from the registry)
    RecordEpisodeStatistics  info["episode"] = {"r", "l", "t"} at each episode's end
    NormalizeObservation     running mean/std normalization of observations
    NormalizeReward          rewards divided by the running std of the discounted return
    ClipAction               clip continuous actions into the action space
    FrameStackObservation    the last k observations stacked (alias FrameStack)
    TransformObservation, TransformReward   apply a function

All but TimeLimit work on vector envs too (whole batches, and info["final_obs"] kept consistent).
"""

from minirl.envs.wrappers.common import (
    ClipAction,
    RecordEpisodeStatistics,
    TimeLimit,
    TransformObservation,
    TransformReward,
)
from minirl.envs.wrappers.core import ActionWrapper, ObservationWrapper, RewardWrapper, Wrapper
from minirl.envs.wrappers.frame_stack import FrameStack, FrameStackObservation
from minirl.envs.wrappers.normalize import NormalizeObservation, NormalizeReward, RunningMeanStd

__all__ = [
    "Wrapper", "ObservationWrapper", "RewardWrapper", "ActionWrapper", "TimeLimit", "RecordEpisodeStatistics",
    "ClipAction", "TransformObservation", "TransformReward", "FrameStackObservation", "FrameStack",
    "NormalizeObservation", "NormalizeReward", "RunningMeanStd",
]
