"""Composite spaces: `Tuple` and `Dict` of other spaces (e.g. a robot's image plus its joint angles).

Seeding with an int draws one sub-seed per part from the composite's own generator, as Gymnasium does, so the
parts are independent yet reproducible.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from minirl.envs.spaces.space import Space


def _check_parts(parts, owner: str) -> None:
    for part in parts:
        if not isinstance(part, Space):
            raise TypeError(f"{owner}: every part must be a minirl.envs.spaces.Space, got {type(part).__name__}")


class Tuple(Space):
    """The product of spaces; an element is a tuple with one element of each."""

    def __init__(self, spaces, seed=None):
        self.spaces = tuple(spaces)
        _check_parts(self.spaces, "Tuple")
        super().__init__(None, None, seed)

    def seed(self, seed=None):
        """None: fresh entropy for every part; an int: sub-seeds drawn from it; a list: one seed per part."""
        if seed is None:
            return tuple(space.seed(None) for space in self.spaces)
        if isinstance(seed, (int, np.integer)):
            super().seed(seed)
            subseeds = self.np_random.integers(np.iinfo(np.int32).max, size=len(self.spaces))
            return tuple(space.seed(int(s)) for space, s in zip(self.spaces, subseeds))
        if isinstance(seed, (list, tuple)) and len(seed) == len(self.spaces):
            return tuple(space.seed(s) for space, s in zip(self.spaces, seed))
        raise ValueError(f"Tuple.seed: expected None, an int or {len(self.spaces)} seeds, got {seed!r}")

    def sample(self):
        return tuple(space.sample() for space in self.spaces)

    def contains(self, x) -> bool:
        if isinstance(x, (list, np.ndarray)):
            x = tuple(x)
        return (
            isinstance(x, tuple)
            and len(x) == len(self.spaces)
            and all(space.contains(part) for space, part in zip(self.spaces, x))
        )

    def __getitem__(self, index):
        return self.spaces[index]

    def __len__(self) -> int:
        return len(self.spaces)

    def __iter__(self):
        return iter(self.spaces)

    def __repr__(self) -> str:
        return "Tuple(" + ", ".join(repr(s) for s in self.spaces) + ")"

    def __eq__(self, other) -> bool:
        return isinstance(other, Tuple) and other.spaces == self.spaces


class Dict(Space):
    """Named spaces; an element is a dict with one element per key.

    Keys of a plain dict are sorted (Gymnasium's default), so flattening does not depend on insertion order;
    an OrderedDict or a list of pairs keeps its order.
    """

    def __init__(self, spaces=None, seed=None, **spaces_kwargs):
        if spaces is None:
            spaces = {}
        if isinstance(spaces, OrderedDict) or not isinstance(spaces, Mapping):
            parts = dict(spaces)
        else:
            try:
                parts = dict(sorted(spaces.items()))
            except TypeError:  # keys that cannot be compared keep their order
                parts = dict(spaces)
        for key, space in spaces_kwargs.items():
            if key in parts:
                raise ValueError(f"Dict: key {key!r} given twice")
            parts[key] = space
        _check_parts(parts.values(), "Dict")
        self.spaces = parts
        super().__init__(None, None, seed)

    def seed(self, seed=None):
        """None: fresh entropy for every part; an int: sub-seeds drawn from it; a dict: one seed per key."""
        if seed is None:
            return {key: space.seed(None) for key, space in self.spaces.items()}
        if isinstance(seed, (int, np.integer)):
            super().seed(seed)
            subseeds = self.np_random.integers(np.iinfo(np.int32).max, size=len(self.spaces))
            return {key: space.seed(int(s)) for (key, space), s in zip(self.spaces.items(), subseeds)}
        if isinstance(seed, dict) and seed.keys() == self.spaces.keys():
            return {key: self.spaces[key].seed(seed[key]) for key in seed}
        raise ValueError(f"Dict.seed: expected None, an int or a dict with keys {list(self.spaces)}, got {seed!r}")

    def sample(self):
        return {key: space.sample() for key, space in self.spaces.items()}

    def contains(self, x) -> bool:
        return (
            isinstance(x, Mapping)
            and x.keys() == self.spaces.keys()
            and all(space.contains(x[key]) for key, space in self.spaces.items())
        )

    def __getitem__(self, key):
        return self.spaces[key]

    def keys(self):
        return self.spaces.keys()

    def values(self):
        return self.spaces.values()

    def items(self):
        return self.spaces.items()

    def __iter__(self):
        return iter(self.spaces)

    def __len__(self) -> int:
        return len(self.spaces)

    def __repr__(self) -> str:
        return "Dict(" + ", ".join(f"{k!r}: {s!r}" for k, s in self.spaces.items()) + ")"

    def __eq__(self, other) -> bool:
        return isinstance(other, Dict) and other.spaces == self.spaces
