"""The environment interface: Gymnasium's API, so a learner who knows Gymnasium knows ours (book ch. 2.1).

    obs, info = env.reset(seed=None, options=None)
    obs, reward, terminated, truncated, info = env.step(action)

`terminated` means the MDP reached a terminal state: the value of what follows is 0, so do not bootstrap.
`truncated` means the episode was cut short from outside, e.g. by a time limit: the state still has a value,
so bootstrap from it. Both may be True at once.

Seeding is Gymnasium's: ``reset(seed=s)`` rebuilds `env.np_random` as ``Generator(PCG64(SeedSequence(s)))``,
and ``reset()`` without a seed continues that generator, so a seeded run of several episodes is reproducible.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.spaces.space import np_random as make_np_random


class Env:
    """Base class of every environment.

    Subclasses set `observation_space` and `action_space` and implement `reset` and `step`; `reset` must call
    ``super().reset(seed=seed)`` first so that `self.np_random` is (re)seeded.
    """

    metadata: dict = {"render_modes": []}
    render_mode: str | None = None
    spec = None  # set by `minirl.envs.make` to the EnvSpec used
    observation_space = None
    action_space = None
    is_vector_env = False  # wrappers check this to handle batches (see minirl.envs.vector)
    _np_random: np.random.Generator | None = None
    _np_random_seed: int | None = None

    @property
    def np_random(self) -> np.random.Generator:
        """The environment's own generator (seeded from fresh entropy on first use if never seeded)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = make_np_random()
        return self._np_random

    @np_random.setter
    def np_random(self, value: np.random.Generator) -> None:
        self._np_random, self._np_random_seed = value, -1  # -1: the seed is unknown

    @property
    def np_random_seed(self) -> int:
        """The seed of `np_random` (the entropy drawn when it was seeded from None; -1 when set by hand)."""
        if self._np_random is None:
            self._np_random, self._np_random_seed = make_np_random()
        return self._np_random_seed

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._np_random, self._np_random_seed = make_np_random(seed)
        return None

    def step(self, action):
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def render(self):
        """Our own environments do not draw; wrap Gymnasium's (`minirl.envs.from_gymnasium`) for pictures."""
        return None

    def close(self) -> None:
        pass

    @property
    def unwrapped(self) -> "Env":
        return self

    def get_wrapper_attr(self, name: str):
        """The attribute `name` of the outermost wrapper (or env) that has it."""
        return getattr(self, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __str__(self) -> str:
        name = self.spec.id if self.spec is not None else type(self).__name__
        return f"<{name}>"

    def __repr__(self) -> str:
        return str(self)


def non_finite_action_message(env: str, action) -> str:
    """A continuous env refuses NaN and infinite actions (Gymnasium only warns, then its state turns to NaN until
    the next reset): the policy that produced one has diverged, and the error says so at the step it happened."""
    values = np.array2string(np.asarray(action).ravel(), threshold=8, separator=", ")
    return (f"{env}.step: expected finite actions, got {values}; a NaN or infinite action usually means the "
            f"policy's parameters have diverged")
