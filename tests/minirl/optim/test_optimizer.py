"""The Optimizer base class: parameters left as they are (flat buffers only with fused=True), param groups,
zero_grad, state_dict layout, devices/dtypes."""

import copy

import numpy as np
import pytest

import autodiff as ad
from minirl import nn, optim
from minirl.nn.linear import Linear


def _mlp(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(Linear(3, 5, rng=rng), Linear(5, 2, rng=rng))


def _loss(model, seed=1):
    x = np.random.default_rng(seed).standard_normal((8, 3)).astype(np.float32)
    return (model(x) ** 2).mean()


def _train(model, opt, steps=5):
    for _ in range(steps):
        opt.zero_grad()
        _loss(model).backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9), lambda m: optim.Adam(m.parameters()),
    lambda m: optim.AdamW(m.parameters(), amsgrad=True), lambda m: optim.RMSprop(m.parameters(), centered=True),
    lambda m: optim.Adagrad(m.parameters()), lambda m: optim.KFAC(m)])
def test_without_fused_every_parameter_keeps_an_array_of_its_own(make):
    model = _mlp()
    arrays = [p.data for p in model.parameters()]
    opt = make(model)
    _train(model, opt, 2)
    for p, array in zip(model.parameters(), arrays):
        assert p.data is array and p.data.base is None
    for i, p in enumerate(model.parameters()):
        assert not any(np.shares_memory(p.data, q.data) for q in list(model.parameters())[i + 1:])
        if opt.state.get(p):
            assert all(not np.shares_memory(p.data, v) for k, v in opt.state[p].items() if k != "step")


def test_fused_parameters_become_views_of_one_flat_buffer():
    model = _mlp()
    values = [p.numpy().copy() for p in model.parameters()]
    opt = optim.Adam(model.parameters(), fused=True)
    flat = opt._groups[0]
    assert flat.data.size == sum(v.size for v in values)
    for p, v in zip(model.parameters(), values):
        np.testing.assert_array_equal(p.numpy(), v)
        assert np.shares_memory(p.data, flat.data)


@pytest.mark.parametrize("fused", [False, True])
def test_module_load_state_dict_and_rebinding_data_are_seen_by_the_next_step(fused):
    model, twin = _mlp(0), _mlp(0)
    opt, twin_opt = optim.SGD(model.parameters(), lr=0.1, fused=fused), optim.SGD(twin.parameters(), lr=0.1)
    other = _mlp(5).state_dict()
    model.load_state_dict(other)  # in place: the views stay
    twin.load_state_dict(other)
    model[0].weight.data = model[0].weight.data.copy() + 1.0  # rebinding: re-attached at the next step
    twin[0].weight.data[...] += 1.0
    _train(model, opt, 3)
    _train(twin, twin_opt, 3)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    if fused:
        assert np.shares_memory(model[0].weight.data, opt._groups[0].data)


@pytest.mark.parametrize("fused", [False, True])
def test_dtype_change_keeps_state(fused):
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.01, fused=fused)
    _train(model, opt, 3)
    m_before = [s["exp_avg"].copy() for s in opt.state.values()]
    model.double()
    opt.zero_grad()
    x = np.random.default_rng(1).standard_normal((8, 3))
    (model(x) ** 2).mean().backward()
    opt.step()
    assert all(p.dtype == np.float64 for p in model.parameters())
    if fused:
        assert opt._groups[0].data.dtype == np.float64
    m_after = [s["exp_avg"] for s in opt.state.values()]
    assert all(s["step"] == 4 for s in opt.state.values())
    assert not np.allclose(m_after[0], m_before[0]) and m_after[0].dtype == np.float64


def test_deepcopy_of_model_is_independent():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    target = copy.deepcopy(model)
    _train(model, opt, 2)
    assert not np.allclose(target[0].weight.numpy(), model[0].weight.numpy())


def test_param_groups_have_their_own_hyperparameters():
    a, b = ad.tensor([1.0], requires_grad=True), ad.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    a.grad, b.grad = ad.tensor([1.0]), ad.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])
    opt.param_groups[1]["lr"] = 0.25  # what a scheduler does
    a.grad, b.grad = ad.tensor([1.0]), ad.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.8, 0.25])


def test_mixed_dtypes_need_separate_groups_when_fused():
    a = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    b = ad.tensor(np.ones(2, np.float64), requires_grad=True)
    with pytest.raises(TypeError, match="own group"):
        optim.Adam([a, b], fused=True)
    optim.Adam([{"params": [a]}, {"params": [b]}], fused=True)
    opt = optim.Adam([a, b])  # each parameter its own arrays: any mix is fine
    a.grad, b.grad = ad.tensor(np.ones(2, np.float32)), ad.tensor(np.ones(2, np.float64))
    opt.step()
    assert a.dtype == np.float32 and b.dtype == np.float64
    assert opt.state[a]["exp_avg"].dtype == np.float32 and opt.state[b]["exp_avg"].dtype == np.float64


def test_bad_parameter_lists_are_rejected():
    p = ad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([])
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([p * 2])


def test_zero_grad():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    _loss(model).backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_step_with_closure_returns_the_loss():
    model = _mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def closure():
        opt.zero_grad()
        loss = _loss(model)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    assert opt.step(closure).item() < first


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("make,keys", [
    (lambda ps: optim.SGD(ps, momentum=0.9), {"momentum_buffer"}),
    (lambda ps: optim.SGD(ps), None),
    (lambda ps: optim.Adam(ps), {"step", "exp_avg", "exp_avg_sq"}),
    (lambda ps: optim.Adam(ps, amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (lambda ps: optim.Adagrad(ps), {"step", "sum"}),
    (lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True),
     {"step", "square_avg", "momentum_buffer", "grad_avg"}),
])
def test_state_dict_layout_is_pytorchs(make, keys, fused):
    model = _mlp()
    opt = make(list(model.parameters()))
    if fused:  # the same optimizer over a flat buffer
        opt = type(opt)(list(model.parameters()), **{**opt.defaults, "fused": True})
    _train(model, opt, 2)
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1, 2, 3]
    if keys is None:
        assert saved["state"] == {}
    else:
        assert sorted(saved["state"]) == [0, 1, 2, 3]
        assert set(saved["state"][0]) == keys
        assert saved["state"][0].get("step", 2.0) == 2.0
        assert all(isinstance(v, np.ndarray) and v.shape == (5, 3) for k, v in saved["state"][0].items()
                   if k != "step")
    # the saved state is a copy
    saved["param_groups"][0]["lr"] = 123.0
    assert opt.param_groups[0]["lr"] != 123.0


def test_load_state_dict_checks_structure():
    model = _mlp()
    opt = optim.Adam(model.parameters())
    saved = opt.state_dict()
    saved["param_groups"][0]["params"] = [0, 1]
    with pytest.raises(ValueError, match="4 parameters"):
        opt.load_state_dict(saved)


def test_state_property_gives_views_per_parameter():
    model = _mlp()
    opt = optim.Adam(model.parameters())
    _train(model, opt, 1)
    w = model[0].weight
    assert opt.state[w]["exp_avg"].shape == w.shape and opt.state[w]["step"] == 1
    assert "Adam" in repr(opt) and "lr: 0.001" in repr(opt)
