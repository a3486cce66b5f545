"""SGD, Adagrad, RMSprop, Adam, AdamW against their textbook updates written out in NumPy (float64, so the
comparison is tight), over many steps on random quadratics, with state_dict round trips half-way."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from minirl import optim

SHAPES = [(3, 4), (4,), ()]
STEPS = 25


# -- the textbook updates, one parameter at a time --------------------------------------------------------
def sgd_ref(theta, g, s, t, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):
    g = (-g if maximize else g) + weight_decay * theta
    if momentum:
        s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return theta - lr * g


def adagrad_ref(theta, g, s, t, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    g = (-g if maximize else g) + weight_decay * theta
    s["sum"] = s.get("sum", np.full_like(theta, initial_accumulator_value)) + g * g
    return theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)


def rmsprop_ref(theta, g, s, t, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):
    g = (-g if maximize else g) + weight_decay * theta
    s["v"] = alpha * s.get("v", 0 * theta) + (1 - alpha) * g * g
    if centered:
        s["gbar"] = alpha * s.get("gbar", 0 * theta) + (1 - alpha) * g
        denom = np.sqrt(s["v"] - s["gbar"] ** 2) + eps
    else:
        denom = np.sqrt(s["v"]) + eps
    if momentum:
        s["b"] = momentum * s.get("b", 0 * theta) + g / denom
        return theta - lr * s["b"]
    return theta - lr * g / denom


def adam_ref(theta, g, s, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    g = -g if maximize else g
    if decoupled:
        theta = theta * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * theta
    s["m"] = b1 * s.get("m", 0 * theta) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0 * theta) + (1 - b2) * g * g
    if amsgrad:  # PyTorch's form: the running maximum of the raw v, then the current bias correction
        s["vmax"] = np.maximum(s.get("vmax", 0 * theta), s["v"])
    m_hat, v_hat = s["m"] / (1 - b1**t), s["vmax" if amsgrad else "v"] / (1 - b2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def adamw_ref(theta, g, s, t, weight_decay=1e-2, **kw):
    return adam_ref(theta, g, s, t, weight_decay=weight_decay, decoupled=True, **kw)


REFS = {"SGD": sgd_ref, "Adagrad": adagrad_ref, "RMSprop": rmsprop_ref, "Adam": adam_ref, "AdamW": adamw_ref}
CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adagrad", {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.01, "initial_accumulator_value": 0.2}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.7, "centered": True, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.7, 0.95), "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.2}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "maximize": True}),
]


class Quadratic:
    """f(θ) = Σ_i ½ (θ_i − c_i)ᵀ H_i (θ_i − c_i) over several parameters, with random SPD H_i."""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.init = [rng.standard_normal(s) for s in SHAPES]
        self.c = [rng.standard_normal(s) for s in SHAPES]
        self.H = []
        for s in SHAPES:
            n = int(np.prod(s))
            q = rng.standard_normal((n, n))
            self.H.append(q @ q.T / n + 0.1 * np.eye(n))

    def grad(self, i, theta):
        return (self.H[i] @ (theta - self.c[i]).reshape(-1)).reshape(theta.shape)


def reference_trajectory(name, kwargs, quad, steps, skip=lambda t, i: False):
    thetas, states, counts, out = [x.copy() for x in quad.init], [{} for _ in SHAPES], [0] * len(SHAPES), []
    for t in range(steps):
        for i, theta in enumerate(thetas):
            if skip(t, i):
                continue
            counts[i] += 1
            thetas[i] = REFS[name](theta, quad.grad(i, theta), states[i], counts[i], **kwargs)
        out.append([x.copy() for x in thetas])
    return out


def make(name, kwargs, quad):
    params = [ad.tensor(x, requires_grad=True) for x in quad.init]  # float64 arrays stay float64
    return params, getattr(optim, name)(params, **kwargs)


def run(params, opt, quad, steps, skip=lambda t, i: False, start=0):
    out = []
    for t in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = None if skip(t, i) else ad.tensor(quad.grad(i, p.numpy()))
        opt.step()
        out.append([p.numpy().copy() for p in params])
    return out


def assert_trajectories_close(ours, ref, rtol=1e-10, atol=1e-12):
    for t, (a, b) in enumerate(zip(ours, ref)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"parameter {i} after step {t + 1}")


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_textbook_update_and_resumes_identically(name, kwargs):
    quad = Quadratic(seed=len(name) + len(kwargs))
    ref = reference_trajectory(name, kwargs, quad, STEPS)
    params, opt = make(name, kwargs, quad)
    first = run(params, opt, quad, 11)
    # resume: new parameters with the saved values, a new optimizer, the saved optimizer state
    saved = opt.state_dict()
    resumed_params = [ad.tensor(p.numpy(), requires_grad=True) for p in params]
    resumed = getattr(optim, name)(resumed_params, **kwargs)
    resumed.load_state_dict(saved)
    rest_resumed = run(resumed_params, resumed, quad, STEPS - 11, start=11)
    rest = run(params, opt, quad, STEPS - 11, start=11)
    assert_trajectories_close(first + rest, ref)
    for a, b in zip(rest, rest_resumed):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)  # the resumed run is the uninterrupted one, bit for bit


@pytest.mark.parametrize("name,kwargs", CASES[1::2], ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES[1::2])])
def test_parameters_without_gradient_are_skipped(name, kwargs):
    """None gradients (PyTorch's rule: no update, state untouched) take the per-parameter path."""
    quad = Quadratic(seed=7)

    def skip(t, i):
        return (t + i) % 3 == 0

    ref = reference_trajectory(name, kwargs, quad, STEPS, skip)
    params, opt = make(name, kwargs, quad)
    ours = run(params, opt, quad, 12, skip)
    saved = opt.state_dict()  # parameters are at different step counts here
    params2 = [ad.tensor(p.numpy(), requires_grad=True) for p in params]
    opt2 = getattr(optim, name)(params2, **kwargs)
    opt2.load_state_dict(saved)
    ours += run(params2, opt2, quad, STEPS - 12, skip, start=12)
    assert_trajectories_close(ours, ref)


@given(lr=st.floats(1e-4, 0.3), momentum=st.floats(0.0, 0.99), dampening=st.floats(0.0, 0.9),
       weight_decay=st.floats(0.0, 0.1), which=st.sampled_from(["SGD", "RMSprop", "Adam", "AdamW"]),
       flag=st.booleans())
def test_random_hyperparameters_match_textbook(lr, momentum, dampening, weight_decay, which, flag):
    if which == "SGD":
        kwargs = dict(lr=lr, momentum=momentum, weight_decay=weight_decay)
        kwargs.update(nesterov=True) if flag and momentum > 0 else kwargs.update(dampening=dampening)
    elif which == "RMSprop":
        kwargs = dict(lr=lr * 0.1, alpha=1 - dampening / 10, momentum=momentum, centered=flag,
                      weight_decay=weight_decay)
    else:
        kwargs = dict(lr=lr, betas=(momentum, 0.99 + dampening / 100), weight_decay=weight_decay, amsgrad=flag)
    quad = Quadratic(seed=3)
    ref = reference_trajectory(which, kwargs, quad, 20)
    params, opt = make(which, kwargs, quad)
    assert_trajectories_close(run(params, opt, quad, 20), ref, rtol=1e-8, atol=1e-10)


def test_adam_first_step_is_lr_times_sign_of_gradient():
    """Book Alg. 1.2 with m̂₁ = g, v̂₁ = g²: the first step is −α g/(|g| + ε) ≈ −α sign(g)."""
    p = ad.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ad.tensor([5.0, -0.01, 2e3])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.9, -1.9, 2.9], rtol=1e-5)


def test_float32_parameters_stay_float32_and_converge():
    p = ad.tensor(np.full(5, 3.0, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        ((p - 1.0) ** 2).sum().backward()
        opt.step()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.numpy(), 1.0, atol=1e-2)


@pytest.mark.parametrize("kwargs,message", [
    ({"lr": -1.0}, "lr"), ({"lr": 0.1, "momentum": 0.0, "nesterov": True}, "Nesterov"),
    ({"lr": 0.1, "weight_decay": -0.1}, "weight_decay")])
def test_invalid_hyperparameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD([ad.tensor([1.0], requires_grad=True)], **kwargs)


def test_adam_rejects_betas_outside_unit_interval():
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([ad.tensor([1.0], requires_grad=True)], betas=(0.9, 1.0))
