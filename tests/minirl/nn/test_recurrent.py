"""RNN / LSTM / GRU (book ch. 1.9): cells against hand NumPy computations of eqs. 1.25–1.26, sequence modules
against unrolled cells, batch_first and unbatched inputs, stacked layers, gradients, PyTorch compatibility."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autodiff as ad
from layer_reference import cases, check_against_torch
from minirl.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def book_form(cell, k):
    """Gate k of a cell in the book's notation: W_k acting on [h_{t−1}; x_t] and one bias b_k."""
    rows = slice(k * cell.hidden_size, (k + 1) * cell.hidden_size)
    w = np.concatenate([cell.weight_hh.numpy()[rows], cell.weight_ih.numpy()[rows]], axis=1)
    return w, cell.bias_hh.numpy()[rows] + cell.bias_ih.numpy()[rows]


def random_state(rng, *shape):
    return rng.standard_normal(shape)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_lstm_cell_is_eq_1_26(batch, n_in, n_hidden, seed):
    rng = np.random.default_rng(seed)
    cell = LSTMCell(n_in, n_hidden, dtype=np.float64, rng=rng)
    x, h, c = random_state(rng, batch, n_in), random_state(rng, batch, n_hidden), random_state(rng, batch, n_hidden)
    hx = np.concatenate([h, x], axis=1)                               # [h_{t−1}; x_t]
    (w_i, b_i), (w_f, b_f), (w_c, b_c), (w_o, b_o) = (book_form(cell, k) for k in range(4))  # PyTorch: i, f, g, o
    f = sigmoid(hx @ w_f.T + b_f)                                     # forget gate
    i = sigmoid(hx @ w_i.T + b_i)                                     # input gate
    o = sigmoid(hx @ w_o.T + b_o)                                     # output gate
    c_next = f * c + i * np.tanh(hx @ w_c.T + b_c)                    # C_t = f × C_{t−1} + i × tanh(W_C[h; x] + b_C)
    h_next = o * np.tanh(c_next)                                      # h_t = o × tanh(C_t)
    h_ours, c_ours = cell(x, (h, c))
    np.testing.assert_allclose(c_ours.numpy(), c_next, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_ours.numpy(), h_next, rtol=1e-12, atol=1e-14)


def test_rnn_cell_is_eq_1_25():
    rng = np.random.default_rng(0)
    for nonlinearity, act in [("tanh", np.tanh), ("relu", lambda z: np.maximum(z, 0))]:
        cell = RNNCell(3, 4, nonlinearity=nonlinearity, dtype=np.float64, rng=rng)
        x, h = random_state(rng, 2, 3), random_state(rng, 2, 4)
        w, b = book_form(cell, 0)
        np.testing.assert_allclose(cell(x, h).numpy(), act(np.concatenate([h, x], 1) @ w.T + b), rtol=1e-12)


