"""K-FAC (book §5.9): Kronecker factors equal their definitions, the preconditioned gradient is the natural
gradient (A ⊗ G)⁻¹ vec(∇W) built by brute force, ACKTR's KL clip bounds the step, and it trains networks."""

import copy
import pickle

import numpy as np
import pytest

import autodiff as ad
from minirl import nn, optim
from minirl.nn.activation import Tanh
from minirl.nn.conv import Conv2d
from minirl.nn.linear import Flatten, Linear


def _mse(y, target):
    """L = (1/N) Σ_n ½‖y_n − t_n‖²: a Gaussian output of unit variance, so g_n = y_n − t_n."""
    return (((y - target) ** 2).sum(axis=1) * 0.5).mean()


def _mlp(rng, dtype=np.float64):
    return nn.Sequential(Linear(3, 4, rng=rng, dtype=dtype), Tanh(), Linear(4, 2, rng=rng, dtype=dtype))


def _with_one(a):
    return np.concatenate([a, np.ones((a.shape[0], 1))], axis=1)


def test_factors_equal_their_definitions_for_an_mlp():
    rng = np.random.default_rng(0)
    model = _mlp(rng)
    W1, b1, W2, b2 = [p.numpy().copy() for p in model.parameters()]
    opt = optim.KFAC(model, stat_decay=0.9)
    batches = [(rng.standard_normal((10, 3)), rng.standard_normal((10, 2))) for _ in range(2)]
    expected = None
    for x, t in batches:
        W1, b1, W2, b2 = [p.numpy().copy() for p in model.parameters()]
        # by hand: s1 = x W1ᵀ + b1, h = tanh s1, y = h W2ᵀ + b2; per-sample g2 = y − t, g1 = (g2 W2) ⊙ (1 − h²)
        h = np.tanh(x @ W1.T + b1)
        g2 = h @ W2.T + b2 - t
        g1 = (g2 @ W2) * (1 - h**2)
        A1, A2 = _with_one(x).T @ _with_one(x) / 10, _with_one(h).T @ _with_one(h) / 10
        G1, G2 = g1.T @ g1 / 10, g2.T @ g2 / 10
        new = [A1, G1, A2, G2]
        expected = new if expected is None else [0.9 * e + 0.1 * n for e, n in zip(expected, new)]
        opt.zero_grad()
        _mse(model(x), t).backward()
        opt.step()
    got = [opt.layers[0].A, opt.layers[0].G, opt.layers[1].A, opt.layers[1].G]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_conv_factors_equal_their_definitions():
    """Patches as rows of A (with a 1 for the bias); G = |T|·E[g gᵀ] over samples and output positions."""
    rng = np.random.default_rng(1)
    conv = Conv2d(2, 3, 3, stride=1, padding=1, rng=rng, dtype=np.float64)
    head = Linear(3 * 4 * 4, 2, rng=rng, dtype=np.float64)
    model = nn.Sequential(conv, Tanh(), Flatten(), head)
    opt = optim.KFAC(model)
    n = 5
    x, t = rng.standard_normal((n, 2, 4, 4)), rng.standard_normal((n, 2))
    # the gradient of the loss with respect to the conv output, from a separate graph
    out = conv.forward(ad.tensor(x))
    out_leaf = ad.tensor(out.numpy(), requires_grad=True)
    y = head(ad.tanh(out_leaf).reshape(n, -1))
    (g_out,) = ad.grad(_mse(y, t), [out_leaf])
    g = g_out.numpy() * n  # per-sample gradients: the loss is a mean over the batch
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    patches = np.array([[padded[i, :, r:r + 3, c:c + 3].reshape(-1) for r in range(4) for c in range(4)]
                        for i in range(n)]).reshape(n * 16, -1)
    A = _with_one(patches).T @ _with_one(patches) / (n * 16)
    g_rows = g.transpose(0, 2, 3, 1).reshape(n * 16, 3)
    G = 16 * g_rows.T @ g_rows / (n * 16)
    opt.zero_grad()
    _mse(model(x), t).backward()
    opt.step()
    np.testing.assert_allclose(opt.layers[0].A, A, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(opt.layers[0].G, G, rtol=1e-10, atol=1e-12)


def _natural_gradient_by_brute_force(A, G, grad_w, grad_b):
    """(A ⊗ G)⁻¹ vec(∇W̃) with vec stacking columns (W̃ = [W | b]), solved with the full matrix."""
    grad = np.concatenate([grad_w, grad_b[:, None]], axis=1)
    F = np.kron(A, G)
    natural = np.linalg.solve(F, grad.reshape(-1, order="F")).reshape(grad.shape, order="F")
    return natural[:, :-1], natural[:, -1]


@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_preconditioned_gradient_is_the_natural_gradient(damping):
    rng = np.random.default_rng(2)
    layer = Linear(3, 2, rng=rng, dtype=np.float64)
    x, t = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    opt = optim.KFAC(layer, lr=0.1, momentum=0.0, stat_decay=0.0, damping=damping, kl_clip=None)
    before = [p.numpy().copy() for p in layer.parameters()]
    y = x @ before[0].T + before[1]
    g = y - t  # per-sample output gradients of ½‖y − t‖²
    A, G = _with_one(x).T @ _with_one(x) / 20, g.T @ g / 20
    grad_w, grad_b = g.T @ x / 20, g.mean(axis=0)
    if damping:  # Tikhonov damping split between the factors with π = sqrt((tr A / 4) / (tr G / 2))
        pi = np.sqrt((np.trace(A) / 4) / (np.trace(G) / 2))
        A, G = A + pi * np.sqrt(damping) * np.eye(4), G + np.sqrt(damping) / pi * np.eye(2)
    nat_w, nat_b = _natural_gradient_by_brute_force(A, G, grad_w, grad_b)
    opt.zero_grad()
    _mse(layer(x), t).backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), grad_w, rtol=1e-10)
    opt.step()
    np.testing.assert_allclose((before[0] - layer.weight.numpy()) / 0.1, nat_w, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose((before[1] - layer.bias.numpy()) / 0.1, nat_b, rtol=1e-8, atol=1e-10)


def test_for_one_sample_the_kronecker_product_is_the_exact_fisher():
    """K-FAC's only approximation is E[ā āᵀ ⊗ g gᵀ] ≈ E[ā āᵀ] ⊗ E[g gᵀ]: exact for a single sample."""
    rng = np.random.default_rng(3)
    layer = Linear(3, 2, rng=rng, dtype=np.float64)
    opt = optim.KFAC(layer, stat_decay=0.0)
    x, t = rng.standard_normal((1, 3)), rng.standard_normal((1, 2))
    _mse(layer(x), t).backward()
    grad = np.concatenate([layer.weight.grad.numpy(), layer.bias.grad.numpy()[:, None]], axis=1)
    opt.step()
    exact = np.outer(grad.reshape(-1, order="F"), grad.reshape(-1, order="F"))
    np.testing.assert_allclose(np.kron(opt.layers[0].A, opt.layers[0].G), exact, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lr,clipped", [(5.0, True), (1e-3, False)])
def test_kl_clip_bounds_the_step(lr, clipped):
    """With momentum 0 the step Δ = lr·ν·F̂⁻¹g satisfies ½ Δᵀ F̂ Δ ≤ δ (= δ when the clip is active)."""
    rng = np.random.default_rng(4)
    model = _mlp(rng)
    opt = optim.KFAC(model, lr=lr, momentum=0.0, kl_clip=1e-3, damping=0.1)
    x, t = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    before = [p.numpy().copy() for p in model.parameters()]
    _mse(model(x), t).backward()
    opt.step()
    quadratic = 0.0
    for layer, (w0, b0) in zip(opt.layers, [before[:2], before[2:]]):
        step = np.concatenate([layer.module.weight.numpy() - w0, (layer.module.bias.numpy() - b0)[:, None]], axis=1)
        pi = np.sqrt((np.trace(layer.A) / len(layer.A)) / (np.trace(layer.G) / len(layer.G)))
        A = layer.A + pi * np.sqrt(0.1) * np.eye(len(layer.A))
        G = layer.G + np.sqrt(0.1) / pi * np.eye(len(layer.G))
        vec = step.reshape(-1, order="F")
        quadratic += vec @ np.kron(A, G) @ vec
    kl = 0.5 * quadratic
    if clipped:
        assert opt.last_nu < 1 and kl == pytest.approx(1e-3, rel=1e-6)
    else:
        assert opt.last_nu == 1.0 and kl < 1e-3


def test_other_parameters_get_plain_sgd():
    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.mean = Linear(2, 1, rng=np.random.default_rng(0), dtype=np.float64)
            self.log_std = nn.Parameter(np.zeros(1))

        def forward(self, x):
            return self.mean(x) * ad.exp(self.log_std)

    policy = Policy()
    opt = optim.KFAC(policy, lr=0.1, momentum=0.0, kl_clip=None)
    assert [lay.module for lay in opt.layers] == [policy.mean]
    (policy(np.ones((4, 2))) ** 2).mean().backward()
    grad = policy.log_std.grad.numpy().copy()
    opt.step()
    np.testing.assert_allclose(policy.log_std.numpy(), -0.1 * grad)


def _blobs(rng, n=120):
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.integers(0, 3, n)
    return centers[labels] + 0.6 * rng.standard_normal((n, 2)), labels


def _cross_entropy(logits, labels):
    log_p = ad.log_softmax(logits, axis=-1)
    return -log_p[np.arange(len(labels)), labels].mean()


def test_kfac_trains_a_small_mlp():
    rng = np.random.default_rng(5)
    x, labels = _blobs(rng)
    x = x.astype(np.float32)
    model = nn.Sequential(Linear(2, 16, rng=rng), Tanh(), Linear(16, 3, rng=rng))
    opt = optim.KFAC(model, lr=0.25, kl_clip=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = _cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    accuracy = (model(x).numpy().argmax(1) == labels).mean()
    assert losses[-1] < 0.25 * losses[0] and accuracy > 0.95


def test_kfac_trains_a_cnn():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((32, 1, 6, 6)).astype(np.float32)
    labels = (x[:, 0, :3].sum(axis=(1, 2)) > x[:, 0, 3:].sum(axis=(1, 2))).astype(int)
    model = nn.Sequential(Conv2d(1, 4, 3, rng=rng), Tanh(), Flatten(), Linear(4 * 4 * 4, 2, rng=rng))
    opt = optim.KFAC(model, lr=0.25, kl_clip=0.01)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = _cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        first = first or loss.item()
    assert loss.item() < 0.5 * first


def test_sampled_fisher_only_from_accumulate_stats():
    rng = np.random.default_rng(7)
    model = _mlp(rng)
    opt = optim.KFAC(model, empirical_fisher=False)
    x = rng.standard_normal((8, 3))
    y = model(x)
    with opt.accumulate_stats():
        sampled = y.detach() + ad.tensor(rng.standard_normal((8, 2)))  # a target drawn from the model
        _mse(y, sampled).backward(retain_graph=True)
    assert len(opt.layers[0].batches) == 1
    opt.zero_grad()
    _mse(y, np.zeros((8, 2))).backward()  # the training loss: not part of the statistics
    assert len(opt.layers[0].batches) == 1
    opt.step()
    assert opt.layers[0].A is not None and opt.layers[0].batches == []
    with ad.no_grad():
        model(x)  # acting, not learning: nothing is recorded
    assert opt.layers[0].batches == []


def test_inverses_refresh_every_tinv_steps_and_stats_every_ts():
    rng = np.random.default_rng(8)
    model = _mlp(rng)
    opt = optim.KFAC(model, Tinv=3, Ts=2)
    x, t = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    inverses, factors = [], []
    for _ in range(6):
        opt.zero_grad()
        _mse(model(x), t).backward()
        opt.step()
        inverses.append(opt.layers[0].A_inv)
        factors.append(opt.layers[0].A)
    assert [inverses[i] is inverses[i - 1] for i in range(1, 6)] == [True, True, False, True, True]
    assert [factors[i] is factors[i - 1] for i in range(1, 6)] == [True, False, True, False, True]


def test_copies_of_a_watched_model_are_plain_and_remove_unwatches():
    rng = np.random.default_rng(9)
    model = _mlp(rng)
    opt = optim.KFAC(model)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        clone_out = clone(np.ones((2, 3)))
        clone_out.sum().backward()
        assert all(not lay.batches for lay in opt.layers)
        np.testing.assert_allclose(clone_out.numpy(), model(np.ones((2, 3))).numpy())
    with pytest.raises(RuntimeError, match="already watched"):
        optim.KFAC(model)
    opt.remove()
    assert not model[0]._forward_hooks and not model[2]._forward_hooks
    optim.KFAC(model)


def test_state_dict_round_trip_resumes_identically():
    rng = np.random.default_rng(10)
    data = [(rng.standard_normal((8, 3)), rng.standard_normal((8, 2))) for _ in range(10)]

    def train(model, opt, batches):
        for x, t in batches:
            opt.zero_grad()
            _mse(model(x), t).backward()
            opt.step()

    model = _mlp(np.random.default_rng(11))
    opt = optim.KFAC(model, Tinv=4)
    train(model, opt, data[:5])
    saved, weights = opt.state_dict(), model.state_dict()
    assert saved["kfac"]["steps"] == 5 and set(saved["kfac"]["layers"][0]) == {"A", "G", "A_inv", "G_inv"}
    clone = _mlp(np.random.default_rng(12))
    clone.load_state_dict(weights)
    clone_opt = optim.KFAC(clone, Tinv=4)
    clone_opt.load_state_dict(saved)
    train(model, opt, data[5:])
    train(clone, clone_opt, data[5:])
    for a, b in zip(model.parameters(), clone.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_dense_stack_is_watched_layer_by_layer():
    """K-FAC sees every layer of an `nn.DenseStack` (the stack runs module by module while hooks watch it): the
    same statistics and steps as for the `Sequential` of the same layers."""
    rng = np.random.default_rng(13)
    data = [(rng.standard_normal((8, 3)), rng.standard_normal((8, 2))) for _ in range(4)]
    weights = _mlp(np.random.default_rng(14)).state_dict()
    models = []
    for container in (nn.Sequential, nn.DenseStack):
        model = container(*_mlp(np.random.default_rng(0)))
        model.load_state_dict(weights)
        opt = optim.KFAC(model, Tinv=2)
        for x, t in data:
            opt.zero_grad()
            _mse(model(x), t).backward()
            opt.step()
        models.append((model, opt))
    (seq, seq_opt), (stack, stack_opt) = models
    for a, b in zip(seq.parameters(), stack.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(seq_opt.layers, stack_opt.layers):
        np.testing.assert_array_equal(a.A, b.A)
        np.testing.assert_array_equal(a.G, b.G)
