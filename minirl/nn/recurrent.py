"""Recurrent networks (book ch. 1.9): a cell applied to each element of a sequence in turn, carrying a state.

A cell reads the current input x_t and its previous hidden state h_{t−1} and returns the new state. The
simplest cell is one linear map of both (book eq. 1.25), followed here by a nonlinearity:

    h_t = tanh(W [x_t; h_{t−1}] + b) = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)          (1.25)

(W [x; h] = W_ih x + W_hh h: splitting W by columns is how PyTorch stores it, with two biases.) Because the
same W_hh multiplies the state at every step, gradients through long sequences grow or shrink like powers of
its eigenvalues (§1.9: exploding / vanishing gradients). The LSTM adds a cell state C_t that is only
scaled and added to, an "information highway", and three sigmoid gates (book eq. 1.26):

    f_t = σ(W_f [h_{t−1}; x_t] + b_f)                       forget gate
    i_t = σ(W_i [h_{t−1}; x_t] + b_i)                       input gate
    o_t = σ(W_o [h_{t−1}; x_t] + b_o)                       output gate
    C_t = f_t × C_{t−1} + i_t × tanh(W_C [h_{t−1}; x_t] + b_C)
    h_t = o_t × tanh(C_t)                                                                      (1.26)

The GRU (mentioned after eq. 1.26; the chatbot of §1.10.6 uses it) merges the gates into a reset gate r and
an update gate z. Parameter names, shapes, gate orders (LSTM: i, f, g = the tanh candidate, o; GRU: r, z, n)
and the initialisation U(−1/√hidden, 1/√hidden) are PyTorch's, so PyTorch weights load as they are.
"""

from __future__ import annotations

import math

import numpy as np

from autodiff import sigmoid, stack, tanh, zeros
from minirl.nn.conv import input_like
from minirl.nn.dropout import dropout
from minirl.nn.module import Module, Parameter

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _affine(x, weight, bias):
    """x Wᵀ + b for x of shape (..., in)."""
    out = x @ weight.T
    return out if bias is None else out + bias


def _chunk(z, k, size):
    """Gate k of the stacked pre-activations z (..., gates·size)."""
    return z[..., k * size:(k + 1) * size]


def rnn_step(xw, h, weight_hh, bias_hh, nonlinearity="tanh"):
    """Eq. 1.25 given xw = W_ih x_t + b_ih: h_t = act(xw + W_hh h_{t−1} + b_hh)."""
    z = xw + _affine(h, weight_hh, bias_hh)
    return tanh(z) if nonlinearity == "tanh" else z.relu()


def lstm_step(xw, h, c, weight_hh, bias_hh):
    """Eq. 1.26 given xw = W_ih x_t + b_ih (gates stacked i, f, g, o): returns (h_t, C_t)."""
    size = h.shape[-1]
    z = xw + _affine(h, weight_hh, bias_hh)
    i = sigmoid(_chunk(z, 0, size))                     # input gate
    f = sigmoid(_chunk(z, 1, size))                     # forget gate
    g = tanh(_chunk(z, 2, size))                        # candidate, tanh(W_C [h; x] + b_C)
    o = sigmoid(_chunk(z, 3, size))                     # output gate
    c = f * c + i * g                                   # C_t = f × C_{t−1} + i × candidate
    return o * tanh(c), c                               # h_t = o × tanh(C_t)


def gru_step(xw, h, weight_hh, bias_hh):
    """One GRU step given xw = W_ih x_t + b_ih (gates stacked r, z, n)."""
    size = h.shape[-1]
    hw = _affine(h, weight_hh, bias_hh)
    r = sigmoid(_chunk(xw, 0, size) + _chunk(hw, 0, size))     # reset gate
    z = sigmoid(_chunk(xw, 1, size) + _chunk(hw, 1, size))     # update gate
    # the reset gate scales the state's contribution (b_hn included) to the candidate state
    n = tanh(_chunk(xw, 2, size) + r * _chunk(hw, 2, size))
    return (1 - z) * n + z * h                                  # keep z of the old state, 1 − z of the new


def _uniform(rng, shape, hidden_size, dtype):
    bound = 1.0 / math.sqrt(hidden_size)
    return Parameter(rng.uniform(-bound, bound, shape), dtype=dtype)


