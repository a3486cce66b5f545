"""A one-line progress bar for training runs: steps, steps per second, recent return, time left."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, description: str = "", stream=None, width: int = 24, min_interval: float | None = None,
                 enabled: bool = True, unit: str = "steps"):
        self.unit = unit  # what a step is: "steps" of an environment, or "games" of AlphaZero's self-play
        self.total, self.description, self.width = int(total), description, width
        self.stream = stream if stream is not None else sys.stderr
        # redraw 10 times a second on a terminal; in a log file (CI), every 10 seconds
        interactive = getattr(self.stream, "isatty", lambda: False)()
        self._interactive = interactive
        self.min_interval = min_interval if min_interval is not None else (0.1 if interactive else 10.0)
        self.enabled = enabled
        self.start = self._last_draw = time.perf_counter()
        self.start_step = None
        self.step = 0
        self.fields: dict = {}
        self._drawn_step = None

    def update(self, step: int, **fields) -> None:
        if self.start_step is None:
            self.start_step = step
        self.step = step
        self.fields.update({k: v for k, v in fields.items() if v is not None})
        now = time.perf_counter()
        finished = step >= self.total and (self._drawn_step is None or self._drawn_step < self.total)
        if self.enabled and (now - self._last_draw >= self.min_interval or finished):
            self._last_draw, self._drawn_step = now, step
            self.stream.write(("\r" if self._interactive else "") + self.render(now) + ("" if self._interactive else "\n"))
            self.stream.flush()

    def render(self, now: float | None = None) -> str:
        now = time.perf_counter() if now is None else now
        elapsed = max(now - self.start, 1e-9)
        done = min(self.step / max(self.total, 1), 1.0)
        filled = int(round(done * self.width))
        sps = (self.step - (self.start_step or 0)) / elapsed
        left = (self.total - self.step) / sps if sps > 0 else float("inf")
        parts = [f"{self.description} " if self.description else "",
                 f"[{'#' * filled}{'.' * (self.width - filled)}] {self.step:,}/{self.total:,}",
                 f" | {sps:,.0f} {self.unit}/s" if sps >= 10 else f" | {sps:.2f} {self.unit}/s"]
        for key, value in self.fields.items():
            parts.append(f" | {key} {value:.1f}" if isinstance(value, float) else f" | {key} {value}")
        parts.append(f" | {elapsed:.0f}s elapsed" + (f", {left:.0f}s left" if left != float("inf") and done < 1 else ""))
        return "".join(parts)

    def close(self) -> None:
        if self.enabled:
            if self._drawn_step != self.step:
                self.stream.write(("\r" if self._interactive else "") + self.render() + "\n")
            elif self._interactive:
                self.stream.write("\n")
            self.stream.flush()
