"""Learning-rate schedules (book §1.6.2, fig. 1.10: too large a step diverges, too small crawls; a schedule
starts large and decays). Each scheduler sets ``group["lr"]`` of every parameter group of an optimizer from
that group's initial rate α₀ and the epoch counter t (count what you like: epochs, updates, env steps):

    StepLR             α_t = α₀ · γ^⌊t / step_size⌋
    ExponentialLR      α_t = α₀ · γ^t
    LinearLR           α_t = α₀ · (s + (e − s) · min(t, T) / T)          (s = start_factor, e = end_factor)
    CosineAnnealingLR  α_t = η_min + (α₀ − η_min) · (1 + cos(π t / T_max)) / 2
    LambdaLR           α_t = α₀ · f(t)                                  (e.g. PPO's linear decay to 0)

Usage, as in PyTorch: build the scheduler after the optimizer (that sets α_0), call ``scheduler.step()`` once
per epoch after ``optimizer.step()``. Rates come from the closed forms above (PyTorch computes most of them
recursively from the current rate; the values agree, but here a rate set by hand is overwritten at the next
`step` rather than scaled, and two schedulers on one optimizer do not compose).
"""

from __future__ import annotations

import math


class LRScheduler:
    def __init__(self, optimizer, last_epoch: int = -1):
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: param group {i} has no 'initial_lr'; resuming with "
                               f"last_epoch={last_epoch} needs the optimizer's saved state loaded first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int, index: int) -> float:
        """The learning rate of group `index` (initial rate `base_lr`) at `epoch`."""
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        for i, (group, base_lr) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            group["lr"] = self.lr_at(base_lr, self.last_epoch, i)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)
                and not (isinstance(v, list) and v and callable(v[0]))}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, index):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, index):
        return base_lr * self.gamma**epoch


class LinearLR(LRScheduler):
    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1):
        if not (0 < start_factor <= 1 and 0 <= end_factor <= 1):
            raise ValueError(f"LinearLR: expected 0 < start_factor ≤ 1 and 0 ≤ end_factor ≤ 1, got "
                             f"{start_factor} and {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, index):
        fraction = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)


class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, index):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """α_t = α₀ · lr_lambda(t); `lr_lambda` is one function or a list with one per param group."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(self.lr_lambdas) != n:
            raise ValueError(f"LambdaLR: {len(self.lr_lambdas)} functions for {n} param groups")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch, index):
        return base_lr * self.lr_lambdas[index](epoch)
