"""What every tutorial in `tutorials/` shares: the fast mode and the folder its figures go to.

- ``MINIRL_FAST=1`` asks a tutorial for its fast mode (fewer steps and runs): the test suite executes every
  tutorial this way so none of them rots.
- ``MINIRL_FIGURES=DIR`` chooses where figures are written; the default is ``figures/<tutorial name>``.
"""

from __future__ import annotations

import os
from pathlib import Path


def fast_mode() -> bool:
    """True when the tutorial should run its fast (test-suite) version."""
    return os.environ.get("MINIRL_FAST", "0").strip().lower() not in ("", "0", "false", "no")


def scale(full, fast):
    """`fast` in fast mode, `full` otherwise: ``steps = scale(100_000, 2_000)``."""
    return fast if fast_mode() else full


def figure_dir(name: str) -> Path:
    """The folder for the figures of tutorial `name`, created if needed."""
    root = os.environ.get("MINIRL_FIGURES")
    path = Path(root) if root else Path("figures") / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def pyplot():
    """matplotlib.pyplot with a non-interactive backend (tutorials run headless in the tests)."""
    import matplotlib

    if not os.environ.get("DISPLAY") and "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, folder: Path, name: str) -> Path:
    """Lay out `fig`, write it to folder/name, close it, and say where it went."""
    fig.tight_layout()
    path = Path(folder) / name
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    print("wrote", path)
    return path
