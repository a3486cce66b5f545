"""PyTorch compatibility of Module/Linear/Tanh: the fixture recorded by tests/fixtures/make_torch_reference.py
(torch is not needed here) holds a torch MLP's state_dict, an input, its outputs and parameter gradients."""

from pathlib import Path

import numpy as np
import pytest

import minirl.nn as nn

FIXTURE = Path(__file__).parents[2] / "fixtures" / "torch_reference_nn.npz"


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


def make_mlp():
    return nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))


def test_state_dict_keys_and_shapes_equal_pytorch(ref):
    ours = make_mlp().state_dict()
    keys = list(ref["mlp/keys"])
    assert list(ours) == keys
    for k in keys:
        assert ours[k].shape == ref[f"mlp/state/{k}"].shape, k
        assert ours[k].dtype == ref[f"mlp/state/{k}"].dtype == np.float32


def test_pytorch_weights_load_and_give_the_same_outputs_and_gradients(ref):
    model = make_mlp()
    model.load_state_dict({k: ref[f"mlp/state/{k}"] for k in ref["mlp/keys"]})
    y = model(ref["mlp/input"])
    np.testing.assert_allclose(y.numpy(), ref["mlp/output"], rtol=1e-5, atol=1e-6)
    ((y * y).mean()).backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ref[f"mlp/grad/{name}"], rtol=1e-4, atol=1e-6, err_msg=name)


def test_default_init_has_pytorch_bounds(ref):
    # same distribution as torch's default: every entry within ±1/√fan_in, and nearly filling it
    for k in ref["mlp/keys"]:
        torch_values = ref[f"mlp/state/{k}"]
        fan_in = ref[f"mlp/state/{k.replace('bias', 'weight')}"].shape[1]
        ours = make_mlp().state_dict()[k]
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(torch_values).max() <= bound and np.abs(ours).max() <= bound
        if ours.size >= 64:
            assert np.abs(ours).max() > 0.9 * bound
