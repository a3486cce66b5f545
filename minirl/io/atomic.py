"""Atomic files: every file a run keeps (checkpoint.npz, config.json, eval.json, metrics.csv, curve.png) is written
here, so that a crash at any moment leaves either the old file or the new one, never half of one.

The recipe: write to a temporary file beside the target (``.NAME.<random>.tmp``), flush it to the disk (fsync),
rename it over the target (atomic on POSIX), then fsync the directory so the rename itself survives a power cut.
A process killed mid-write leaves its temporary behind; `remove_stale_temporaries` clears those at the next start.
Files get the permissions the user's umask gives any new file (a bare `mkstemp` would make them private, 0600).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

TEMPORARY_SUFFIX = ".tmp"


def atomic_write(path, write: Callable, binary: bool = True) -> Path:
    """Create or replace `path` with what `write(file)` writes, atomically (see the module's docstring)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"newline": "", "encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda f: f.write(text), binary=False)


def fsync_directory(directory) -> None:
    """Make a rename inside `directory` durable (a no-op where directories cannot be opened, as on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temporaries(directory) -> list[Path]:
    """Delete the temporaries that writes killed midway left in `directory` (``.NAME.<random>.tmp``); returns them.
    Call it only where no other process is writing into `directory`."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    stale = sorted(p for p in directory.glob(f".*{TEMPORARY_SUFFIX}") if p.is_file())
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask
