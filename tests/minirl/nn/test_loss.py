"""Losses (book §1.5, eqs. 1.13–1.20; Huber 4.27; quantile 4.25): hand-computed values, gradients,
reductions, and properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
import minirl.nn as nn
import minirl.nn.functional as F


def t64(values, grad=True):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=grad)


def rand64(shape, seed=0, scale=1.0):
    return t64(np.random.default_rng(seed).standard_normal(shape) * scale)


# -- hand-computed values -------------------------------------------------------------------------------
def test_mse_and_l1_by_hand():
    x, y = ad.tensor([1.0, 2.0, 4.0]), ad.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0 + 4 + 9) / 3)  # eq. 1.19
    assert F.mse_loss(x, y, reduction="sum").item() == pytest.approx(13)
    np.testing.assert_allclose(F.mse_loss(x, y, reduction="none").numpy(), [0, 4, 9])
    assert F.l1_loss(x, y).item() == pytest.approx(5 / 3)  # eq. 1.20


def test_huber_on_both_sides_of_delta():
    # book §2.1 item 6 (δ = 1): L(0.5) = 0.125, L(2) = 1.5, L(−3) = 2.5; gradient clipped to ±1
    d = ad.tensor([0.5, 2.0, -3.0], requires_grad=True)
    loss = F.huber_loss(d, np.zeros(3), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.125, 1.5, 2.5])
    loss.sum().backward()
    np.testing.assert_allclose(d.grad.numpy(), [0.5, 1.0, -1.0])
    # δ = 2: 0.5·1² inside, 2(3 − 1) outside; smooth L1 with β = 2 is Huber / 2
    x = ad.tensor([1.0, 3.0])
    np.testing.assert_allclose(F.huber_loss(x, np.zeros(2), "none", delta=2.0).numpy(), [0.5, 4.0])
    np.testing.assert_allclose(F.smooth_l1_loss(x, np.zeros(2), "none", beta=2.0).numpy(), [0.25, 2.0])
    np.testing.assert_allclose(F.smooth_l1_loss(x, np.zeros(2), "none", beta=0.0).numpy(), [1.0, 3.0])


def test_binary_cross_entropy_of_known_probabilities():
    p, y = ad.tensor([0.9, 0.2, 0.5]), ad.tensor([1.0, 0.0, 1.0])
    expected = -(np.log(0.9) + np.log(0.8) + np.log(0.5)) / 3  # eq. 1.15
    assert F.binary_cross_entropy(p, y).item() == pytest.approx(expected, rel=1e-6)
    logits = ad.tensor(np.log([0.9 / 0.1, 0.2 / 0.8, 1.0]))  # σ(logit) = p
    assert F.binary_cross_entropy_with_logits(logits, y).item() == pytest.approx(expected, rel=1e-6)
    # p = 0 or 1 gives PyTorch's finite cap (log clamped at −100), not inf
    assert F.binary_cross_entropy(ad.tensor([0.0]), ad.tensor([1.0])).item() == pytest.approx(100, rel=1e-3)
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(ad.tensor([1.5]), ad.tensor([1.0]))


def test_bce_with_logits_is_stable_and_weights_positives():
    x, y = ad.tensor([-200.0, 200.0, 0.0]), ad.tensor([1.0, 0.0, 1.0])
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy(),
                               [200.0, 200.0, np.log(2)], rtol=1e-6)
    weighted = F.binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=np.array([3.0]))
    np.testing.assert_allclose(weighted.numpy(), [600.0, 200.0, 3 * np.log(2)], rtol=1e-6)


def test_cross_entropy_of_known_logits():
    logits = ad.tensor([[0.0, np.log(2.0)], [np.log(3.0), 0.0]])  # softmax rows [1/3, 2/3] and [3/4, 1/4]
    labels = np.array([1, 1])
    np.testing.assert_allclose(F.cross_entropy(logits, labels, reduction="none").numpy(),
                               [-np.log(2 / 3), -np.log(1 / 4)], rtol=1e-6)  # eq. 1.16
    onehot = F.one_hot(labels, 2).numpy().astype(np.float32)
    assert F.cross_entropy(logits, onehot).item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    log_p = F.log_softmax(logits, dim=1)
    assert F.nll_loss(log_p, labels).item() == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-6)
    # ignore_index drops a sample from the mean; weights make a weighted mean
    assert F.cross_entropy(logits, np.array([1, -100])).item() == pytest.approx(-np.log(2 / 3), rel=1e-6)
    weighted = F.cross_entropy(logits, labels, weight=np.array([1.0, 3.0]))
    assert weighted.item() == pytest.approx((-np.log(2 / 3) - np.log(1 / 4)) / 2, rel=1e-6)  # both weight 3
    # label smoothing ε: target (1 − ε)·onehot + ε/C
    smoothed = (1 - 0.2) * onehot + 0.2 / 2
    assert F.cross_entropy(logits, labels, label_smoothing=0.2).item() == pytest.approx(
        F.cross_entropy(logits, smoothed).item(), rel=1e-6)


def test_cross_entropy_shape_and_label_errors():
    logits = ad.ones(4, 3)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(logits, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"needs target of shape \(4,\)"):
        F.cross_entropy(logits, np.array([[0], [1], [2], [0]]))
    with pytest.raises(ValueError, match="probability target shape"):
        F.cross_entropy(logits, np.ones((4, 2), dtype=np.float32))


def test_kl_divergence_by_hand_and_properties():
    p, q = np.array([[0.5, 0.5, 0.0]]), np.array([[0.25, 0.25, 0.5]])
    expected = 0.5 * np.log(2) * 2  # eq. 1.13: Σ p log(p/q), the p = 0 term counts 0
    assert F.kl_div(ad.tensor(np.log(q)), p, reduction="sum").item() == pytest.approx(expected)
    assert F.kl_div(ad.tensor(np.log(q)), np.log(np.array([[0.5, 0.5, 1e-300]])), reduction="sum",
                    log_target=True).item() == pytest.approx(expected)
    batch = ad.tensor(np.log(np.vstack([q, q])))
    assert F.kl_div(batch, np.vstack([p, p]), reduction="batchmean").item() == pytest.approx(expected)
    assert F.kl_div(batch, np.vstack([p, p]), reduction="mean").item() == pytest.approx(expected / 3)


@given(hnp.arrays(np.float64, (2, 4), elements=st.floats(-5, 5)),
       hnp.arrays(np.float64, (2, 4), elements=st.floats(-5, 5)))
def test_kl_is_nonnegative_and_zero_iff_equal(a, b):
    log_q = F.log_softmax(ad.tensor(a), dim=1)
    p = F.softmax(ad.tensor(b), dim=1).numpy()
    kl = F.kl_div(log_q, p, reduction="batchmean").item()
    assert kl >= -1e-12
    assert F.kl_div(ad.tensor(np.log(p)), p, reduction="sum").item() == pytest.approx(0, abs=1e-12)
    if not np.allclose(F.softmax(ad.tensor(a), dim=1).numpy(), p, atol=1e-3):
        assert kl > 0


def test_quantile_loss_by_hand_and_minimiser_is_the_quantile():
    x = ad.tensor([0.0, 0.0], requires_grad=True)
    loss = F.quantile_loss(x, np.array([2.0, -2.0]), tau=0.9, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.9 * 2, 0.1 * 2], rtol=1e-6)  # eq. 4.25 with u = y − x
    samples = np.random.default_rng(0).standard_normal(2001)
    grid = np.linspace(-2, 2, 401)
    for tau in (0.1, 0.5, 0.8):
        values = [F.quantile_loss(ad.full(samples.shape, g, dtype=np.float64), samples, tau).item() for g in grid]
        assert abs(grid[int(np.argmin(values))] - np.quantile(samples, tau)) < 0.02


def test_quantile_huber_loss_by_hand():
    theta = ad.tensor([[0.0, 1.0]], requires_grad=True)  # quantiles at τ = 1/4, 3/4
    target = np.array([[0.5, 3.0]])
    # u = y − θ: row τ=1/4: [0.5, 3.0]; row τ=3/4: [−0.5, 2.0]
    h = lambda u: 0.5 * u * u if abs(u) <= 1 else abs(u) - 0.5  # noqa: E731
    expected = (0.25 * h(0.5) + 0.25 * h(3.0)) / 2 + (0.25 * h(-0.5) + 0.75 * h(2.0)) / 2  # Σ_i mean_j
    assert F.quantile_huber_loss(theta, target).item() == pytest.approx(expected)
    # κ = 0 is the plain pinball loss
    pinball = (0.25 * 0.5 + 0.25 * 3.0) / 2 + (0.25 * 0.5 + 0.75 * 2.0) / 2
    assert F.quantile_huber_loss(theta, target, kappa=0.0).item() == pytest.approx(pinball)
    with pytest.raises(ValueError, match=r"input \(B, N\)"):
        F.quantile_huber_loss(ad.ones(3), target)


# -- gradients ------------------------------------------------------------------------------------------
def _gradcheck_cases():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((3, 4)) * 2
    probs = 1 / (1 + np.exp(-rng.standard_normal((3, 4))))
    labels = rng.integers(0, 4, 3)
    soft = rng.dirichlet(np.ones(4), 3)
    return {  # name: (loss of x (3, 4), scale of x)
        "mse": (lambda x: F.mse_loss(x, y), 1.0),
        "l1": (lambda x: F.l1_loss(x, y, reduction="sum"), 1.0),
        "huber": (lambda x: F.huber_loss(x, y, delta=0.7), 1.0),
        "smooth_l1": (lambda x: F.smooth_l1_loss(x, y, reduction="none", beta=0.5), 1.0),
        "bce": (lambda x: F.binary_cross_entropy(F.sigmoid(x), probs), 1.0),
        "bce_logits": (lambda x: F.binary_cross_entropy_with_logits(x, probs, pos_weight=np.arange(1.0, 5.0)), 1.0),
        "ce_fused": (lambda x: F.cross_entropy(x, labels), 1.0),
        "ce_smoothed": (lambda x: F.cross_entropy(x, labels, weight=np.arange(1.0, 5.0), label_smoothing=0.1), 1.0),
        "ce_soft": (lambda x: F.cross_entropy(x, soft, reduction="sum"), 1.0),
        "ce_3d": (lambda x: F.cross_entropy(x.reshape(3, 2, 2), np.array([[0, 1], [1, 1], [0, 0]])), 1.0),
        "nll": (lambda x: F.nll_loss(x, np.array([0, -100, 3])), 1.0),
        "kl": (lambda x: F.kl_div(F.log_softmax(x, dim=1), soft, reduction="batchmean"), 1.0),
        "kl_log_target": (lambda x: F.kl_div(x, np.log(soft), reduction="sum", log_target=True), 1.0),
        "quantile": (lambda x: F.quantile_loss(x, y, tau=np.array([0.1, 0.3, 0.6, 0.9])), 1.0),
        "quantile_huber": (lambda x: F.quantile_huber_loss(x, y[:, :3] * 3), 1.0),
    }


@pytest.mark.parametrize("name", sorted(_gradcheck_cases()))
def test_gradcheck(name):
    fn, scale = _gradcheck_cases()[name]
    x = rand64((3, 4), seed=2, scale=scale)
    assert ad.gradcheck(fn, x)


def test_kl_gradient_flows_into_the_target_too():
    p = t64(np.random.default_rng(3).dirichlet(np.ones(4), 2))
    log_q = F.log_softmax(rand64((2, 4)), dim=1).detach()
    assert ad.gradcheck(lambda t: F.kl_div(log_q, t, reduction="sum"), p)


@pytest.mark.parametrize("name", ["ce_fused", "bce_logits", "huber", "kl", "mse"])
def test_gradgradcheck(name):
    assert ad.gradgradcheck(_gradcheck_cases()[name][0], rand64((3, 4), seed=4))


def test_fused_cross_entropy_gradient_is_softmax_minus_onehot():
    logits = rand64((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    F.cross_entropy(logits, labels, reduction="sum").backward()
    expected = F.softmax(logits, dim=1).numpy() - np.eye(3)[labels]
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_mse_is_one_node_with_gradients_to_both_sides(reduction):
    x, y = rand64((4, 3), seed=6), rand64((4, 3), seed=7)
    loss = F.mse_loss(x, y, reduction=reduction)
    assert loss.grad_fn.name == "squarederror"
    loss.backward()
    n = 1 if reduction == "sum" else 12
    np.testing.assert_allclose(x.grad.numpy(), 2 * (x.numpy() - y.numpy()) / n, atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), -x.grad.numpy(), atol=1e-12)
    assert ad.gradgradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y])


# -- reductions, shapes, modules ----------------------------------------------------------------------
@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss,
                                F.binary_cross_entropy_with_logits])
def test_reductions_agree(fn):
    x, y = rand64((4, 3)), np.random.default_rng(5).random((4, 3))
    none = fn(x, y, reduction="none").numpy()
    assert none.shape == (4, 3)
    assert fn(x, y, reduction="sum").item() == pytest.approx(none.sum())
    assert fn(x, y).item() == pytest.approx(none.mean())
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(x, y, reduction="average")


def test_elementwise_losses_refuse_silent_broadcasting():
    with pytest.raises(ValueError, match=r"input shape \(4, 1\) and target shape \(4,\) differ"):
        F.mse_loss(ad.ones(4, 1), np.ones(4))


def test_float32_stays_float32():
    x = ad.ones(4, 3)
    for loss in (F.mse_loss(x, np.zeros((4, 3))), F.cross_entropy(x, np.zeros(4, dtype=int)),
                 F.huber_loss(x, np.zeros((4, 3))), F.binary_cross_entropy_with_logits(x, np.zeros((4, 3)))):
        assert loss.dtype == np.float32


def test_loss_modules_match_functions():
    x, y = rand64((4, 3)), np.random.default_rng(6).random((4, 3))
    labels = np.array([0, 2, 1, 2])
    pairs = [
        (nn.MSELoss(), F.mse_loss(x, y)), (nn.L1Loss(reduction="sum"), F.l1_loss(x, y, "sum")),
        (nn.HuberLoss(delta=0.3), F.huber_loss(x, y, delta=0.3)),
        (nn.SmoothL1Loss(beta=0.3), F.smooth_l1_loss(x, y, beta=0.3)),
        (nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2.0, 3.0])),
         F.binary_cross_entropy_with_logits(x, y, pos_weight=np.array([1.0, 2.0, 3.0]))),
        (nn.QuantileLoss(tau=0.3), F.quantile_loss(x, y, 0.3)),
        (nn.QuantileHuberLoss(kappa=2.0), F.quantile_huber_loss(x, y, kappa=2.0)),
        (nn.KLDivLoss(reduction="batchmean"), F.kl_div(F.log_softmax(x, dim=1), y, "batchmean")),
    ]
    for module, expected in pairs[:-1]:
        assert module(x, y).item() == pytest.approx(expected.item())
    assert pairs[-1][0](F.log_softmax(x, dim=1), y).item() == pytest.approx(pairs[-1][1].item())
    p = F.sigmoid(x)
    assert nn.BCELoss()(p, y).item() == pytest.approx(F.binary_cross_entropy(p, y).item())
    ce = nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none")
    np.testing.assert_allclose(ce(x, labels).numpy(), F.cross_entropy(x, labels, reduction="none",
                                                                      label_smoothing=0.1).numpy())
    log_p = F.log_softmax(x, dim=1)
    expected = F.nll_loss(log_p, labels, ignore_index=2).item()
    assert nn.NLLLoss(ignore_index=2)(log_p, labels).item() == pytest.approx(expected)
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.L1Loss(reduction="sum")) == "L1Loss(reduction=sum)"
