"""What a run writes as it trains: `metrics.csv` (one row per logged step), optional TensorBoard events,
and `curve.png` (the learning curve), plus `minirl plot`'s overlay of several runs (mean ± std over seeds)."""

from __future__ import annotations

import csv
import math
import warnings
from pathlib import Path

import numpy as np

from minirl.io.atomic import atomic_write


class RunLogger:
    """Collect metrics rows and write them to ``run_dir/metrics.csv`` (rewritten atomically on flush, so a
    metric that appears late still gets a column)."""

    def __init__(self, run_dir, flush_every: int = 50, tensorboard: bool = True):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict] = []
        self.flush_every = flush_every
        self._unflushed = 0
        self._tb = _tensorboard_writer(self.run_dir) if tensorboard else None

    def log(self, step: int, **metrics) -> None:
        row = {"step": int(step)}
        row.update({k: (float(v) if isinstance(v, (int, float, np.number)) else v) for k, v in metrics.items()})
        self.rows.append(row)
        if self._tb is not None:
            for key, value in row.items():
                if key != "step" and isinstance(value, float):
                    self._tb.add_scalar(key, value, step)
        self._unflushed += 1
        if self._unflushed >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        columns = ["step"] + sorted({k for row in self.rows for k in row} - {"step"})

        def write(f):
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(self.rows)

        atomic_write(self.run_dir / "metrics.csv", write, binary=False)
        self._unflushed = 0

    def restore(self, rows: list[dict]) -> None:
        """Continue a resumed run's metrics (rows read back from its metrics.csv)."""
        self.rows = list(rows)

    def close(self) -> None:
        self.flush()
        if self._tb is not None:
            self._tb.close()


def _tensorboard_writer(run_dir):
    for module in ("tensorboardX", "torch.utils.tensorboard"):
        try:
            return __import__(module, fromlist=["SummaryWriter"]).SummaryWriter(str(run_dir / "tb"))
        except ImportError:
            continue
    return None


def read_metrics(run_dir) -> list[dict]:
    path = Path(run_dir) / "metrics.csv"
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no metrics.csv: is it a minirl run directory?")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: _number(v) for k, v in row.items()} for row in rows]


def _number(text):
    if text in ("", None):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def curve(rows, metric="episode_return"):
    """Steps and values of `metric` from metrics rows (rows without it are skipped)."""
    pairs = [(r["step"], r[metric]) for r in rows if isinstance(r.get(metric), (int, float)) and not math.isnan(r[metric])]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    steps, values = map(np.asarray, zip(*pairs))
    return steps.astype(float), values.astype(float)


def smooth(values, window: int = 10):
    if len(values) < 2 or window <= 1:
        return values
    window = min(window, len(values))
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, values[0]), values])
    return np.convolve(padded, kernel, mode="valid")


def plot_runs(groups: dict, out, metric="episode_return", title=None):
    """Plot learning curves: `groups` maps a label to a list of run directories (seeds), drawn as the mean
    over seeds with a band of ± one standard deviation, on a common grid of steps."""
    try:
        from minirl.utils.tutorial import pyplot

        plt = pyplot()
    except ImportError:
        warnings.warn("matplotlib is not installed (pip install -e '.[plot]'): no plot written")
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, run_dirs in groups.items():
        curves = [curve(read_metrics(d), metric) for d in run_dirs]
        curves = [(s, smooth(v)) for s, v in curves if len(s)]
        if not curves:
            continue
        end = min(s[-1] for s, _ in curves)
        grid = np.linspace(max(s[0] for s, _ in curves), end, 200)
        ys = np.array([np.interp(grid, s, v) for s, v in curves])
        mean, std = ys.mean(axis=0), ys.std(axis=0)
        ax.plot(grid, mean, label=f"{label} ({len(curves)} run{'s' if len(curves) > 1 else ''})")
        if len(curves) > 1:
            ax.fill_between(grid, mean - std, mean + std, alpha=0.25)
    ax.set_xlabel("environment steps")
    ax.set_ylabel(metric.replace("_", " "))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lstrip(".") or "png"
    atomic_write(out, lambda f: fig.savefig(f, format=fmt, dpi=100, bbox_inches="tight"))
    plt.close(fig)
    return out
