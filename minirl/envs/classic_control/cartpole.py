"""CartPole: balance a pole hinged on a cart by pushing the cart left or right.

Origin: Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements that can solve difficult learning control
problems", IEEE Trans. SMC 13(5), with the paper's frictionless equations of motion as in Sutton's pole.c.
Book: ch. 5.10.1 describes CartPole-V0 (4-dim observation, actions {0, 1}); ch. 5.10.2 (REINFORCE) and 5.10.3
(actor-critic) learn it.

Gymnasium 1.4's CartPole-v1, reproduced exactly:
    observation  (x, x_dot, theta, theta_dot), float32, bounds ±(4.8, inf, 0.418 rad, inf)
    action       0 pushes the cart left, 1 right, with a force of 10 N
    reward       +1 every step, the terminating one included; with ``sutton_barto_reward=True`` 0 per step and
                 -1 at termination (the 1983 paper's failure signal)
    terminated   |x| > 2.4 or |theta| > 12 degrees
    truncated    after 500 steps (the registry's time limit; 200 for v0)
    reset        each state variable uniform in (-0.05, 0.05); ``options={"low": l, "high": h}`` changes that
Stepping a single env again after termination gives reward 0 (-1 with the Sutton-Barto reward) and a warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from minirl.envs.classic_control.base import ClassicControlEnv, reset_bounds
from minirl.envs.spaces import Box, Discrete
from minirl.envs.vector.vectorized import VectorizedEnv


class CartPolePhysics:
    """Cart-pole dynamics; the state has rows (x, x_dot, theta, theta_dot),
    each a number for a single copy (state shape (d,)) or an array over the copies (shape (d, copies))."""

    gravity = 9.8
    masscart = 1.0
    masspole = 0.1
    total_mass = masspole + masscart
    length = 0.5  # half the pole's length: the distance from the hinge to the pole's centre of mass
    polemass_length = masspole * length
    force_mag = 10.0
    tau = 0.02  # seconds between two steps
    kinematics_integrator = "euler"
    theta_threshold_radians = 12 * 2 * math.pi / 360
    x_threshold = 2.4
    draws_per_reset = 4

    def __init__(self, sutton_barto_reward: bool = False):
        self.sutton_barto_reward = sutton_barto_reward
        # observations may exceed the termination thresholds by a factor 2 before the episode is over
        high = np.array([self.x_threshold * 2, np.inf, self.theta_threshold_radians * 2, np.inf], dtype=np.float32)
        self.observation_space = Box(-high, high, dtype=np.float32)
        self.action_space = Discrete(2)

    def initial_state(self, uniforms, options):
        low, high = reset_bounds(options, -0.05, 0.05)
        return (low + (high - low) * uniforms).T

    def step(self, state, actions, elapsed):
        x, x_dot, theta, theta_dot = state
        force = self.force_mag * (2 * actions - 1)  # action 1 pushes right (+F), 0 left (−F)
        costheta, sintheta = np.cos(theta), np.sin(theta)
        # Barto et al. (1983) without friction: the pole's angular acceleration first, then the cart's from it
        # (θ')² as θ' · θ', the same number as np.square's, without a ufunc call on a single number
        temp = (force + self.polemass_length * (theta_dot * theta_dot) * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * (costheta * costheta) / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        if self.kinematics_integrator == "euler":  # positions move with the old velocities
            x = x + self.tau * x_dot
            x_dot = x_dot + self.tau * xacc
            theta = theta + self.tau * theta_dot
            theta_dot = theta_dot + self.tau * thetaacc
        else:  # semi-implicit Euler: velocities first, positions with the new velocities
            x_dot = x_dot + self.tau * xacc
            x = x + self.tau * x_dot
            theta_dot = theta_dot + self.tau * thetaacc
            theta = theta + self.tau * theta_dot
        terminated = (
            (x < -self.x_threshold)
            | (x > self.x_threshold)
            | (theta < -self.theta_threshold_radians)
            | (theta > self.theta_threshold_radians)
        )
        if self.sutton_barto_reward:  # the 1983 paper's failure signal
            rewards = np.where(terminated, -1.0, 0.0)
        else:
            rewards = np.ones(terminated.shape) if terminated.ndim else 1.0  # one copy: the number itself
        return np.array([x, x_dot, theta, theta_dot]), rewards, terminated

    def observe(self, state):
        return np.ascontiguousarray(state.T, dtype=np.float32)  # (copies, variables), rows contiguous


class CartPoleEnv(ClassicControlEnv):
    """CartPole-v1 (see the module docstring)."""

    def __init__(self, sutton_barto_reward: bool = False, render_mode: str | None = None):
        super().__init__(CartPolePhysics(sutton_barto_reward), render_mode)
        self.steps_beyond_terminated = None

    def reset(self, *, seed=None, options=None):
        self.steps_beyond_terminated = None
        return super().reset(seed=seed, options=options)

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        if terminated:
            if self.steps_beyond_terminated is None:
                self.steps_beyond_terminated = 0
            else:
                if self.steps_beyond_terminated == 0:
                    warnings.warn(
                        "CartPoleEnv.step was called after the episode terminated; call reset() first: "
                        "further steps are undefined and give reward 0",
                        stacklevel=2,
                    )
                self.steps_beyond_terminated += 1
                reward = -1.0 if self.physics.sutton_barto_reward else 0.0
        return obs, reward, terminated, truncated, info


class CartPoleVectorEnv(VectorizedEnv):
    """`num_envs` CartPoles stepped at once (see `minirl.envs.vector` for the autoreset convention)."""

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 500, sutton_barto_reward: bool = False,
                 render_mode: str | None = None):
        super().__init__(CartPolePhysics(sutton_barto_reward), num_envs, max_episode_steps, render_mode)
