"""What a run leaves on disk, below the agents: checkpoints (atomic .npz with JSON metadata, exact resume) and the
metrics log with its learning-curve plot. Agents save and load through it; the trainer above them writes runs."""

from minirl.io.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minirl.io.logger import RunLogger, plot_runs, read_metrics

__all__ = ["CheckpointError", "RunLogger", "load_checkpoint", "plot_runs", "read_metrics", "save_checkpoint"]
