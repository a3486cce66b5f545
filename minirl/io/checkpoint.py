"""Checkpoints: one `.npz` file holding arrays and a JSON metadata record, written atomically.

A checkpoint holds everything needed to resume a run exactly: network weights, optimizer state,
normalization statistics, random-generator states and counters. Nested state (dicts of dicts of arrays,
numbers, strings, generator states with very large integers) is flattened: arrays become `.npz` entries
named by their path (``"policy/0.weight"``), everything else goes to the JSON record. The file is written to
a temporary name in the same folder and renamed over the target, so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
_META_KEY = "__minirl_metadata__"
_ARRAY_MARK = "__array__"
_ITEMS_MARK = "__items__"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read, or that does not match what loads it."""


def flatten_state(state):
    """Split nested state into ({name: array}, a JSON-able tree whose arrays are replaced by their names)."""
    arrays = {}

    def walk(node, path):
        if isinstance(node, dict):
            if all(isinstance(key, str) for key in node) and _ITEMS_MARK not in node:
                return {key: walk(value, f"{path}/{key}") for key, value in node.items()}
            for key in node:  # JSON objects have string keys: other keys are kept as a list of pairs
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise TypeError(f"checkpoint: state keys must be str or int, got {key!r} at {path or '<root>'}")
            return {_ITEMS_MARK: [[key, walk(value, f"{path}/{key}")] for key, value in node.items()]}
        if isinstance(node, (list, tuple)):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(node)]
        if hasattr(node, "numpy") and hasattr(node, "requires_grad"):  # a Tensor
            node = node.numpy()
        if isinstance(node, np.ndarray):
            name = f"a{len(arrays)}"
            arrays[name] = node
            return {_ARRAY_MARK: name}
        if isinstance(node, np.generic):
            return node.item()
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise TypeError(f"checkpoint: cannot store {type(node).__name__} at {path or '<root>'}")

    return arrays, walk(state, "")


def unflatten_state(tree, arrays):
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_MARK}:
            return arrays[tree[_ARRAY_MARK]]
        if set(tree) == {_ITEMS_MARK}:
            return {key: unflatten_state(value, arrays) for key, value in tree[_ITEMS_MARK]}
        return {key: unflatten_state(value, arrays) for key, value in tree.items()}
    if isinstance(tree, list):
        return [unflatten_state(v, arrays) for v in tree]
    return tree


def save_checkpoint(path, state: dict, metadata: dict | None = None) -> Path:
    """Write `state` (nested dicts of arrays and plain values) and `metadata` to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, tree = flatten_state(state)
    record = {"format_version": FORMAT_VERSION, "metadata": metadata or {}, "state": tree}
    payload = dict(arrays)
    payload[_META_KEY] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path, algorithm: str | None = None):
    """Read a checkpoint; returns (state, metadata). With `algorithm`, refuse a checkpoint of another one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            record = json.loads(bytes(data[_META_KEY]).decode())
            arrays = {name: data[name] for name in data.files if name != _META_KEY}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path} is corrupted or not a minirl checkpoint ({exc})") from exc
    version = record.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}; this minirl reads version "
                              f"{FORMAT_VERSION}")
    metadata = record.get("metadata", {})
    if algorithm is not None and metadata.get("algorithm") != algorithm:
        raise CheckpointError(f"checkpoint {path} was written by algorithm {metadata.get('algorithm')!r}, "
                              f"not {algorithm!r}")
    return unflatten_state(record["state"], arrays), metadata


def generator_state(rng: np.random.Generator) -> dict:
    """A NumPy generator's state as plain values (JSON-able; its big integers included)."""
    return rng.bit_generator.state


def restore_generator(rng: np.random.Generator, state: dict) -> np.random.Generator:
    if state["bit_generator"] != type(rng.bit_generator).__name__:
        raise CheckpointError(f"checkpoint holds a {state['bit_generator']} generator state, "
                              f"not {type(rng.bit_generator).__name__}")
    rng.bit_generator.state = state
    return rng
