"""Records taken during training: the deterministic policy's mean return every `every` steps (`EvaluationHook`),
and the return of every training episode (`EpisodeReturns`, the learning curve a tutorial plots).

The learning targets ("≥ 475 within 100k steps") are read off this record: the first evaluation that reaches
the threshold, if any, and its step. With ``stop_at_threshold`` training ends there.
"""

from __future__ import annotations

import time

from minirl.algos.base import TrainingHooks


class EvaluationHook(TrainingHooks):
    def __init__(self, every: int, episodes: int = 20, threshold: float | None = None,
                 stop_at_threshold: bool = False, seed: int | None = None, inner: TrainingHooks | None = None):
        self.every, self.episodes, self.threshold = int(every), int(episodes), threshold
        self.stop_at_threshold, self.seed, self.inner = stop_at_threshold, seed, inner
        self.record: list[tuple[int, float]] = []  # (step, mean return)
        self.solved_at: int | None = None
        self._last = 0  # the step count at the previous call

    @property
    def best(self) -> float:
        return max((r for _, r in self.record), default=float("-inf"))

    def on_step(self, agent):
        stop = self.inner.on_step(agent) if self.inner is not None else None
        crossed = agent.num_timesteps // self.every > self._last // self.every
        self._last = agent.num_timesteps
        if crossed:
            mean = agent.evaluate(self.episodes, seed=self.seed)["mean_return"]
            self.record.append((agent.num_timesteps, mean))
            if self.threshold is not None and mean >= self.threshold and self.solved_at is None:
                self.solved_at = agent.num_timesteps
                if self.stop_at_threshold:
                    return False
        return stop

    def on_episode(self, agent, episode_return, episode_length):
        if self.inner is not None:
            self.inner.on_episode(agent, episode_return, episode_length)


class EpisodeReturns(TrainingHooks):
    """The step count, the seconds since this hook was made, and the return of every training episode as it ends
    (exploring, so below the greedy policy's)."""

    def __init__(self):
        self.start = time.perf_counter()
        self.steps: list[int] = []
        self.seconds: list[float] = []
        self.returns: list[float] = []

    def on_episode(self, agent, episode_return, episode_length):
        self.steps.append(agent.num_timesteps)
        self.seconds.append(time.perf_counter() - self.start)
        self.returns.append(episode_return)
