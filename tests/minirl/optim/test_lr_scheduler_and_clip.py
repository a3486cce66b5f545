"""Learning-rate schedules (closed forms, resuming, agents' usage) and gradient clipping."""

import math

import numpy as np
import pytest

import autodiff as ad
from minirl import optim
from minirl.optim import lr_scheduler


def _opt(lr=0.1):
    return optim.SGD([ad.tensor([1.0], requires_grad=True)], lr=lr)


@pytest.mark.parametrize("make,formula", [
    (lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5), lambda t: 0.1 * 0.5 ** (t // 3)),
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9), lambda t: 0.1 * 0.9**t),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.5, total_iters=4), lambda t: 0.1 * (0.5 + 0.5 * min(t, 4) / 4)),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.01),
     lambda t: 0.01 + 0.09 * (1 + math.cos(math.pi * t / 8)) / 2),
    (lambda o: lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t)), lambda t: 0.1 / (1 + t)),
])
def test_closed_forms(make, formula):
    opt = _opt()
    sched = make(opt)
    for t in range(20):
        assert math.isclose(opt.param_groups[0]["lr"], formula(t), rel_tol=1e-12)
        assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
        opt.step()
        sched.step()


def test_scheduler_resumes_from_its_state_dict():
    opt = _opt()
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    opt2 = _opt()
    opt2.load_state_dict(saved_opt)  # carries initial_lr
    sched2 = lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(saved)
    for _ in range(3):
        sched.step()
        sched2.step()
    assert sched2.last_epoch == sched.last_epoch == 8
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.1 * 0.5**4


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.ExponentialLR(_opt(), gamma=0.9, last_epoch=4)


def test_lambda_lr_per_group_and_its_state_dict_has_no_functions():
    a, b = ad.tensor([1.0], requires_grad=True), ad.tensor([1.0], requires_grad=True)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.5)
    sched = lr_scheduler.LambdaLR(opt, [lambda t: 1.0, lambda t: 0.5**t])
    sched.step()
    assert sched.get_last_lr() == [0.5, 0.5]
    assert "lr_lambdas" not in sched.state_dict()
    with pytest.raises(ValueError, match="2 param groups"):
        lr_scheduler.LambdaLR(opt, [lambda t: 1.0])


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = ad.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = ad.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_scales_all_gradients_together():
    params = _params_with_grads([np.array([3.0, 0.0]), np.array([4.0])])
    norm = optim.clip_grad_norm_(params, max_norm=1.0)
    assert math.isclose(norm, 5.0)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(params[1].grad.numpy(), [0.8], rtol=1e-5)
    # under the threshold: untouched; parameters without gradient are ignored
    params.append(ad.tensor([1.0], requires_grad=True))
    assert math.isclose(optim.clip_grad_norm_(params, max_norm=10.0), 1.0, rel_tol=1e-5)
    np.testing.assert_allclose(params[1].grad.numpy(), [0.8], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    params = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="norm"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    params = _params_with_grads([np.array([-3.0, 0.5, 2.0], np.float32)])
    optim.clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [-1.0, 0.5, 1.0])
    assert params[0].grad.dtype == np.float32
