"""The errors minirl expects: bad input, or a file on disk that is not what it should be. Each says what went wrong
and, in `hint`, what to do; the `minirl` command prints them as one line, ``minirl: <what>: <what to do>``, with exit
code 2, and keeps tracebacks for real bugs (or for ``--debug``).

Each also derives from the built-in exception a Python caller would expect (ValueError for a bad value, TypeError
for an environment of the wrong kind, ...), so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class MinirlError(Exception):
    """An expected error; `hint` says how to fix it (may be empty). Its text is ``<message>: <hint>``."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


class ConfigurationError(MinirlError, ValueError):
    """A hyperparameter, a command-line argument or a setting with a value it cannot take."""


class IncompatibleEnvironmentError(MinirlError, TypeError):
    """An agent given an environment whose observation or action space it cannot handle."""


class UnsupportedError(MinirlError, NotImplementedError):
    """A feature that this part of minirl does not offer (e.g. rendering minirl's own environments)."""


class RunDirectoryError(MinirlError):
    """A run directory that cannot be used as asked (it holds another run, it has no checkpoint, ...)."""


class CheckpointError(MinirlError, RuntimeError):
    """A checkpoint that cannot be read, or that does not match what loads it."""


def check_integer(name: str, value, low: int, hint: str = "") -> int:
    """`value` as an int if it is a whole number ≥ `low` (a bool or a float is refused), else a ConfigurationError
    naming `name`, e.g. ``--steps: expected an integer ≥ 1, got -5``."""
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ConfigurationError(f"{name}: expected an integer ≥ {low}, got {value!r}", hint)
    return int(value)
