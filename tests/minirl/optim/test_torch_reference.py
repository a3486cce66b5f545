"""Optimizers, schedulers and gradient clipping agree with PyTorch's, to float32 precision.

The reference trajectories were recorded by tests/fixtures/make_torch_reference_optim.py (run by hand with
torch installed); these tests only read the .npz and never import torch.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from minirl import optim
from minirl.optim import lr_scheduler

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "torch_reference_optim.npz"
REF = np.load(FIXTURE)
META = json.loads(str(REF["meta"]))
LAMBDAS = {"linear_to_zero_over_25": lambda t: max(0.0, 1.0 - t / 25)}


def _params():
    return [ad.tensor(REF[f"init/{i}"], requires_grad=True) for i in range(len(META["shapes"]))]


def _optimizer(case, params):
    name, kwargs, groups = META["optimizers"][case]
    spec = params if groups is None else [{"params": [p], **g} for p, g in zip(params, groups)]
    return getattr(optim, name)(spec, **kwargs)


def _feed(params, t):
    for i, p in enumerate(params):
        p.grad = ad.tensor(REF[f"grads/{i}"][t])


@pytest.mark.parametrize("case", sorted(META["optimizers"]))
def test_trajectory_matches_torch(case):
    params = _params()
    opt = _optimizer(case, params)
    for t in range(META["steps"]):
        _feed(params, t)
        opt.step()
        for i, p in enumerate(params):
            np.testing.assert_allclose(p.numpy(), REF[f"opt/{case}/{i}"][t], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{case}: parameter {i} after step {t + 1}")


@pytest.mark.parametrize("case", ["sgd_nesterov", "rmsprop_centered", "adam_amsgrad", "adagrad_options"])
def test_resumed_trajectory_matches_torch(case):
    """Save at step 13, rebuild everything from the saved arrays, continue: still PyTorch's trajectory."""
    params = _params()
    opt = _optimizer(case, params)
    for t in range(13):
        _feed(params, t)
        opt.step()
    saved = opt.state_dict()
    params = [ad.tensor(p.numpy(), requires_grad=True) for p in params]
    opt = _optimizer(case, params)
    opt.load_state_dict(saved)
    for t in range(13, META["steps"]):
        _feed(params, t)
        opt.step()
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.numpy(), REF[f"opt/{case}/{i}"][-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(META["schedulers"]))
def test_scheduler_matches_torch(case):
    name, kwargs = META["schedulers"][case]
    kwargs = {k: LAMBDAS[v] if k == "lr_lambda" else v for k, v in kwargs.items()}
    params = _params()
    lr0, lr1 = META["scheduler_groups_lr"]
    opt = optim.SGD([{"params": [params[0]], "lr": lr0}, {"params": [params[1]], "lr": lr1}])
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(META["steps"]):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    np.testing.assert_allclose(np.array(lrs), REF[f"sched/{case}"], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", sorted(META["clips"]))
def test_clip_grad_norm_matches_torch(case):
    kwargs = META["clips"][case]
    params = _params()
    _feed(params, 0)
    norm = optim.clip_grad_norm_(params, kwargs["max_norm"], float(kwargs["norm_type"]))
    assert math.isclose(norm, float(REF[f"clip/{case}/norm"]), rel_tol=1e-5)
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.grad.numpy(), REF[f"clip/{case}/{i}"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("case", sorted(META["state_dicts"]))
def test_pytorch_state_dict_converted_to_numpy_loads_and_continues(case):
    """torch's optimizer.state_dict() at step 13 (tensors → NumPy, its extra group keys included) loads as it
    is, and the continued trajectory is PyTorch's."""
    resume = META["resume_at"]
    state = {}
    for key in REF.files:
        if key.startswith(f"sd/{case}/"):
            _, _, index, name = key.split("/")
            state.setdefault(int(index), {})[name] = REF[key]
    saved = {"state": state, "param_groups": META["state_dicts"][case]}
    params = [ad.tensor(REF[f"opt/{case}/{i}"][resume - 1], requires_grad=True) for i in range(len(META["shapes"]))]
    opt = _optimizer(case, params)
    opt.load_state_dict(saved)
    for t in range(resume, META["steps"]):
        _feed(params, t)
        opt.step()
        for i, p in enumerate(params):
            np.testing.assert_allclose(p.numpy(), REF[f"opt/{case}/{i}"][t], rtol=1e-5, atol=1e-6)
