"""Classic control environments with Gymnasium's exact dynamics, each with a vectorized twin.

    id                          single env                  vectorized (make_vec)            time limit
    CartPole-v0 / CartPole-v1   CartPoleEnv                 CartPoleVectorEnv                200 / 500
    MountainCar-v0              MountainCarEnv              MountainCarVectorEnv             200
    MountainCarContinuous-v0    Continuous_MountainCarEnv   ContinuousMountainCarVectorEnv   999
    Pendulum-v1                 PendulumEnv                 PendulumVectorEnv                200
    Acrobot-v1                  AcrobotEnv                  AcrobotVectorEnv                 500
"""

from minirl.envs.classic_control.acrobot import AcrobotEnv, AcrobotVectorEnv
from minirl.envs.classic_control.cartpole import CartPoleEnv, CartPoleVectorEnv
from minirl.envs.classic_control.continuous_mountain_car import (
    Continuous_MountainCarEnv,
    ContinuousMountainCarEnv,
    ContinuousMountainCarVectorEnv,
)
from minirl.envs.classic_control.mountain_car import MountainCarEnv, MountainCarVectorEnv
from minirl.envs.classic_control.pendulum import PendulumEnv, PendulumVectorEnv
from minirl.envs.registration import register

_here = "minirl.envs.classic_control"
register("CartPole-v0", f"{_here}.cartpole:CartPoleEnv", max_episode_steps=200, reward_threshold=195.0,
         vector_entry_point=f"{_here}.cartpole:CartPoleVectorEnv")
register("CartPole-v1", f"{_here}.cartpole:CartPoleEnv", max_episode_steps=500, reward_threshold=475.0,
         vector_entry_point=f"{_here}.cartpole:CartPoleVectorEnv")
register("MountainCar-v0", f"{_here}.mountain_car:MountainCarEnv", max_episode_steps=200, reward_threshold=-110.0,
         vector_entry_point=f"{_here}.mountain_car:MountainCarVectorEnv")
register("MountainCarContinuous-v0", f"{_here}.continuous_mountain_car:Continuous_MountainCarEnv",
         max_episode_steps=999, reward_threshold=90.0,
         vector_entry_point=f"{_here}.continuous_mountain_car:ContinuousMountainCarVectorEnv")
register("Pendulum-v1", f"{_here}.pendulum:PendulumEnv", max_episode_steps=200,
         vector_entry_point=f"{_here}.pendulum:PendulumVectorEnv")
register("Acrobot-v1", f"{_here}.acrobot:AcrobotEnv", max_episode_steps=500, reward_threshold=-100.0,
         vector_entry_point=f"{_here}.acrobot:AcrobotVectorEnv")

__all__ = [
    "AcrobotEnv", "AcrobotVectorEnv", "CartPoleEnv", "CartPoleVectorEnv", "Continuous_MountainCarEnv",
    "ContinuousMountainCarEnv", "ContinuousMountainCarVectorEnv", "MountainCarEnv", "MountainCarVectorEnv",
    "PendulumEnv", "PendulumVectorEnv",
]
