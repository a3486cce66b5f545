"""Activations (book §1.4, eqs. 1.8–1.12, ELU 13.1): values, gradients, modules, PyTorch agreement."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
import minirl.nn as nn
import minirl.nn.functional as F

FIXTURE = Path(__file__).parents[2] / "fixtures" / "torch_reference_nn.npz"


def x64(shape=(3, 4), seed=0, scale=2.0):
    # keep values away from the kinks at 0 and 6, where finite differences are meaningless
    values = np.random.default_rng(seed).standard_normal(shape) * scale
    values = np.where(np.abs(values) < 0.05, 0.3, values)
    values = np.where(np.abs(values - 6) < 0.05, 6.3, values)
    return ad.tensor(values, requires_grad=True)


FUNCTIONS = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu, "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "elu": lambda x: F.elu(x, 1.5), "relu6": lambda x: F.relu6(x * 4), "softplus": F.softplus,
    "softplus_beta": lambda x: F.softplus(x, beta=3.0), "logsigmoid": F.logsigmoid,
    "softmax": lambda x: F.softmax(x, dim=1), "log_softmax": lambda x: F.log_softmax(x, dim=0),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradcheck(name):
    assert ad.gradcheck(FUNCTIONS[name], x64())


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "softplus", "softmax", "log_softmax"])
def test_gradgradcheck_of_smooth_activations(name):
    assert ad.gradgradcheck(FUNCTIONS[name], x64((2, 3)))


def test_prelu_gradcheck_in_input_and_slopes():
    x = x64((4, 3, 2))
    per_channel = ad.tensor([0.25, -0.5, 0.1], dtype=np.float64, requires_grad=True)
    shared = ad.tensor([0.3], dtype=np.float64, requires_grad=True)
    assert ad.gradcheck(F.prelu, (x, per_channel))
    assert ad.gradcheck(F.prelu, (x, shared))
    with pytest.raises(ValueError, match="3 slopes"):
        F.prelu(ad.ones(2, 4), per_channel)


def test_known_values():
    # book §2.1 item 7: softmax([0, ln 2]) = [1/3, 2/3]; σ(0) = 0.5
    np.testing.assert_allclose(F.softmax(ad.tensor([0.0, np.log(2.0)])).numpy(), [1 / 3, 2 / 3], rtol=1e-6)
    assert F.sigmoid(ad.tensor(0.0)).item() == 0.5
    x = ad.tensor([-2.0, -0.5, 0.0, 3.0, 7.0])
    np.testing.assert_allclose(F.relu(x).numpy(), [0, 0, 0, 3, 7])
    np.testing.assert_allclose(F.relu6(x).numpy(), [0, 0, 0, 3, 6])
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).numpy(), [-0.2, -0.05, 0, 3, 7], rtol=1e-6)
    # ELU is α(eˣ − 1) for x ≤ 0 (the book's α·exp(x − 1) is an erratum: it would give α/e at 0, not 0)
    np.testing.assert_allclose(F.elu(x, 2.0).numpy(), [2 * (np.exp(-2) - 1), 2 * (np.exp(-0.5) - 1), 0, 3, 7],
                               rtol=1e-6)
    np.testing.assert_allclose(F.softplus(x).numpy(), np.log1p(np.exp(x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(F.tanh(x).numpy(), 2 * F.sigmoid(2 * x).numpy() - 1, atol=1e-6)  # eq. 1.9


def test_extreme_inputs_stay_finite():
    x = ad.tensor([-1000.0, -80.0, 80.0, 1000.0], requires_grad=True)
    for fn in (F.sigmoid, F.softplus, F.elu, F.logsigmoid, F.tanh, lambda t: F.log_softmax(t, dim=0)):
        y = fn(x)
        y.sum().backward()
        assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
        x.grad = None


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5),
                  elements=st.floats(-50, 50)))
def test_softmax_is_a_distribution_and_log_softmax_its_log(values):
    x = ad.tensor(values)
    p = F.softmax(x, dim=1).numpy()
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(F.log_softmax(x, dim=1).numpy()), p, atol=1e-12)
    shifted = F.softmax(ad.tensor(values + 3.0), dim=1).numpy()  # invariant to a constant shift
    np.testing.assert_allclose(shifted, p, atol=1e-12)


def test_modules_call_their_functions_and_print_like_pytorch():
    x = x64()
    pairs = [(nn.Sigmoid(), F.sigmoid(x)), (nn.Tanh(), F.tanh(x)), (nn.ReLU(), F.relu(x)),
             (nn.ReLU6(), F.relu6(x)), (nn.LeakyReLU(0.3), F.leaky_relu(x, 0.3)), (nn.ELU(0.5), F.elu(x, 0.5)),
             (nn.Softplus(beta=2.0), F.softplus(x, 2.0)), (nn.Softmax(dim=0), F.softmax(x, 0)),
             (nn.LogSoftmax(dim=1), F.log_softmax(x, 1))]
    for module, expected in pairs:
        np.testing.assert_allclose(module(x).numpy(), expected.numpy())
        assert list(module.parameters()) == []
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_prelu_module_learns_its_slope():
    act = nn.PReLU()
    assert [n for n, _ in act.named_parameters()] == ["weight"] and act.weight.shape == (1,)
    np.testing.assert_allclose(act.weight.numpy(), 0.25)
    assert act.num_parameters() == 1 and nn.PReLU(num_parameters=3, init=0.1).num_parameters() == 3
    x = ad.tensor([[-2.0, 1.0], [-1.0, 3.0]])
    act(x).sum().backward()
    np.testing.assert_allclose(act.weight.grad.numpy(), [-3.0])  # ∂/∂α Σ αx over x < 0


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files if k.startswith("activation/")}


def test_activations_match_pytorch(ref):
    cases = sorted({k.split("/")[1] for k in ref})
    assert len(cases) >= 12
    for case in cases:
        field = lambda f: ref[f"activation/{case}/{f}"]  # noqa: E731
        name, kwargs = str(field("name")), json.loads(str(field("kwargs")))
        x = ad.tensor(field("input"), requires_grad=True)
        if name == "prelu":
            out = F.prelu(x, ad.tensor(field("arg_weight")))
        else:
            out = getattr(F, name)(x, **kwargs)
        (out * field("r")).sum().backward()
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), field("output"), rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(x.grad.numpy(), field("grad"), rtol=1e-5, atol=1e-6, err_msg=f"{name} grad")
