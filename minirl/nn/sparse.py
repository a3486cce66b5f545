"""Embedding: a trainable lookup table from integer ids to vectors (the seq2seq chatbot of book §1.10.6 embeds
its vocabulary with one before the GRU encoder).

Looking up row i of the table W is the same as multiplying the one-hot vector e_i by W, but costs a copy
instead of a matrix product. The gradient of a lookup adds each output's gradient into the row it came from
(rows looked up several times accumulate; rows never looked up get zero).
"""

from __future__ import annotations

import numpy as np

from autodiff import Tensor, as_tensor
from autodiff.ops.shape import move_array
from minirl.nn.module import Module, Parameter


def embedding(indices, weight) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) at integer `indices` of any shape:
    output shape indices.shape + (embedding_dim,)."""
    weight = as_tensor(weight)
    ids = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= weight.shape[0]):
        raise IndexError(f"embedding: indices must lie in [0, {weight.shape[0]}), got values from "
                         f"{ids.min()} to {ids.max()}")
    return weight[move_array(ids, weight.device)]   # integer-array indexing; its backward scatter-adds into the rows


class Embedding(Module):
    """A table of `num_embeddings` vectors of size `embedding_dim`, initialised N(0, 1) as in PyTorch;
    `state_dict()` holds it as "weight"."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype=np.float32,
                 rng: np.random.Generator | None = None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)), dtype=dtype)

    def forward(self, indices):
        return embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
