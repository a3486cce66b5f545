"""MountainCarContinuous: the mountain car with a continuous engine force and an energy penalty.

Origin: Moore (1990) as MountainCar; the continuous version is OpenAI Gym's (after Arnaud de Broissia).
Book: ch. 7.2 discusses exploration on MountainCar; with continuous actions it is the usual test for the
exploration noise of DDPG (ch. 6.2): a timid policy learns to stand still and collect 0.

Gymnasium 1.4's MountainCarContinuous-v0, reproduced exactly:
    observation  (position, velocity), float32, position in [-1.2, 0.6], velocity in [-0.07, 0.07]
    action       force, shape (1,), in [-1, 1] (larger forces are clipped)
    dynamics     v += 0.0015 * force - 0.0025 cos(3 p), clipped; p += v, clipped; hitting the left wall stops the car
    reward       -0.1 * action² every step, +100 on reaching the goal
    terminated   p >= 0.45 and v >= goal_velocity (a keyword argument, default 0)
    truncated    after 999 steps (the registry's time limit)
    reset        p uniform in (-0.6, -0.4), v = 0; ``options={"low": l, "high": h}`` changes p's interval

Gymnasium keeps this env's state in float32 once it has stepped (its first step still starts from the float64
reset draw) and mixes float32 and Python-float arithmetic. Over 999 steps float32 rounding matters at 1e-6, so
the physics below rounds exactly where Gymnasium does. Actions are taken as float32, the action space's dtype.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.classic_control.base import ClassicControlEnv
from minirl.envs.classic_control.mountain_car import MountainCarPhysics
from minirl.envs.spaces import Box
from minirl.envs.vector.vectorized import VectorizedEnv


def _f32(x):
    """Round to float32, keeping float64: one float32 operation equals the float64 one rounded this way."""
    return np.float32(x).astype(np.float64)


class ContinuousMountainCarPhysics(MountainCarPhysics):
    """Continuous mountain-car dynamics: the discrete car's hill, spaces and reset, with a continuous engine
    force, a nearer goal, and Gymnasium's float32 rounding in `step`."""

    min_action = -1.0
    max_action = 1.0
    goal_position = 0.45  # 0.5 in the discrete MountainCar
    power = 0.0015

    def __init__(self, goal_velocity: float = 0):
        super().__init__(goal_velocity)
        self.action_space = Box(self.min_action, self.max_action, shape=(1,), dtype=np.float32)

    def step(self, state, actions, elapsed):
        position, velocity = state
        # `as64` marks where Gymnasium computes in float64: the first step after a reset; elsewhere float32
        as64 = elapsed == 0
        action = np.asarray(actions, dtype=np.float32)[..., 0].astype(np.float64)
        clipped = (action < self.min_action) | (action > self.max_action)  # a clipped force is a Python float
        force = np.clip(action, self.min_action, self.max_action)

        # v += power * force - 0.0025 cos(3 p): the hill's slope pulls the car back
        push = np.where(clipped, force * self.power, _f32(force * _f32(self.power)))
        pull = 0.0025 * np.cos(np.where(as64, 3 * position, _f32(3 * position)))
        change = np.where(clipped, push - pull, _f32(push - _f32(pull)))
        velocity = np.where(as64, velocity + change, _f32(velocity + _f32(change)))
        too_fast = np.where(as64, velocity > self.max_speed, velocity > _f32(self.max_speed))
        too_slow = np.where(as64, velocity < -self.max_speed, velocity < _f32(-self.max_speed))
        velocity = np.where(too_fast, self.max_speed, np.where(too_slow, -self.max_speed, velocity))

        position = np.where(as64, position + velocity, _f32(position + _f32(velocity)))
        past_right = np.where(as64, position > self.max_position, position > _f32(self.max_position))
        past_left = np.where(as64, position < self.min_position, position < _f32(self.min_position))
        position = np.where(past_right, self.max_position, np.where(past_left, self.min_position, position))
        at_wall = past_left | np.where(as64, position == self.min_position, position == _f32(self.min_position))
        velocity = np.where(at_wall & (velocity < 0), 0.0, velocity)  # an inelastic wall

        # comparisons are float32 where the value is still a float32, double where it became a Python float
        position32 = ~as64 & ~past_left & ~past_right
        velocity32 = ~as64 & ~too_fast & ~too_slow
        reached = np.where(position32, position >= _f32(self.goal_position), position >= self.goal_position)
        moving = np.where(velocity32, velocity >= _f32(self.goal_velocity), velocity >= self.goal_velocity)
        terminated = reached & moving

        rewards = np.where(terminated, 100.0, 0.0) - action**2 * 0.1
        return np.array([_f32(position), _f32(velocity)]), rewards, terminated

    def observe(self, state):
        return np.ascontiguousarray(state.T, dtype=np.float32)  # (copies, variables), rows contiguous


class Continuous_MountainCarEnv(ClassicControlEnv):
    """MountainCarContinuous-v0 (see the module docstring); Gymnasium's class name."""

    def __init__(self, render_mode: str | None = None, goal_velocity: float = 0):
        super().__init__(ContinuousMountainCarPhysics(goal_velocity), render_mode)


ContinuousMountainCarEnv = Continuous_MountainCarEnv


class ContinuousMountainCarVectorEnv(VectorizedEnv):
    """`num_envs` continuous MountainCars stepped at once (see `minirl.envs.vector` for the autoreset convention)."""

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 999, goal_velocity: float = 0,
                 render_mode: str | None = None):
        super().__init__(ContinuousMountainCarPhysics(goal_velocity), num_envs, max_episode_steps, render_mode)
