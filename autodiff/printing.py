"""How a Tensor prints: its values as NumPy prints them, then what differs from the defaults, as PyTorch does."""

from __future__ import annotations

import numpy as np


def tensor_repr(t) -> str:
    body = np.array2string(t.numpy(), separator=", ", prefix="tensor(")
    extras = []
    if t.dtype != np.float32:
        extras.append(f"dtype={t.dtype}")
    if t.device != "cpu":
        extras.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return f"tensor({body}{', ' if extras else ''}{', '.join(extras)})"
