"""Spaces: the sets that observations and actions live in (Gymnasium's API, book ch. 2.1).

Every space has `sample()`, `contains(x)` (also ``x in space``), `seed(seed)`, `shape`, `dtype` and equality.
Sampling uses the space's own generator, so seeding an env's action space makes a random agent reproducible:

    space = Box(-1.0, 1.0, shape=(3,))
    space.seed(0)
    a = space.sample()            # the same array Gymnasium's Box(-1, 1, (3,)) seeded with 0 gives
"""

from minirl.envs.spaces.composite import Dict, Tuple
from minirl.envs.spaces.fundamental import Box, Discrete, MultiBinary, MultiDiscrete
from minirl.envs.spaces.space import Space
from minirl.envs.spaces.utils import batch_space, concatenate, flatdim, flatten, flatten_space, iterate, unflatten

__all__ = [
    "Space", "Box", "Discrete", "MultiDiscrete", "MultiBinary", "Tuple", "Dict",
    "flatdim", "flatten", "unflatten", "flatten_space", "batch_space", "concatenate", "iterate",
]
