"""``fused=True`` (one update per group, on a flat buffer, through `kernels.adam` / `kernels.sgd` where the rule
has a kernel) against the visible update of each optimizer's file, run per parameter: on NumPy arrays the two
compute the same bits, step after step, in float32 and float64."""

import numpy as np
import pytest

import autodiff as ad
import kernels
from minirl import optim

SHAPES = [(3, 4), (4,), (), (2, 3, 2)]
CASES = {
    "adam": ("Adam", {"lr": 1e-2}),
    "adam_l2": ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "betas": (0.8, 0.95), "eps": 1e-6}),
    "adam_maximize": ("Adam", {"lr": 1e-2, "maximize": True}),
    "amsgrad": ("Adam", {"lr": 1e-2, "amsgrad": True}),
    "adamw": ("AdamW", {"lr": 1e-2}),
    "adamw_amsgrad": ("AdamW", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True}),
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    "rmsprop": ("RMSprop", {"lr": 1e-2, "weight_decay": 0.01}),
    "rmsprop_centered": ("RMSprop", {"lr": 1e-2, "centered": True, "momentum": 0.5}),
    "adagrad": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
}


def _problem(dtype, seed=0, steps=12):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return init, grads


def _run(case, fused, init, grads, skip=None, opt_hook=None):
    """Train fresh parameters on the recorded gradients; `skip(t, i)` leaves parameter i without a gradient at
    step t. Returns the parameters after every step and the optimizer."""
    name, kwargs = CASES[case]
    params = [ad.tensor(x.copy(), requires_grad=True) for x in init]
    opt = getattr(optim, name)(params, fused=fused, **kwargs)
    trajectory = []
    for t, step_grads in enumerate(grads):
        if opt_hook is not None:
            opt = opt_hook(t, opt, params) or opt
        for i, (p, g) in enumerate(zip(params, step_grads)):
            p.grad = None if skip is not None and skip(t, i) else ad.tensor(g)
        opt.step()
        trajectory.append([p.numpy().copy() for p in params])
    return trajectory, opt


def _assert_same_bits(a, b):
    for step_a, step_b in zip(a, b):
        for x, y in zip(step_a, step_b):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fused_trajectory_is_the_visible_one_bit_for_bit(case, dtype):
    init, grads = _problem(dtype)
    visible, opt = _run(case, False, init, grads)
    fused, fused_opt = _run(case, True, init, grads)
    _assert_same_bits(visible, fused)
    saved, fused_saved = opt.state_dict(), fused_opt.state_dict()
    assert saved["param_groups"] == fused_saved["param_groups"]
    assert sorted(saved["state"]) == sorted(fused_saved["state"])
    for index, entry in saved["state"].items():
        assert entry.keys() == fused_saved["state"][index].keys()
        for key, value in entry.items():
            np.testing.assert_array_equal(value, fused_saved["state"][index][key])


@pytest.mark.parametrize("case", ["adam", "amsgrad", "adamw", "sgd_momentum", "rmsprop_centered", "adagrad"])
def test_missing_gradients_agree_too(case):
    """Parameters left without a gradient fall behind: the fused path then updates slices of its buffer."""
    init, grads = _problem(np.float32, seed=3)
    skip = lambda t, i: (t + i) % 3 == 0  # noqa: E731
    _assert_same_bits(_run(case, False, init, grads, skip)[0], _run(case, True, init, grads, skip)[0])


@pytest.mark.parametrize("case", ["adam", "amsgrad", "sgd_nesterov", "rmsprop_centered", "adagrad"])
def test_state_dict_moves_between_fused_and_visible(case):
    """A fused optimizer's state continues in a visible one and back, on the same trajectory."""
    init, grads = _problem(np.float64, seed=5)
    straight = _run(case, True, init, grads)[0]

    def switch(t, opt, params):
        if t in (4, 8):
            name, kwargs = CASES[case]
            fresh = getattr(optim, name)(params, fused=not opt.fused, **kwargs)
            fresh.load_state_dict(opt.state_dict())
            return fresh
        return None

    _assert_same_bits(straight, _run(case, True, init, grads, opt_hook=switch)[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay,decoupled", [(0.0, False), (0.1, False), (0.1, True)])
@pytest.mark.parametrize("seed", range(4))
def test_adam_kernel_is_the_visible_step_on_random_state(dtype, weight_decay, decoupled, seed):
    """One step from random moments at a random step count: `kernels.adam` (the CPU kernel that fused=True
    calls) and `Adam._update` (the lines of adam.py) write the same bits into θ, m and v."""
    rng = np.random.default_rng(seed)
    n, t = 1000, int(rng.integers(1, 10_000))
    param, grad, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    v = rng.random(n).astype(dtype) ** 2
    hyper = dict(lr=float(rng.uniform(1e-4, 1e-1)), betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay,
                 decoupled_weight_decay=decoupled, amsgrad=False, capturable=False)
    opt = optim.Adam([ad.tensor(param.copy(), requires_grad=True)])
    visible = [param.copy(), m.copy(), v.copy()]
    opt._update(visible[0], grad.copy(), {"exp_avg": visible[1], "exp_avg_sq": visible[2]}, t, hyper)
    fused = [param.copy(), m.copy(), v.copy()]
    kernels.adam(*fused[:1], grad.copy(), *fused[1:], t, hyper["lr"], 0.9, 0.999, 1e-8, weight_decay, decoupled)
    for a, b in zip(visible, fused):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["adam", "adam_l2", "adamw", "sgd_momentum", "sgd_nesterov"])
def test_fused_with_the_reference_kernels_agrees_to_rounding(case):
    """With `numpy_ref` chosen for the kernels (the book's order of operations), fused and visible agree to
    float64 rounding."""
    init, grads = _problem(np.float64, seed=7)
    with kernels.use(adam="numpy_ref", sgd="numpy_ref"):
        fused = _run(case, True, init, grads)[0]
    visible = _run(case, False, init, grads)[0]
    for step_a, step_b in zip(visible, fused):
        for x, y in zip(step_a, step_b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fused", [False, True])
def test_loaded_state_is_a_copy(fused):
    init, grads = _problem(np.float32, seed=9, steps=3)
    _, opt = _run("adam", fused, init, grads)
    saved = opt.state_dict()
    before = {k: v.copy() for k, v in saved["state"][0].items() if k != "step"}
    opt.load_state_dict(saved)
    for p, g in zip(opt.param_groups[0]["params"], grads[0]):
        p.grad = ad.tensor(g)
    opt.step()
    for key, value in before.items():
        np.testing.assert_array_equal(saved["state"][0][key], value)
