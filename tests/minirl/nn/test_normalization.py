"""BatchNorm1d / BatchNorm2d (book ch. 1.7.4) and LayerNorm (ch. 13.2.2): statistics, running averages in
training only, evaluation with the running statistics, gradients, and PyTorch compatibility."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
import minirl.nn.functional as F
from layer_reference import cases, check_against_torch
from minirl.nn import BatchNorm1d, BatchNorm2d, LayerNorm, Sequential

EPS = 1e-5


def random(shape, seed=0, loc=3.0, scale=2.0):
    return np.random.default_rng(seed).normal(loc, scale, shape)


@given(st.integers(2, 6), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_batchnorm2d_train_standardises_each_channel(n, c, h, w, seed):
    bn = BatchNorm2d(c, dtype=np.float64)
    x = random((n, c, h, w), seed)
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-9)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), var / (var + EPS), rtol=1e-9)   # biased σ² + ε
    # running statistics: (1 − 0.1)·initial + 0.1·batch, the variance unbiased (n/(n − 1))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.var(axis=(0, 2, 3), ddof=1), rtol=1e-12)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone():
    bn = BatchNorm1d(3, dtype=np.float64)
    bn.weight.data[...] = [1.0, 2.0, -1.0]
    bn.bias.data[...] = [0.0, 0.5, 1.0]
    for seed in range(5):
        bn(random((8, 3), seed))
    mean, var = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    assert bn.num_batches_tracked.item() == 5
    bn.eval()
    x = random((4, 3), 99)
    y = bn(x).numpy()
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + EPS) * [1, 2, -1] + [0, 0.5, 1], rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean.numpy(), mean)
    np.testing.assert_array_equal(bn.running_var.numpy(), var)
    assert bn.num_batches_tracked.item() == 5
    # one example at a time gives the same result as the batch (the point of test-time statistics)
    np.testing.assert_allclose(bn(x[:1]).numpy(), y[:1], rtol=1e-12)


def test_eval_before_training_is_almost_identity():
    bn = BatchNorm2d(2).eval()
    x = random((2, 2, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(bn(x).numpy(), x / np.sqrt(1 + EPS), rtol=1e-6)


def test_train_and_eval_modes_differ():
    net = Sequential(BatchNorm1d(2))
    x = random((5, 2)).astype(np.float32)
    train_out = net(x).numpy()
    eval_out = net.eval()(x).numpy()
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_allclose(net.train()(x).numpy(), train_out, rtol=1e-6)


def test_running_averages_converge_with_momentum_none():
    bn = BatchNorm1d(1, momentum=None, dtype=np.float64)     # a cumulative average of the batch statistics
    batches = [random((4, 1), seed) for seed in range(6)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean() for x in batches]), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([x.var(ddof=1) for x in batches]), rtol=1e-12)


def test_sequence_input_batchnorm1d():
    bn = BatchNorm1d(3, dtype=np.float64)
    x = random((4, 3, 5))
    y = bn(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-9)


def test_buffers_state_dict_and_parameters():
    bn = BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert bn.state_dict()["num_batches_tracked"].dtype == np.int64
    assert BatchNorm1d(3, affine=False).state_dict().keys() == {"running_mean", "running_var", "num_batches_tracked"}
    assert bn.double().running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_batchnorm_errors():
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than one value"):
        bn(np.zeros((1, 3), np.float32))
    assert bn.num_batches_tracked.item() == 0 and not bn.running_mean.numpy().any()
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        BatchNorm1d(3)(np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match="rank 4"):
        BatchNorm2d(3)(np.zeros((5, 3), np.float32))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("layer, shape", [(BatchNorm1d, (5, 3)), (BatchNorm2d, (3, 2, 2, 3))])
def test_gradcheck_batchnorm(layer, shape, training):
    bn = layer(shape[1], dtype=np.float64)
    rng = np.random.default_rng(1)
    bn.weight.data[...] = rng.uniform(0.5, 2, shape[1])
    bn.bias.data[...] = rng.normal(size=shape[1])
    bn.running_mean.data[...], bn.running_var.data[...] = rng.normal(size=shape[1]), rng.uniform(0.5, 2, shape[1])
    bn.train(training)
    x = ad.tensor(rng.normal(size=shape), requires_grad=True)
    # an objective that is not invariant to the normalisation (Σ y would have zero gradient in training)
    u = rng.normal(size=shape)
    assert ad.gradcheck(lambda x, w, b: bn(x) * u, [x, bn.weight, bn.bias])


def test_gradgradcheck_batchnorm_train():
    x = ad.tensor(random((4, 2), 3), requires_grad=True)
    assert ad.gradgradcheck(lambda x: F.batch_norm(x, training=True), [x])


@given(st.integers(1, 3), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_layernorm_standardises_each_example(n, d, seed):
    x = random((n, 2, d), seed)
    y = LayerNorm((2, d), dtype=np.float64)(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-9)
    var = x.var(axis=(1, 2))
    np.testing.assert_allclose(y.var(axis=(1, 2)), var / (var + EPS), rtol=1e-9)


def test_layernorm_affine_is_elementwise_and_same_in_eval():
    ln = LayerNorm(3, dtype=np.float64)
    ln.weight.data[...] = [1.0, 2.0, 3.0]
    ln.bias.data[...] = [0.0, -1.0, 1.0]
    x = random((4, 3), 5)
    x_hat = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + EPS)
    np.testing.assert_allclose(ln(x).numpy(), x_hat * [1, 2, 3] + [0, -1, 1], rtol=1e-12)
    np.testing.assert_allclose(ln.eval()(x).numpy(), ln.train()(x).numpy())
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (3,)
    assert LayerNorm(3, elementwise_affine=False).state_dict() == {}
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(np.zeros((2, 4)))


def test_gradcheck_layernorm():
    rng = np.random.default_rng(2)
    ln = LayerNorm((2, 3), dtype=np.float64)
    ln.weight.data[...] = rng.uniform(0.5, 2, (2, 3))
    x = ad.tensor(rng.normal(size=(2, 2, 3)), requires_grad=True)
    u = rng.normal(size=(2, 2, 3))
    assert ad.gradcheck(lambda x, w, b: ln(x) * u, [x, ln.weight, ln.bias])
    assert ad.gradgradcheck(lambda x: F.layer_norm(x, (2, 3)) * u, [x])


@pytest.mark.parametrize("case", cases("BatchNorm") + cases("LayerNorm"))
def test_matches_pytorch(case):
    check_against_torch(case)
