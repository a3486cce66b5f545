"""Checkpoints: one `.npz` file holding arrays and a JSON metadata record, written atomically.

A checkpoint holds everything needed to resume a run exactly: network weights, optimizer state,
normalization statistics, random-generator states and counters. Nested state (dicts of dicts of arrays,
numbers, strings, generator states with very large integers) is flattened: arrays become `.npz` entries
named by their path (``"policy/0.weight"``), everything else goes to the JSON record. The file is written
atomically (`minirl.io.atomic`), so a crash never leaves half a checkpoint. Nothing in it is pickled: arrays of
Python objects are refused when saving, and loading never unpickles.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from minirl.errors import CheckpointError
from minirl.io.atomic import atomic_write

FORMAT_VERSION = 1
_META_KEY = "__minirl_metadata__"
_ARRAY_MARK = "__array__"
_ITEMS_MARK = "__items__"


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
            if node.dtype.hasobject:
                raise TypeError(f"checkpoint: the array at {path or '<root>'} holds Python objects (dtype object), "
                                f"which a checkpoint would have to pickle; store numbers or strings")
            name = f"a{len(arrays)}"
            arrays[name] = node
            return {_ARRAY_MARK: name}
        if isinstance(node, np.generic):
            return node.item()
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        raise TypeError(f"checkpoint: cannot store {type(node).__name__} at {path or '<root>'}")

    return arrays, walk(state, "")


def unflatten_state(tree, arrays, source="checkpoint", path=""):
    """Rebuild nested state from `flatten_state`'s tree and arrays; a missing array names the state entry."""
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY_MARK}:
            name = tree[_ARRAY_MARK]
            if name not in arrays:
                raise CheckpointError(f"{source} lacks the array {name!r} that holds {path or '<root>'}",
                                      "the file is damaged; resume from another checkpoint or train again")
            return arrays[name]
        if set(tree) == {_ITEMS_MARK}:
            return {key: unflatten_state(value, arrays, source, f"{path}/{key}") for key, value in tree[_ITEMS_MARK]}
        return {key: unflatten_state(value, arrays, source, f"{path}/{key}") for key, value in tree.items()}
    if isinstance(tree, list):
        return [unflatten_state(v, arrays, source, f"{path}/{i}") for i, v in enumerate(tree)]
    return tree


def save_checkpoint(path, state: dict, metadata: dict | None = None) -> Path:
    """Write `state` (nested dicts of arrays and plain values) and `metadata` to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, tree = flatten_state(state)
    record = {"format_version": FORMAT_VERSION, "metadata": metadata or {}, "state": tree}
    payload = dict(arrays)
    payload[_META_KEY] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **payload))
    return path


def load_checkpoint(path, algorithm: str | None = None):
    """Read a checkpoint; returns (state, metadata). With `algorithm`, refuse a checkpoint of another one."""
    path = Path(path)
    damaged = "it is damaged or not a minirl checkpoint; resume from another checkpoint or train again"
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist" if not path.exists() else
                              f"checkpoint {path} is not a file", "give the path of a checkpoint.npz")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # np.load would try anything else as a pickle
        raise CheckpointError(f"checkpoint {path} is not an .npz archive", damaged)
    try:
        with np.load(path, allow_pickle=False) as data:
            if _META_KEY not in data.files:
                raise CheckpointError(f"checkpoint {path} has no {_META_KEY!r} record", damaged)
            record = json.loads(bytes(data[_META_KEY]).decode())
            arrays = {name: data[name] for name in data.files if name != _META_KEY}
    except CheckpointError:
        raise
    except ValueError as exc:
        # NumPy's message for a pickled entry suggests allow_pickle=True: unsafe for a file of unknown origin
        what = "holds pickled objects, which minirl never writes" if "pickle" in str(exc) else f"cannot be read ({exc})"
        raise CheckpointError(f"checkpoint {path} {what}", damaged) from None
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(exc).__name__}: {exc})", damaged) from None
    if not isinstance(record, dict):
        raise CheckpointError(f"checkpoint {path}: its metadata record is not a JSON object", damaged)
    version = record.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}; this minirl reads version "
                              f"{FORMAT_VERSION}", "use the minirl version that wrote it")
    metadata = record.get("metadata", {})
    if algorithm is not None and metadata.get("algorithm") != algorithm:
        raise CheckpointError(f"checkpoint {path} was written by algorithm {metadata.get('algorithm')!r}, "
                              f"not {algorithm!r}", f"load it with {metadata.get('algorithm')!r}'s class")
    if "state" not in record:
        raise CheckpointError(f"checkpoint {path} has no 'state' in its metadata record", damaged)
    return unflatten_state(record["state"], arrays, f"checkpoint {path}"), metadata


def generator_state(rng: np.random.Generator) -> dict:
    """A NumPy generator's state as plain values (JSON-able; its big integers included)."""
    return rng.bit_generator.state


def restore_generator(rng: np.random.Generator, state: dict) -> np.random.Generator:
    if state["bit_generator"] != type(rng.bit_generator).__name__:
        raise CheckpointError(f"checkpoint holds a {state['bit_generator']} generator state, "
                              f"not {type(rng.bit_generator).__name__}")
    rng.bit_generator.state = state
    return rng
