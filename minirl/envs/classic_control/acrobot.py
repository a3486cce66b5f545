"""Acrobot: a two-link pendulum, actuated only at the elbow, must swing its tip above a line.

Origin: Sutton (1996), "Generalization in reinforcement learning: successful examples using sparse coarse coding",
NIPS 8; Sutton & Barto, "Reinforcement Learning: An Introduction" (1998), §11.3, whose equations (the "book"
dynamics) Gymnasium uses; the implementation Gymnasium took over is RLPy's.
Book: not used in the book's text; a standard discrete-action control task for the value-based agents of
ch. 4 (DQN and its variants), harder than CartPole because the reward is sparse.

Gymnasium 1.4's Acrobot-v1, reproduced exactly:
    observation  (cos θ1, sin θ1, cos θ2, sin θ2, θ̇1, θ̇2), float32; θ̇1 in [-4π, 4π], θ̇2 in [-9π, 9π]
    action       0, 1, 2: torque -1, 0, +1 on the joint between the links
    dynamics     one 4th-order Runge-Kutta step of 0.2 s; angles wrapped to [-π, π], velocities clipped
    reward       -1 every step, 0 on the terminating step
    terminated   -cos θ1 - cos(θ1 + θ2) > 1 (the tip is one link length above the hinge)
    truncated    after 500 steps (the registry's time limit)
    reset        every state variable uniform in (-0.1, 0.1) (then stored as float32); ``options`` low/high
`book_or_nips` selects the equation for θ̈2: "book" (the default, Sutton & Barto) or "nips" (Sutton 1996, which
omits the term -m2 l1 lc2 θ̇1² sin θ2). Gymnasium's optional torque noise (0 by default) is left out.
"""

from __future__ import annotations

import numpy as np
from numpy import cos, pi, sin

from minirl.envs.classic_control.base import ClassicControlEnv, reset_bounds
from minirl.envs.spaces import Box, Discrete
from minirl.envs.vector.vectorized import VectorizedEnv


def wrap(x, low, high):
    """Bring angles into [low, high] by whole turns (repeated subtraction, as Gymnasium does, not a modulo)."""
    turn = high - low
    while (x > high).any():
        x = np.where(x > high, x - turn, x)
    while (x < low).any():
        x = np.where(x < low, x + turn, x)
    return x


def bound(x, low, high):
    return np.minimum(np.maximum(x, low), high)


def rk4(derivs, y0, dt):
    """One classical Runge-Kutta step of length dt for dy/dt = derivs(y)."""
    k1 = derivs(y0)
    k2 = derivs(y0 + dt / 2.0 * k1)
    k3 = derivs(y0 + dt / 2.0 * k2)
    k4 = derivs(y0 + dt * k3)
    return y0 + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


class AcrobotPhysics:
    """Acrobot dynamics; the state has rows (θ1, θ2, θ̇1, θ̇2),
    each a number for a single copy (state shape (d,)) or an array over the copies (shape (d, copies))."""

    dt = 0.2
    LINK_LENGTH_1 = 1.0  # [m]
    LINK_LENGTH_2 = 1.0
    LINK_MASS_1 = 1.0  # [kg]
    LINK_MASS_2 = 1.0
    LINK_COM_POS_1 = 0.5  # [m] from the joint to the link's centre of mass
    LINK_COM_POS_2 = 0.5
    LINK_MOI = 1.0  # moment of inertia of each link
    MAX_VEL_1 = 4 * pi
    MAX_VEL_2 = 9 * pi
    AVAIL_TORQUE = np.array([-1.0, 0.0, 1.0])
    draws_per_reset = 4

    def __init__(self, book_or_nips: str = "book"):
        if book_or_nips not in ("book", "nips"):
            raise ValueError(f"Acrobot: book_or_nips must be 'book' or 'nips', got {book_or_nips!r}")
        self.book_or_nips = book_or_nips
        high = np.array([1.0, 1.0, 1.0, 1.0, self.MAX_VEL_1, self.MAX_VEL_2], dtype=np.float32)
        self.observation_space = Box(-high, high, dtype=np.float32)
        self.action_space = Discrete(3)

    def initial_state(self, uniforms, options):
        low, high = reset_bounds(options, -0.1, 0.1)
        return (low + (high - low) * uniforms).astype(np.float32).astype(np.float64).T

    def step(self, state, actions, elapsed):
        torque = self.AVAIL_TORQUE[actions]
        # Gymnasium carries the torque as a fifth state variable with derivative 0; passing it along is the same
        ns = rk4(lambda s: self._dsdt(s, torque), state, self.dt)
        ns[0] = wrap(ns[0], -pi, pi)
        ns[1] = wrap(ns[1], -pi, pi)
        ns[2] = bound(ns[2], -self.MAX_VEL_1, self.MAX_VEL_1)
        ns[3] = bound(ns[3], -self.MAX_VEL_2, self.MAX_VEL_2)
        terminated = -cos(ns[0]) - cos(ns[1] + ns[0]) > 1.0
        return ns, np.where(terminated, 0.0, -1.0), terminated

    def _dsdt(self, s, a):
        """The equations of motion (Sutton & Barto 1998, §11.3): d1, d2 inertia terms, phi1, phi2 gravity and
        Coriolis terms, solved for the angular accelerations."""
        m1, m2 = self.LINK_MASS_1, self.LINK_MASS_2
        l1 = self.LINK_LENGTH_1
        lc1, lc2 = self.LINK_COM_POS_1, self.LINK_COM_POS_2
        I1 = I2 = self.LINK_MOI  # noqa: N806  (the physics' names)
        g = 9.8
        theta1, theta2, dtheta1, dtheta2 = s
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2
        d2 = m2 * (lc2**2 + l1 * lc2 * cos(theta2)) + I2
        phi2 = m2 * lc2 * g * cos(theta1 + theta2 - pi / 2.0)
        phi1 = (
            -m2 * l1 * lc2 * dtheta2**2 * sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * cos(theta1 - pi / 2)
            + phi2
        )
        if self.book_or_nips == "nips":
            ddtheta2 = (a + d2 / d1 * phi1 - phi2) / (m2 * lc2**2 + I2 - d2**2 / d1)
        else:
            ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2) / (
                m2 * lc2**2 + I2 - d2**2 / d1
            )
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return np.array([dtheta1, dtheta2, ddtheta1, ddtheta2])

    def observe(self, state):
        s0, s1, s2, s3 = state
        return np.ascontiguousarray(np.array([cos(s0), sin(s0), cos(s1), sin(s1), s2, s3]).T, dtype=np.float32)


class AcrobotEnv(ClassicControlEnv):
    """Acrobot-v1 (see the module docstring). `book_or_nips` is our addition; Gymnasium sets it on the class."""

    def __init__(self, render_mode: str | None = None, book_or_nips: str = "book"):
        super().__init__(AcrobotPhysics(book_or_nips), render_mode)


class AcrobotVectorEnv(VectorizedEnv):
    """`num_envs` Acrobots stepped at once (see `minirl.envs.vector` for the autoreset convention)."""

    def __init__(self, num_envs: int = 1, max_episode_steps: int | None = 500, book_or_nips: str = "book",
                 render_mode: str | None = None):
        super().__init__(AcrobotPhysics(book_or_nips), num_envs, max_episode_steps, render_mode)
