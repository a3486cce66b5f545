"""MountainCar: drive an underpowered car up a hill by first swinging back and forth (discrete actions).

Origin: Moore (1990), "Efficient memory-based learning for robot control", PhD thesis, University of Cambridge;
the version of Sutton & Barto, "Reinforcement Learning: An Introduction", ex. 10.1 (2nd ed.).
Book: ch. 7.2 (Fig. 7.1) shows the spread of TRPO's learning curves on MountainCar, a hard-exploration task:
the reward says nothing until the goal is first reached.

Gymnasium 1.4's MountainCar-v0, reproduced exactly:
    observation  (position, velocity), float32, position in [-1.2, 0.6], velocity in [-0.07, 0.07]
    action       0 accelerate left, 1 do nothing, 2 accelerate right
    dynamics     v += (a - 1) * 0.001 - 0.0025 cos(3 p), clipped; p += v, clipped; hitting the left wall stops the car
    reward       -1 every step
    terminated   p >= 0.5 and v >= goal_velocity (a keyword argument, default 0)
    truncated    after 200 steps (the registry's time limit)
    reset        p uniform in (-0.6, -0.4), v = 0; ``options={"low": l, "high": h}`` changes p's interval
"""

from __future__ import annotations

import numpy as np

from minirl.envs.classic_control.base import ClassicControlEnv, reset_bounds
from minirl.envs.spaces import Box, Discrete
from minirl.envs.vector.vectorized import VectorizedEnv


class MountainCarPhysics:
    """Mountain-car dynamics; the state has rows (position, velocity),
    each a number for a single copy (state shape (d,)) or an array over the copies (shape (d, copies))."""

    min_position = -1.2
    max_position = 0.6
    max_speed = 0.07
    goal_position = 0.5
    force = 0.001
    gravity = 0.0025
    draws_per_reset = 1

    def __init__(self, goal_velocity: float = 0):
        self.goal_velocity = goal_velocity
        low = np.array([self.min_position, -self.max_speed], dtype=np.float32)
        high = np.array([self.max_position, self.max_speed], dtype=np.float32)
        self.observation_space = Box(low, high, dtype=np.float32)
        self.action_space = Discrete(3)

    def initial_state(self, uniforms, options):
        low, high = reset_bounds(options, -0.6, -0.4)
        position = low + (high - low) * uniforms[..., 0]
        return np.array([position, np.zeros_like(position)])

    def step(self, state, actions, elapsed):
        position, velocity = state
        # the hill's height is sin(3p), so gravity pulls along the slope with -0.0025 cos(3p)
        velocity = velocity + ((actions - 1) * self.force + np.cos(3 * position) * (-self.gravity))
        velocity = np.clip(velocity, -self.max_speed, self.max_speed)
        position = np.clip(position + velocity, self.min_position, self.max_position)
        velocity = np.where((position == self.min_position) & (velocity < 0), 0.0, velocity)  # an inelastic wall
        terminated = (position >= self.goal_position) & (velocity >= self.goal_velocity)
        return np.array([position, velocity]), np.full(position.shape, -1.0), terminated

    def observe(self, state):
        return np.ascontiguousarray(state.T, dtype=np.float32)  # (copies, variables), rows contiguous


class MountainCarEnv(ClassicControlEnv):
    """MountainCar-v0 (see the module docstring)."""

    def __init__(self, render_mode: str | None = None, goal_velocity: float = 0):
        super().__init__(MountainCarPhysics(goal_velocity), render_mode)


class MountainCarVectorEnv(VectorizedEnv):
    """`num_envs` MountainCars stepped at once (see `minirl.envs.vector` for the autoreset convention)."""

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 200, goal_velocity: float = 0,
                 render_mode: str | None = None):
        super().__init__(MountainCarPhysics(goal_velocity), num_envs, max_episode_steps, render_mode)
