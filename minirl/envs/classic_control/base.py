"""What the classic-control envs share: the single-copy env around a batched physics object, and reset options.

Each env file writes its physics once, for a batch of copies (see `minirl.envs.vector.vectorized` for the
protocol); `ClassicControlEnv` runs it as a batch of one, `VectorizedEnv` as a batch of N. Observations,
rewards and terminations equal Gymnasium's for the same seed and actions, because the physics repeats
Gymnasium's arithmetic in the same order and the initial state comes from the same uniform draws
(``uniform(low, high) == low + (high - low) * random()`` in NumPy's Generator).
"""

from __future__ import annotations

import numpy as np

from minirl.envs.core import Env, non_finite_action_message
from minirl.envs.spaces import Discrete
from minirl.errors import UnsupportedError


def reset_bounds(options: dict | None, default_low: float, default_high: float) -> tuple[float, float]:
    """The interval the initial state is drawn from; ``reset(options={"low": ..., "high": ...})`` changes it."""
    if options is None:
        return default_low, default_high
    try:
        low, high = float(options.get("low", default_low)), float(options.get("high", default_high))
    except (TypeError, ValueError):
        raise ValueError(f"reset: options 'low' and 'high' must be numbers, got {options}") from None
    if low > high:
        raise ValueError(f"reset: options low={low} must not exceed high={high}")
    return low, high


class ClassicControlEnv(Env):
    """One copy of a physics object, behind the single-env API.

    The physics works on one state (shape (d,), NumPy scalars inside) as well as on a batch (shape (d, M)), so a
    single env runs at scalar speed on the very code the vector env uses.
    """

    def __init__(self, physics, render_mode: str | None = None):
        if render_mode is not None:
            raise UnsupportedError(
                f"{type(self).__name__}: minirl's own environments do not render (render_mode={render_mode!r}); "
                "use minirl.envs.from_gymnasium(...) to watch Gymnasium's version"
            )
        self.physics = physics
        self.observation_space = physics.observation_space
        self.action_space = physics.action_space
        self.state = None  # the physical state, one entry per state variable (Gymnasium's env.unwrapped.state)
        self._elapsed = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = self.physics.initial_state(self.np_random.random(self.physics.draws_per_reset), options)
        self._elapsed = 0
        return self.physics.observe(self.state), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        self.state, reward, terminated = self.physics.step(self.state, self._checked(action), self._elapsed)
        self._elapsed += 1
        # no truncation here: the time limit is the registry's TimeLimit wrapper, as in Gymnasium
        return self.physics.observe(self.state), float(reward), bool(terminated), False, {}

    def _checked(self, action):
        space = self.action_space
        if isinstance(space, Discrete):
            if not space.contains(action):
                raise ValueError(f"{type(self).__name__}.step: action {action!r} is not in {space}")
            return action
        action = np.asarray(action)
        if action.shape != space.shape:
            raise ValueError(
                f"{type(self).__name__}.step: action must have shape {space.shape} ({space}), got shape {action.shape}"
            )
        if not np.isfinite(action).all():
            raise ValueError(non_finite_action_message(type(self).__name__, action))
        return action

