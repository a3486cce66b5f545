"""The array spaces: `Box` (real or integer boxes), `Discrete`, `MultiDiscrete` and `MultiBinary`.

Their `sample()` uses the same draws, in the same order, as Gymnasium's, so a space seeded with `s` samples what
Gymnasium's space seeded with `s` samples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minirl.envs.spaces.space import Space


def _short(a: np.ndarray) -> str:
    return str(a.flat[0]) if a.size and np.all(a == a.flat[0]) else str(a)


class Box(Space):
    """The box ``low <= x <= high`` (elementwise) in R^shape, possibly unbounded on some axes.

    Scalar bounds without a `shape` give a box of shape ``(1,)``, as in Gymnasium. For integer dtypes an infinite
    bound becomes the dtype's limit.
    """

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        dtype = np.dtype(dtype)
        if dtype.kind not in "iufb":
            raise ValueError(f"Box: dtype must be an integer, float or bool dtype, got {dtype}")
        if shape is not None:
            shape = tuple(int(s) for s in shape)
        elif np.ndim(low) == 0 and np.ndim(high) == 0 and not isinstance(low, np.ndarray) and not isinstance(
            high, np.ndarray
        ):
            shape = (1,)
        else:
            try:
                shape = np.broadcast_shapes(np.shape(low), np.shape(high))
            except ValueError:
                raise ValueError(f"Box: low shape {np.shape(low)} and high shape {np.shape(high)} differ") from None
        self.low, self.bounded_below = self._cast_bound(low, shape, dtype, "low")
        self.high, self.bounded_above = self._cast_bound(high, shape, dtype, "high")
        if np.any(self.low > self.high):
            raise ValueError(f"Box: low must not exceed high, got low={self.low}, high={self.high}")
        super().__init__(shape, dtype, seed)

    @staticmethod
    def _cast_bound(bound, shape, dtype, name):
        raw = np.asarray(bound)
        if raw.dtype.kind not in "iufb":
            raise ValueError(f"Box: {name} must be a number or an array of numbers, got {bound!r}")
        if raw.dtype.kind == "f" and np.any(np.isnan(raw)):
            raise ValueError(f"Box: {name} must not contain NaN, got {bound}")
        try:
            raw = np.broadcast_to(raw, shape)
        except ValueError:
            raise ValueError(f"Box: {name} has shape {np.shape(bound)}, which does not fit shape {shape}") from None
        finite = np.isfinite(raw) if raw.dtype.kind == "f" else np.ones(shape, dtype=bool)
        if dtype.kind == "f" or np.all(finite):
            return raw.astype(dtype), finite
        if dtype.kind != "i":
            raise ValueError(f"Box: an unsigned or bool box cannot have an infinite {name}")
        info = np.iinfo(dtype)
        values = np.where(finite, raw, 0).astype(dtype)
        values[~finite] = info.min if name == "low" else info.max
        return values, finite

    def is_bounded(self, manner: str = "both") -> bool:
        below, above = bool(np.all(self.bounded_below)), bool(np.all(self.bounded_above))
        return {"both": below and above, "below": below, "above": above}[manner]

    def sample(self):
        """Uniform on bounded axes; normal, or an exponential off the finite bound, on unbounded ones."""
        rng = self.np_random
        is_float = self.dtype.kind == "f"
        # integer boxes sample the real interval [low, high + 1) and round down, as Gymnasium does
        high = self.high if is_float else self.high.astype(np.int64) + 1
        sample = np.empty(self.shape)
        below, above = self.bounded_below, self.bounded_above
        unbounded, only_above, only_below, bounded = ~below & ~above, ~below & above, below & ~above, below & above
        sample[unbounded] = rng.normal(size=unbounded[unbounded].shape)
        sample[only_below] = rng.exponential(size=only_below[only_below].shape) + self.low[only_below]
        sample[only_above] = -rng.exponential(size=only_above[only_above].shape) + high[only_above]
        sample[bounded] = rng.uniform(low=self.low[bounded], high=high[bounded], size=bounded[bounded].shape)
        if not is_float:
            sample = np.floor(sample)
            if self.dtype.kind in "iu":
                # keep the cast in range; float64 cannot hold int64's limits exactly, hence the margin there
                info, margin = np.iinfo(self.dtype), 2 if self.dtype == np.int64 else 0
                sample = sample.clip(info.min + margin, info.max - margin)
        sample = sample.astype(self.dtype)
        return sample.clip(self.low, self.high) if self.dtype == np.int64 else sample

    def contains(self, x) -> bool:
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x, dtype=self.dtype)
            except (ValueError, TypeError, OverflowError):
                return False
        return bool(
            x.shape == self.shape
            and np.can_cast(x.dtype, self.dtype)
            and np.all(x >= self.low)
            and np.all(x <= self.high)
        )

    def __repr__(self) -> str:
        return f"Box({_short(self.low)}, {_short(self.high)}, {self.shape}, {self.dtype})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Box)
            and other.shape == self.shape
            and other.dtype == self.dtype
            and np.array_equal(other.low, self.low)
            and np.array_equal(other.high, self.high)
        )


class Discrete(Space):
    """The integers ``start, start + 1, ..., start + n - 1``."""

    def __init__(self, n: int, seed=None, start: int = 0, dtype=np.int64):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"Discrete: n must be an integer, got {n!r}")
        if n <= 0:
            raise ValueError(f"Discrete: n must be positive, got {n}")
        dtype = np.dtype(dtype)
        if dtype.kind not in "iu":
            raise TypeError(f"Discrete: dtype must be an integer dtype, got {dtype}")
        self.n = dtype.type(n)
        self.start = dtype.type(start)
        super().__init__((), dtype, seed)

    def sample(self, mask: np.ndarray | None = None):
        """A uniform element; with an int8 `mask` of shape (n,), a uniform element among those marked 1."""
        if mask is None:
            return self.start + self.np_random.integers(self.n, dtype=self.dtype.type)
        mask = np.asarray(mask)
        if mask.shape != (int(self.n),) or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"Discrete.sample: mask must be 0/1 of shape ({int(self.n)},), got {mask}")
        allowed = np.flatnonzero(mask == 1)
        if allowed.size == 0:
            return self.start
        return self.start + self.dtype.type(self.np_random.choice(allowed))

    def contains(self, x) -> bool:
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
            value = int(x)
            ok_dtype = isinstance(x, int) or np.can_cast(np.asarray(x).dtype, self.dtype)
        elif isinstance(x, np.ndarray) and x.shape == () and x.dtype.kind in "iu":
            value, ok_dtype = int(x), np.can_cast(x.dtype, self.dtype)
        else:
            return False
        return bool(ok_dtype and int(self.start) <= value < int(self.start) + int(self.n))

    def __repr__(self) -> str:
        extra = "" if self.start == 0 else f", start={self.start}"
        return f"Discrete({self.n}{extra})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Discrete)
            and other.n == self.n
            and other.start == self.start
            and other.dtype == self.dtype
        )


class MultiDiscrete(Space):
    """An array of independent discrete variables; entry i takes the values ``start[i] .. start[i] + nvec[i] - 1``."""

    def __init__(self, nvec, dtype=np.int64, seed=None, start=None):
        dtype = np.dtype(dtype)
        if dtype.kind not in "iu":
            raise ValueError(f"MultiDiscrete: dtype must be an integer dtype, got {dtype}")
        self.nvec = np.array(nvec, dtype=dtype)
        self.start = np.zeros_like(self.nvec) if start is None else np.array(start, dtype=dtype)
        if self.start.shape != self.nvec.shape:
            raise ValueError(f"MultiDiscrete: start shape {self.start.shape} != nvec shape {self.nvec.shape}")
        if not np.all(self.nvec > 0):
            raise ValueError(f"MultiDiscrete: every entry of nvec must be positive, got {self.nvec}")
        super().__init__(self.nvec.shape, dtype, seed)

    def sample(self):
        return (self.np_random.random(self.nvec.shape) * self.nvec).astype(self.dtype) + self.start

    def contains(self, x) -> bool:
        if isinstance(x, Sequence):
            x = np.array(x)
        return bool(
            isinstance(x, np.ndarray)
            and x.shape == self.shape
            and np.can_cast(x.dtype, self.dtype)
            and np.all(x >= self.start)
            and np.all(x <= self.start + (self.nvec - 1))
        )

    def __repr__(self) -> str:
        extra = "" if not np.any(self.start) else f", start={self.start.tolist()}"
        return f"MultiDiscrete({self.nvec.tolist()}{extra})"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, MultiDiscrete)
            and other.dtype == self.dtype
            and np.array_equal(other.nvec, self.nvec)
            and np.array_equal(other.start, self.start)
        )


class MultiBinary(Space):
    """Arrays of 0s and 1s of shape `n` (an int or a shape tuple), dtype int8."""

    def __init__(self, n, seed=None):
        self.n = int(n) if isinstance(n, (int, np.integer)) else tuple(int(s) for s in n)
        shape = (self.n,) if isinstance(self.n, int) else self.n
        if any(s <= 0 for s in shape):
            raise ValueError(f"MultiBinary: every dimension must be positive, got {n}")
        super().__init__(shape, np.int8, seed)

    def sample(self):
        return self.np_random.integers(low=0, high=2, size=self.n, dtype=self.dtype)

    def contains(self, x) -> bool:
        if isinstance(x, Sequence):
            x = np.array(x)
        return bool(isinstance(x, np.ndarray) and x.shape == self.shape and np.all((x == 0) | (x == 1)))

    def __repr__(self) -> str:
        return f"MultiBinary({self.n})"

    def __eq__(self, other) -> bool:
        return isinstance(other, MultiBinary) and other.shape == self.shape
