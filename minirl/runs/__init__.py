"""Runs: checkpoints, metrics logging, learning-curve plots, the progress bar and the training driver."""

from minirl.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minirl.runs.logger import RunLogger, plot_runs, read_metrics
from minirl.runs.progress import ProgressBar

__all__ = ["CheckpointError", "ProgressBar", "RunLogger", "load_checkpoint", "plot_runs", "read_metrics",
           "save_checkpoint"]