# -- cells: one time step --------------------------------------------------------------------------------
class _Cell(Module):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, dtype=np.float32,
                 rng: np.random.Generator | None = None):
        super().__init__()
        rng = np.random.default_rng() if rng is None else rng
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = GATES[self.mode] * hidden_size
        self.weight_ih = _uniform(rng, (rows, input_size), hidden_size, dtype)
        self.weight_hh = _uniform(rng, (rows, hidden_size), hidden_size, dtype)
        for name in ("bias_ih", "bias_hh"):
            if bias:
                setattr(self, name, _uniform(rng, (rows,), hidden_size, dtype))
            else:
                self.register_parameter(name, None)

    def _zeros(self, x):
        return zeros(*x.shape[:-1], self.hidden_size, dtype=x.dtype, device=x.device)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(_Cell):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act tanh or relu (book eq. 1.25). Input (N, in) or (in,);
    h defaults to zeros."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", *, dtype=np.float32, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, bias, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        x = input_like(x, self.weight_ih, type(self).__name__)
        h = self._zeros(x) if h is None else input_like(h, self.weight_hh, type(self).__name__)
        return rnn_step(_affine(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                        self.nonlinearity)


class LSTMCell(_Cell):
    """One LSTM step (book eq. 1.26): ``h', c' = cell(x, (h, c))``; the state defaults to zeros."""

    mode = "LSTM"

    def forward(self, x, state=None):
        x = input_like(x, self.weight_ih, "LSTMCell")
        if state is None:
            h, c = self._zeros(x), self._zeros(x)
        else:
            h, c = (input_like(s, self.weight_hh, "LSTMCell") for s in state)
        return lstm_step(_affine(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)


class GRUCell(_Cell):
    """One GRU step: ``h' = cell(x, h)``; h defaults to zeros."""

    mode = "GRU"

    def forward(self, x, h=None):
        x = input_like(x, self.weight_ih, type(self).__name__)
        h = self._zeros(x) if h is None else input_like(h, self.weight_hh, type(self).__name__)
        return gru_step(_affine(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)


# -- whole sequences: num_layers stacked cells unrolled over time -----------------------------------------
class _RNNBase(Module):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, *, dtype=np.float32,
                 rng: np.random.Generator | None = None):
        super().__init__()
        self.rng = np.random.default_rng() if rng is None else rng
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        rows = GATES[self.mode] * hidden_size
        for layer in range(num_layers):  # PyTorch's names and order: weight_ih_l0, weight_hh_l0, bias_ih_l0, ...
            fan_in = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", _uniform(self.rng, (rows, fan_in), hidden_size, dtype))
            setattr(self, f"weight_hh_l{layer}", _uniform(self.rng, (rows, hidden_size), hidden_size, dtype))
            if bias:
                setattr(self, f"bias_ih_l{layer}", _uniform(self.rng, (rows,), hidden_size, dtype))
                setattr(self, f"bias_hh_l{layer}", _uniform(self.rng, (rows,), hidden_size, dtype))

    def _weights(self, layer):
        get = lambda name: self._parameters.get(f"{name}_l{layer}")  # noqa: E731  (None without bias)
        return get("weight_ih"), get("bias_ih"), get("weight_hh"), get("bias_hh")

    def _step(self, xw, state, weight_hh, bias_hh):
        if self.mode == "LSTM":
            return lstm_step(xw, *state, weight_hh, bias_hh)
        if self.mode == "GRU":
            return gru_step(xw, state, weight_hh, bias_hh)
        return rnn_step(xw, state, weight_hh, bias_hh, "tanh" if self.mode == "RNN_TANH" else "relu")

    def forward(self, x, state=None):
        """x: (T, N, in), or (N, T, in) with batch_first, or unbatched (T, in). State (h_0, or (h_0, c_0) for
        the LSTM), each (num_layers, N, hidden), defaults to zeros. Returns (output, h_n) or
        (output, (h_n, c_n)): the last layer's h_t for every t, and every layer's state after the last step."""
        x = input_like(x, self.weight_ih_l0, type(self).__name__)
        unbatched = x.ndim == 2
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (T, N, {self.input_size}) (or batch-first or "
                             f"unbatched), got shape {x.shape}")
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)                    # time first: the loop below walks axis 0
        lstm = self.mode == "LSTM"
        states = self._initial_states(x, state, unbatched)
        finals = []
        for layer in range(self.num_layers):
            weight_ih, bias_ih, weight_hh, bias_hh = self._weights(layer)
            if layer > 0 and self.dropout and self.training:   # dropout between layers, as in PyTorch
                x = dropout(x, self.dropout, True, self.rng)
            xw = _affine(x, weight_ih, bias_ih)                 # W_ih x_t + b_ih for all t in one product
            s = states[layer]
            outputs = []
            for t in range(x.shape[0]):
                s = self._step(xw[t], s, weight_hh, bias_hh)
                outputs.append(s[0] if lstm else s)
            finals.append(s)
            x = stack(outputs, axis=0)
        if unbatched:
            x = x.squeeze(1)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        if lstm:
            h_n, c_n = (self._stack_layers([s[k] for s in finals], unbatched) for k in (0, 1))
            return x, (h_n, c_n)
        return x, self._stack_layers(finals, unbatched)

    def _initial_states(self, x, state, unbatched):
        """Per layer: h_0[layer] (or the pair (h_0, c_0)[layer]), each (N, hidden)."""
        n_states = 2 if self.mode == "LSTM" else 1
        if state is None:
            zero = zeros(x.shape[1], self.hidden_size, dtype=x.dtype, device=x.device)
            return [(zero, zero) if n_states == 2 else zero for _ in range(self.num_layers)]
        parts = list(state) if n_states == 2 else [state]
        expected = (self.num_layers,) + (() if unbatched else (x.shape[1],)) + (self.hidden_size,)
        for p in parts:
            if tuple(p.shape) != expected:
                raise ValueError(f"{type(self).__name__}: initial state of shape {p.shape}, expected {expected}")
        parts = [input_like(p, self.weight_hh_l0, type(self).__name__).reshape(self.num_layers, x.shape[1], self.hidden_size) for p in parts]
        if n_states == 2:
            return [(parts[0][k], parts[1][k]) for k in range(self.num_layers)]
        return [parts[0][k] for k in range(self.num_layers)]

    @staticmethod
    def _stack_layers(per_layer, unbatched):
        out = stack(per_layer, axis=0)               # (num_layers, N, hidden)
        return out.squeeze(1) if unbatched else out

    def extra_repr(self) -> str:
        extra = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            extra += f", num_layers={self.num_layers}"
        if self.batch_first:
            extra += ", batch_first=True"
        if self.dropout:
            extra += f", dropout={self.dropout}"
        return extra


class RNN(_RNNBase):
    """Stacked simple recurrent layers (book eq. 1.25) with tanh or relu; ``output, h_n = rnn(x, h_0)``."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, *, dtype=np.float32, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, dtype=dtype, rng=rng)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Stacked LSTM layers (book eq. 1.26); ``output, (h_n, c_n) = lstm(x, (h_0, c_0))``."""

    mode = "LSTM"


class GRU(_RNNBase):
    """Stacked GRU layers; ``output, h_n = gru(x, h_0)``."""

    mode = "GRU"
