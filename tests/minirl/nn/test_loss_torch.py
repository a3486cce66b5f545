"""Every loss against PyTorch 2.13 on recorded inputs: value and input gradient (fixture made by
tests/fixtures/make_torch_reference.py; torch itself is not needed)."""

import json
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import minirl.nn.functional as F

FIXTURE = Path(__file__).parents[2] / "fixtures" / "torch_reference_nn.npz"


def load_cases():
    with np.load(FIXTURE) as data:
        fields = {k: data[k] for k in data.files if k.startswith("loss/")}
    cases = {}
    for key, value in fields.items():
        _, index, field = key.split("/")
        cases.setdefault(index, {})[field] = value
    return [cases[i] for i in sorted(cases)]


CASES = load_cases()


def case_id(case):
    return f"{case['name']}-{json.loads(str(case['kwargs']))}"


def test_fixture_covers_every_torch_loss():
    names = {str(c["name"]) for c in CASES}
    assert names == {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
                     "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div"}


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_loss_matches_pytorch(case):
    kwargs = json.loads(str(case["kwargs"]))
    kwargs.update({k[4:]: v for k, v in case.items() if k.startswith("arg_")})
    x = ad.tensor(case["input"], requires_grad=True)
    out = getattr(F, str(case["name"]))(x, case["target"], **kwargs)
    assert out.shape == case["output"].shape and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), case["output"], rtol=2e-5, atol=1e-6)
    (out * case["r"]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), case["grad"], rtol=2e-4, atol=1e-6)
