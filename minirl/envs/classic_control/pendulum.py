"""Pendulum: swing a pendulum up and keep it upright with a limited torque (continuous actions).

Origin: the inverted-pendulum swing-up, a classic problem of control theory (e.g. Doya 2000, "Reinforcement
learning in continuous time and space", Neural Computation 12(1)); OpenAI Gym's Pendulum.
Book: ch. 5.10.1 describes Pendulum-V0 (observation (cos θ, sin θ, θ̇), torque in [-2, 2], no terminal state,
200-step limit); ch. 5.10.5-5.10.6 (TRPO, PPO) and 6.5 (DDPG, TD3, SAC) learn it.

Gymnasium 1.4's Pendulum-v1, reproduced exactly:
    observation  (cos θ, sin θ, θ̇), float32, bounds ±(1, 1, 8); θ = 0 is upright
    action       torque, shape (1,), in [-2, 2] (larger torques are clipped)
    reward       -(normalize(θ)² + 0.1 θ̇² + 0.001 u²), in [-16.27, 0]
    terminated   never; truncated after 200 steps (the registry's time limit)
    reset        θ uniform in (-π, π), θ̇ uniform in (-1, 1); ``options={"x_init": a, "y_init": b}`` draws
                 θ in (-a, a) and θ̇ in (-b, b)
    g            gravity, a keyword argument (default 10.0)
"""

from __future__ import annotations

import numpy as np

from minirl.envs.classic_control.base import ClassicControlEnv
from minirl.envs.spaces import Box
from minirl.envs.vector.vectorized import VectorizedEnv

DEFAULT_X = np.pi
DEFAULT_Y = 1.0


def angle_normalize(x):
    """The angle in [-π, π)."""
    return ((x + np.pi) % (2 * np.pi)) - np.pi


class PendulumPhysics:
    """Pendulum dynamics; the state has rows (θ, θ̇),
    each a number for a single copy (state shape (d,)) or an array over the copies (shape (d, copies))."""

    max_speed = 8
    max_torque = 2.0
    dt = 0.05
    m = 1.0
    l = 1.0  # noqa: E741  (the physics' name for the length)
    draws_per_reset = 2

    def __init__(self, g: float = 10.0):
        self.g = g
        high = np.array([1.0, 1.0, self.max_speed], dtype=np.float32)
        self.observation_space = Box(-high, high, dtype=np.float32)
        self.action_space = Box(-self.max_torque, self.max_torque, shape=(1,), dtype=np.float32)

    def initial_state(self, uniforms, options):
        options = options or {}
        try:
            high = np.array([float(options.get("x_init", DEFAULT_X)), float(options.get("y_init", DEFAULT_Y))])
        except (TypeError, ValueError):
            raise ValueError(f"reset: options 'x_init' and 'y_init' must be numbers, got {options}") from None
        low = -high  # symmetric bounds
        return (low + (high - low) * uniforms).T

    def step(self, state, actions, elapsed):
        th, thdot = state
        g, m, l, dt = self.g, self.m, self.l, self.dt
        # the torque keeps the action's dtype: Gymnasium computes 0.001 u² and the torque term in float32 for
        # float32 actions, and so do we
        u = np.clip(actions, -self.max_torque, self.max_torque)[..., 0]
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        # θ̈ = 3g/(2l) sin θ + 3/(ml²) u: a uniform rod about its end, θ measured from upright
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * dt  # semi-implicit Euler: the angle moves with the new velocity
        return np.array([newth, newthdot]), -costs, np.zeros(th.shape, dtype=bool)

    def observe(self, state):
        th, thdot = state
        return np.ascontiguousarray(np.array([np.cos(th), np.sin(th), thdot]).T, dtype=np.float32)


class PendulumEnv(ClassicControlEnv):
    """Pendulum-v1 (see the module docstring)."""

    def __init__(self, render_mode: str | None = None, g: float = 10.0):
        super().__init__(PendulumPhysics(g), render_mode)


class PendulumVectorEnv(VectorizedEnv):
    """`num_envs` Pendulums stepped at once (see `minirl.envs.vector` for the autoreset convention)."""

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 200, g: float = 10.0,
                 render_mode: str | None = None):
        super().__init__(PendulumPhysics(g), num_envs, max_episode_steps, render_mode)
