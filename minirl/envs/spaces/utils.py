"""Helpers that agents and vector envs need on top of the spaces themselves.

Flattening (Gymnasium's conventions): a network wants one flat vector, so
    flatdim(space)          length of the flat vector
    flatten(space, x)       Box -> x.ravel(); Discrete -> one-hot; MultiDiscrete -> one one-hot per entry;
                            MultiBinary -> x.ravel(); Tuple / Dict -> the parts' flat vectors concatenated
    unflatten(space, flat)  the inverse
    flatten_space(space)    the Box that flattened elements live in

Batching (for vector envs, N copies side by side):
    batch_space(space, n)         the space of n stacked elements (Discrete(k) -> MultiDiscrete([k] * n), ...)
    concatenate(space, items)     n elements -> one batched element
    iterate(space, batch)         one batched element -> its n elements
"""

from __future__ import annotations

import copy

import numpy as np

from minirl.envs.spaces.composite import Dict, Tuple
from minirl.envs.spaces.fundamental import Box, Discrete, MultiBinary, MultiDiscrete


def _unsupported(fn: str, space):
    return TypeError(f"{fn}: unsupported space {space!r} (expected Box, Discrete, MultiDiscrete, MultiBinary, "
                     "Tuple or Dict)")


def flatdim(space) -> int:
    if isinstance(space, (Box, MultiBinary)):
        return int(np.prod(space.shape))
    if isinstance(space, Discrete):
        return int(space.n)
    if isinstance(space, MultiDiscrete):
        return int(np.sum(space.nvec))
    if isinstance(space, (Tuple, Dict)):
        parts = space.spaces if isinstance(space, Tuple) else space.spaces.values()
        return sum(flatdim(s) for s in parts)
    raise _unsupported("flatdim", space)


def flatten(space, x) -> np.ndarray:
    if isinstance(space, (Box, MultiBinary)):
        return np.asarray(x, dtype=space.dtype).ravel()
    if isinstance(space, Discrete):
        onehot = np.zeros(int(space.n), dtype=space.dtype)
        onehot[int(x) - int(space.start)] = 1
        return onehot
    if isinstance(space, MultiDiscrete):
        offsets = np.concatenate([[0], np.cumsum(space.nvec.ravel())[:-1]])
        onehot = np.zeros(flatdim(space), dtype=space.dtype)
        onehot[offsets + (np.asarray(x) - space.start).ravel()] = 1
        return onehot
    if isinstance(space, Tuple):
        return np.concatenate([flatten(s, part) for s, part in zip(space.spaces, x)])
    if isinstance(space, Dict):
        return np.concatenate([flatten(s, x[key]) for key, s in space.spaces.items()])
    raise _unsupported("flatten", space)


def unflatten(space, flat):
    flat = np.asarray(flat)
    if isinstance(space, (Box, MultiBinary)):
        return flat.astype(space.dtype).reshape(space.shape)
    if isinstance(space, Discrete):
        return space.start + space.dtype.type(np.flatnonzero(flat)[0])
    if isinstance(space, MultiDiscrete):
        pieces = np.split(flat, np.cumsum(space.nvec.ravel())[:-1])
        indices = np.array([np.flatnonzero(p)[0] for p in pieces], dtype=space.dtype)
        return indices.reshape(space.shape) + space.start
    if isinstance(space, (Tuple, Dict)):
        parts = space.spaces if isinstance(space, Tuple) else list(space.spaces.values())
        pieces = np.split(flat, np.cumsum([flatdim(s) for s in parts])[:-1])
        values = [unflatten(s, p) for s, p in zip(parts, pieces)]
        return tuple(values) if isinstance(space, Tuple) else dict(zip(space.spaces, values))
    raise _unsupported("unflatten", space)


def flatten_space(space) -> Box:
    if isinstance(space, Box):
        return Box(space.low.ravel(), space.high.ravel(), dtype=space.dtype)
    if isinstance(space, (Discrete, MultiDiscrete, MultiBinary)):
        return Box(0, 1, shape=(flatdim(space),), dtype=space.dtype)
    if isinstance(space, (Tuple, Dict)):
        parts = [flatten_space(s) for s in (space.spaces if isinstance(space, Tuple) else space.spaces.values())]
        dtype = np.result_type(*[p.dtype for p in parts])
        return Box(np.concatenate([p.low for p in parts]), np.concatenate([p.high for p in parts]), dtype=dtype)
    raise _unsupported("flatten_space", space)


def batch_space(space, n: int):
    """The space of `n` elements of `space` stacked along a new first axis."""
    if isinstance(space, Box):
        reps = (n,) + (1,) * space.low.ndim
        batched = Box(np.tile(space.low, reps), np.tile(space.high, reps), dtype=space.dtype)
    elif isinstance(space, Discrete):
        batched = MultiDiscrete(np.full(n, space.n), dtype=space.dtype, start=np.full(n, space.start))
    elif isinstance(space, MultiDiscrete):
        reps = (n,) + (1,) * space.nvec.ndim
        batched = MultiDiscrete(np.tile(space.nvec, reps), dtype=space.dtype, start=np.tile(space.start, reps))
    elif isinstance(space, MultiBinary):
        batched = MultiBinary((n, *space.shape))
    elif isinstance(space, Tuple):
        return Tuple([batch_space(s, n) for s in space.spaces])
    elif isinstance(space, Dict):
        return Dict({key: batch_space(s, n) for key, s in space.spaces.items()})
    else:
        raise _unsupported("batch_space", space)
    # the batch samples from a copy of the single space's generator, so seeding one seeds both (as in Gymnasium)
    batched._np_random = copy.deepcopy(space.np_random)
    return batched


def concatenate(space, items):
    """Stack the elements `items` (one per copy) into one batched element."""
    if isinstance(space, Tuple):
        return tuple(concatenate(s, [item[i] for item in items]) for i, s in enumerate(space.spaces))
    if isinstance(space, Dict):
        return {key: concatenate(s, [item[key] for item in items]) for key, s in space.spaces.items()}
    if isinstance(space, (Box, Discrete, MultiDiscrete, MultiBinary)):
        return np.stack([np.asarray(item, dtype=space.dtype) for item in items])
    raise _unsupported("concatenate", space)


def iterate(space, batch):
    """The elements of a batched element, one per copy."""
    if isinstance(space, Tuple):
        return list(zip(*[iterate(s, part) for s, part in zip(space.spaces, batch)]))
    if isinstance(space, Dict):
        columns = {key: iterate(s, batch[key]) for key, s in space.spaces.items()}
        n = len(next(iter(columns.values())))
        return [{key: column[i] for key, column in columns.items()} for i in range(n)]
    if isinstance(space, (Box, Discrete, MultiDiscrete, MultiBinary)):
        return list(np.asarray(batch))
    raise _unsupported("iterate", space)
