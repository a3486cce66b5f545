"""minirl.nn: neural-network building blocks (book ch. 1: §1.2–1.3 layers, §1.4 activations, §1.5 losses).

Names, shapes, defaults and `state_dict()` keys mirror PyTorch's `torch.nn`, so knowledge transfers both
ways: `Linear.weight` is (out_features, in_features), `Sequential` names its children "0", "1", ...
`DenseStack` (not in PyTorch) is a `Sequential` of dense layers and their activations computed as one graph node.
Functional forms are in `minirl.nn.functional` (import as F) and initializers in `minirl.nn.init`.
"""

from minirl.nn.container import ModuleList, Sequential
from minirl.nn.module import Module, Parameter

# -- core: dense layers, activations, losses --------------------------------------------------------------
from minirl.nn import functional, init  # noqa: E402  (after module: they import it)
from minirl.nn.activation import ELU, LeakyReLU, LogSoftmax, PReLU, ReLU, ReLU6, Sigmoid, Softmax, Softplus, Tanh
from minirl.nn.linear import Flatten, Identity, Linear
from minirl.nn.noisy import NoisyLinear
from minirl.nn.dense_stack import DenseStack
from minirl.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, QuantileHuberLoss,
    QuantileLoss, SmoothL1Loss,
)

__all__ = [
    "DenseStack", "Module", "ModuleList", "Parameter", "Sequential", "functional", "init",
    "Flatten", "Identity", "Linear", "NoisyLinear",
    "ELU", "LeakyReLU", "LogSoftmax", "PReLU", "ReLU", "ReLU6", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss", "NLLLoss",
    "QuantileHuberLoss", "QuantileLoss", "SmoothL1Loss",
]

# -- conv, pooling, normalization, dropout, embedding, recurrent layers (engineer B) ---------------------
# B: add your imports below this line and extend the list with `__all__ += [...]`, e.g.
#     from minirl.nn.conv import Conv2d
#     __all__ += ["Conv2d"]
from minirl.nn.conv import Conv2d  # noqa: E402
from minirl.nn.dropout import Dropout  # noqa: E402
from minirl.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm  # noqa: E402
from minirl.nn.pooling import AvgPool2d, MaxPool2d  # noqa: E402
from minirl.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402
from minirl.nn.sparse import Embedding  # noqa: E402

__all__ += [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Embedding", "GRU", "GRUCell", "LSTM",
    "LSTMCell", "LayerNorm", "MaxPool2d", "RNN", "RNNCell",
]
