"""The `Space` base class: a set with `sample`, `contains` and its own seeded random generator.

Seeding follows Gymnasium exactly: `seed(s)` builds ``Generator(PCG64(SeedSequence(s)))`` (the same stream as
``np.random.default_rng(s)``), so for the same seed our spaces draw the same samples as Gymnasium's.
"""

from __future__ import annotations

import numpy as np


def np_random(seed: int | None = None) -> tuple[np.random.Generator, int]:
    """A PCG64 generator and the entropy it was built from (the seed itself when one is given)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or a non-negative int, got {seed!r}")
    seed_sequence = np.random.SeedSequence(None if seed is None else int(seed))
    return np.random.Generator(np.random.PCG64(seed_sequence)), seed_sequence.entropy


class Space:
    """A set that observations or actions live in.

    `shape` and `dtype` describe one element (None for composite spaces such as `Tuple` and `Dict`).
    """

    def __init__(self, shape=None, dtype=None, seed: int | np.random.Generator | None = None):
        self._shape = None if shape is None else tuple(int(s) for s in shape)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._np_random: np.random.Generator | None = None
        if isinstance(seed, np.random.Generator):
            self._np_random = seed
        elif seed is not None:
            self.seed(seed)

    @property
    def shape(self) -> tuple[int, ...] | None:
        return self._shape

    @property
    def np_random(self) -> np.random.Generator:
        """The space's own generator; created from fresh entropy on first use if never seeded."""
        if self._np_random is None:
            self.seed()
        if self._np_random is None:  # composite spaces seed their parts, not themselves
            self._np_random, _ = np_random()
        return self._np_random

    def seed(self, seed: int | None = None):
        """Reseed the space's generator; returns the seed used (the fresh entropy when `seed` is None)."""
        self._np_random, used = np_random(seed)
        return used

    def sample(self):
        raise NotImplementedError(f"{type(self).__name__}.sample is not implemented")

    def contains(self, x) -> bool:
        raise NotImplementedError(f"{type(self).__name__}.contains is not implemented")

    def __contains__(self, x) -> bool:
        return self.contains(x)
