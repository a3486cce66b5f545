"""Every tutorial runs as a script in its fast mode, so none of them rots."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("ch*.py")) + sorted(
    p for p in (Path(__file__).resolve().parents[1] / "tutorials").glob("*.py") if not p.name.startswith(("ch", "_"))
)


def test_there_are_tutorials():
    assert TUTORIALS, "no tutorials found in tutorials/"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_fast_mode(path, tmp_path):
    env = dict(os.environ, MINIRL_FAST="1", MINIRL_FIGURES=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    figures = list(tmp_path.glob("*.png"))
    assert figures, f"{path.name} wrote no figure to MINIRL_FIGURES"
