"""Linear, Identity, Flatten (book §1.2, eqs. 1.4–1.6: z = Wx + b)."""

import numpy as np
import pytest

import autodiff as ad
import minirl.nn as nn
import minirl.nn.functional as F


def test_shapes_names_and_defaults():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer(np.ones((5, 4))).shape == (5, 3)
    assert layer(np.ones(4)).shape == (3,)
    assert layer(np.ones((2, 7, 4))).shape == (2, 7, 3)
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"]


def test_book_matrix_product_example():
    # book code 1.1: [[1, 2], [1, 2]] @ [[1], [2]] = [[5], [5]]: a layer with W = [[1, 2]] and no bias
    layer = nn.Linear(2, 1, bias=False)
    layer.weight.data[...] = [[1.0, 2.0]]
    np.testing.assert_array_equal(layer(np.array([[1.0, 2.0], [1.0, 2.0]])).numpy(), [[5.0], [5.0]])


def test_forward_is_x_wt_plus_b():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)


def test_seeded_rng_reproduces_weights():
    a = nn.Linear(5, 5, rng=np.random.default_rng(7)).state_dict()
    b = nn.Linear(5, 5, rng=np.random.default_rng(7)).state_dict()
    c = nn.Linear(5, 5, rng=np.random.default_rng(8)).state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(a["weight"], c["weight"])


def test_default_init_bounds():
    layer = nn.Linear(100, 300, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(100)
    for p in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.95 * bound
    assert layer.weight.numpy().std() == pytest.approx(bound / np.sqrt(3), rel=0.03)


def test_gradcheck_in_float64():
    layer = nn.Linear(3, 2, dtype=np.float64, rng=np.random.default_rng(0))
    x = ad.tensor(np.random.default_rng(1).standard_normal((4, 3)), requires_grad=True)
    assert ad.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, layer.weight, layer.bias))
    assert ad.gradgradcheck(lambda x, w, b: ad.tanh(F.linear(x, w, b)), (x, layer.weight, layer.bias))


def test_gradients_are_book_backprop_formulas():
    # ∂L/∂W = δ xᵀ and ∂L/∂b = δ (book §1.6.1), summed over the batch
    layer = nn.Linear(3, 2, dtype=np.float64, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 3))
    delta = np.random.default_rng(2).standard_normal((4, 2))
    (layer(x) * delta).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), delta.T @ x)
    np.testing.assert_allclose(layer.bias.grad.numpy(), delta.sum(axis=0))


def test_dtype_and_shape_errors():
    layer = nn.Linear(3, 2)
    assert layer(np.ones((1, 3), dtype=np.float64)).dtype == np.float32  # arrays are cast to the weight's dtype
    with pytest.raises(TypeError, match="input dtype float64 differs from weight dtype float32"):
        layer(ad.ones(1, 3, dtype=np.float64))
    with pytest.raises(ValueError, match=r"expected input \(\.\.\., 3\)"):
        layer(np.ones((2, 4)))


def test_identity_and_flatten():
    x = ad.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0)(x).shape == (24,)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    nn.Flatten()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3, 4)))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_a_small_mlp_learns_xor():
    # book §1.3, fig. 1.7: XOR needs a hidden layer (§2.1 item 4)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.Tanh(), nn.Linear(8, 1, rng=rng))
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    for _ in range(500):
        model.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data  # plain gradient descent, θ ← θ − α ∂L/∂θ (book §1.6.1)
    assert np.array_equal(model(x).numpy() > 0, y > 0.5)


def test_zero_width_linear_is_allowed():
    layer = nn.Linear(0, 3)  # no inputs: bias bound 1/√0 is taken as 0, as in PyTorch
    np.testing.assert_array_equal(layer(np.zeros((2, 0), dtype=np.float32)).numpy(), np.zeros((2, 3)))
