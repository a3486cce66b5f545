"""Compare a minirl layer with PyTorch's, using tests/fixtures/torch_reference_layers.npz (recorded by
tests/fixtures/make_torch_reference_layers.py; PyTorch is not needed here).

For one case: build our layer with the same constructor keywords, check its state_dict keys and shapes equal
PyTorch's, load PyTorch's state_dict, call it on the same inputs in the same mode, and compare the outputs,
the gradients of L = Σ sum(output · u) with respect to the inputs and the parameters, and the buffers after
the call (BatchNorm's running statistics), to float32 precision.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

import autodiff as ad
import minirl.nn as nn

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "torch_reference_layers.npz"
RTOL, ATOL = 1e-4, 1e-5


@functools.cache
def _data() -> dict:
    """The fixture's arrays, read on first use (the recording script imports `call` before the file exists)."""
    with np.load(FIXTURE) as data:
        return {key: data[key] for key in data.files}


def cases(prefix: str = "") -> list[str]:
    """Names of the recorded cases whose layer class starts with `prefix` (e.g. "BatchNorm")."""
    names = sorted({key.split("/")[0] for key in _data() if key.endswith("/meta")})
    return [n for n in names if json.loads(str(_data()[f"{n}/meta"]))["cls"].startswith(prefix)]


def _group(case, group):
    head = f"{case}/{group}/"
    return {key[len(head):]: value for key, value in _data().items() if key.startswith(head)}


def call(module, kind, inputs):
    """Run `module` the way `kind` says; return its outputs by name. The recording script calls PyTorch's
    layers through this same function, so both sides are called alike."""
    if kind == "plain":
        return {"y": module(inputs["x"])}
    if kind == "rnn":
        output, h_n = module(inputs["x"], inputs["h0"])
        return {"output": output, "h_n": h_n}
    if kind == "lstm":
        output, (h_n, c_n) = module(inputs["x"], (inputs["h0"], inputs["c0"]))
        return {"output": output, "h_n": h_n, "c_n": c_n}
    if kind == "rnn_cell":
        return {"h": module(inputs["x"], inputs["h0"])}
    if kind == "lstm_cell":
        h, c = module(inputs["x"], (inputs["h0"], inputs["c0"]))
        return {"h": h, "c": c}
    raise ValueError(kind)


def _close(ours, theirs, what):
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_against_torch(case: str) -> None:
    meta = json.loads(str(_data()[f"{case}/meta"]))
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["kwargs"].items()}
    module = getattr(nn, meta["cls"])(**kwargs)
    module.train(meta["training"])

    state = _group(case, "state")
    ours = module.state_dict()
    assert list(ours) == list(state), f"{case}: state_dict keys {list(ours)} != PyTorch's {list(state)}"
    for key, value in state.items():
        assert ours[key].shape == value.shape, f"{case}: {key} has shape {ours[key].shape}, PyTorch {value.shape}"
        assert ours[key].dtype.kind == value.dtype.kind, f"{case}: {key} dtype {ours[key].dtype} vs {value.dtype}"
    module.load_state_dict(state)

    inputs = {key: ad.tensor(value, requires_grad=value.dtype.kind == "f")
              for key, value in _group(case, "in").items()}
    outputs = call(module, meta["kind"], inputs)
    expected, weights = _group(case, "out"), _group(case, "w")
    assert sorted(outputs) == sorted(expected)
    loss = None
    for key, value in outputs.items():
        assert value.dtype == np.float32, f"{case}: output {key} has dtype {value.dtype}"
        _close(value.numpy(), expected[key], f"{case}: output {key}")
        term = (value * weights[key]).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    for key, grad in _group(case, "grad").items():
        _close(inputs[key].grad.numpy(), grad, f"{case}: gradient of input {key}")
    params = dict(module.named_parameters())
    for key, grad in _group(case, "pgrad").items():
        _close(params[key].grad.numpy(), grad, f"{case}: gradient of parameter {key}")
    after = module.state_dict()
    for key, value in _group(case, "after").items():
        _close(after[key], value, f"{case}: buffer {key} after the call")