def test_gru_cell_equations():
    rng = np.random.default_rng(1)
    cell = GRUCell(3, 4, dtype=np.float64, rng=rng)
    x, h = random_state(rng, 2, 3), random_state(rng, 2, 4)
    w_ih, w_hh, b_ih, b_hh = (p.numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    gx, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r = sigmoid(gx[:, :4] + gh[:, :4])                                # reset gate
    z = sigmoid(gx[:, 4:8] + gh[:, 4:8])                              # update gate
    n = np.tanh(gx[:, 8:] + r * gh[:, 8:])                            # candidate
    np.testing.assert_allclose(cell(x, h).numpy(), (1 - z) * n + z * h, rtol=1e-12)


def test_cells_default_to_zero_state_and_accept_unbatched_input():
    rng = np.random.default_rng(2)
    x = random_state(rng, 2, 3)
    for cell in (RNNCell(3, 4, dtype=np.float64, rng=rng), GRUCell(3, 4, dtype=np.float64, rng=rng)):
        np.testing.assert_allclose(cell(x).numpy(), cell(x, np.zeros((2, 4))).numpy())
        np.testing.assert_allclose(cell(x[0]).numpy(), cell(x).numpy()[0])
    lstm = LSTMCell(3, 4, dtype=np.float64, rng=rng)
    h, c = lstm(x)
    h0, c0 = lstm(x, (np.zeros((2, 4)), np.zeros((2, 4))))
    np.testing.assert_allclose(h.numpy(), h0.numpy())
    np.testing.assert_allclose(c.numpy(), c0.numpy())


@pytest.mark.parametrize("seq_cls, cell_cls", [(RNN, RNNCell), (LSTM, LSTMCell), (GRU, GRUCell)])
def test_sequence_is_the_unrolled_cell(seq_cls, cell_cls):
    rng = np.random.default_rng(3)
    seq = seq_cls(3, 4, dtype=np.float64, rng=rng)
    cell = cell_cls(3, 4, dtype=np.float64, rng=rng)
    cell.load_state_dict({k[:-3]: v for k, v in seq.state_dict().items()})   # weight_ih_l0 → weight_ih
    x = random_state(rng, 5, 2, 3)
    output, final = seq(x)
    state = None
    for t in range(5):
        state = cell(x[t], state)
        h = state[0] if seq_cls is LSTM else state
        np.testing.assert_allclose(output.numpy()[t], h.numpy(), rtol=1e-12)
    h_n = final[0] if seq_cls is LSTM else final
    np.testing.assert_allclose(h_n.numpy()[0], h.numpy(), rtol=1e-12)
    if seq_cls is LSTM:
        np.testing.assert_allclose(final[1].numpy()[0], state[1].numpy(), rtol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_batch_first_and_unbatched_are_the_same_computation(cls):
    rng = np.random.default_rng(4)
    time_first = cls(3, 4, num_layers=2, dtype=np.float64, rng=rng)
    batch_first = cls(3, 4, num_layers=2, batch_first=True, dtype=np.float64)
    batch_first.load_state_dict(time_first.state_dict())
    x = random_state(rng, 5, 2, 3)                                     # (T, N, in)
    out_t, state_t = time_first(x)
    out_b, state_b = batch_first(x.transpose(1, 0, 2))
    np.testing.assert_allclose(out_b.numpy(), out_t.numpy().transpose(1, 0, 2), rtol=1e-12)
    h_t, h_b = (state_t[0], state_b[0]) if cls is LSTM else (state_t, state_b)
    assert h_b.shape == (2, 2, 4)                                      # h_n stays (num_layers, N, hidden)
    np.testing.assert_allclose(h_b.numpy(), h_t.numpy(), rtol=1e-12)
    out_1, state_1 = time_first(x[:, 0])                               # unbatched (T, in)
    np.testing.assert_allclose(out_1.numpy(), out_t.numpy()[:, 0], rtol=1e-12)
    h_1 = state_1[0] if cls is LSTM else state_1
    np.testing.assert_allclose(h_1.numpy(), h_t.numpy()[:, 0], rtol=1e-12)


def test_stacked_layers_feed_each_other():
    rng = np.random.default_rng(5)
    deep = GRU(3, 4, num_layers=2, dtype=np.float64, rng=rng)
    first, second = GRU(3, 4, dtype=np.float64), GRU(4, 4, dtype=np.float64)
    state = deep.state_dict()
    first.load_state_dict({k: v for k, v in state.items() if k.endswith("l0")})
    second.load_state_dict({k.replace("l1", "l0"): v for k, v in state.items() if k.endswith("l1")})
    x, h0 = random_state(rng, 4, 2, 3), random_state(rng, 2, 2, 4)
    out, h_n = deep(x, h0)
    mid, h_first = first(x, h0[:1])
    out2, h_second = second(mid, h0[1:])
    np.testing.assert_allclose(out.numpy(), out2.numpy(), rtol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), np.concatenate([h_first.numpy(), h_second.numpy()]), rtol=1e-12)


def test_parameter_names_shapes_and_init():
    lstm = LSTM(3, 16, num_layers=2, rng=np.random.default_rng(0))
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert shapes == {"weight_ih_l0": (64, 3), "weight_hh_l0": (64, 16), "bias_ih_l0": (64,), "bias_hh_l0": (64,),
                      "weight_ih_l1": (64, 16), "weight_hh_l1": (64, 16), "bias_ih_l1": (64,), "bias_hh_l1": (64,)}
    assert list(shapes) == list(lstm.state_dict())
    bound = 1 / np.sqrt(16)                                            # U(−1/√hidden, 1/√hidden)
    for p in lstm.parameters():
        assert np.abs(p.numpy()).max() <= bound and p.dtype == np.float32
    assert list(GRU(2, 5, bias=False).state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert GRUCell(2, 5).weight_ih.shape == (15, 2) and RNNCell(2, 5).weight_hh.shape == (5, 5)


def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(6)
    net = LSTM(3, 8, num_layers=2, dropout=0.5, dtype=np.float64, rng=rng)
    x = random_state(rng, 4, 2, 3)
    a, b = net(x)[0].numpy(), net(x)[0].numpy()
    assert not np.allclose(a, b)
    net.eval()
    np.testing.assert_array_equal(net(x)[0].numpy(), net(x)[0].numpy())


def test_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2, 4\)"):
        LSTM(3, 4)(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"expected \(1, 2, 4\)"):
        GRU(3, 4)(np.zeros((5, 2, 3)), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")


def _gradcheck_module(module, inputs):
    params = list(module.parameters())
    tensors = [ad.tensor(a, requires_grad=True) for a in inputs]

    def run(*args):
        out = module(*args[:len(tensors)]) if len(tensors) < 3 else module(args[0], (args[1], args[2]))
        flat = []
        for o in (out if isinstance(out, tuple) else (out,)):
            flat.extend(o if isinstance(o, tuple) else (o,))
        return tuple(flat)

    assert ad.gradcheck(run, tensors + params)


@pytest.mark.parametrize("cls", [RNNCell, LSTMCell, GRUCell])
def test_gradcheck_cells(cls):
    rng = np.random.default_rng(7)
    cell = cls(2, 3, dtype=np.float64, rng=rng)
    state = [random_state(rng, 2, 3)] * (2 if cls is LSTMCell else 1)
    _gradcheck_module(cell, [random_state(rng, 2, 2), *state])


@pytest.mark.parametrize("cls, kwargs", [(RNN, dict(nonlinearity="tanh")), (RNN, dict(nonlinearity="relu")),
                                         (LSTM, {}), (GRU, dict(batch_first=True))])
def test_gradcheck_sequences(cls, kwargs):
    rng = np.random.default_rng(8)
    net = cls(2, 3, num_layers=2, dtype=np.float64, rng=rng, **kwargs)
    state = [random_state(rng, 2, 2, 3)] * (2 if cls is LSTM else 1)
    x = random_state(rng, 2, 3, 2) if net.batch_first else random_state(rng, 3, 2, 2)   # N = 2, T = 3
    _gradcheck_module(net, [x, *state])


@pytest.mark.parametrize("case", cases("RNN") + cases("LSTM") + cases("GRU"))
def test_matches_pytorch(case):
    check_against_torch(case)
