"""Runs: the training driver that builds an agent, trains it into a run directory with a progress bar and periodic
checkpoints, resumes it and evaluates it. It sits above the agents, beside the CLI; what it writes to disk
(checkpoints, metrics, plots) is `minirl.io`, below the agents."""

from minirl.runs.progress import ProgressBar

__all__ = ["ProgressBar"]
