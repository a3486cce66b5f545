"""Module, Parameter, Sequential, ModuleList: registration, naming, state_dict, modes, devices (book §1.3)."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
import minirl.nn as nn
from minirl.nn import Module, ModuleList, Parameter, Sequential


class Net(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5, rng=np.random.default_rng(0))
        self.scale = Parameter(np.ones(1, dtype=np.float32))
        self.heads = ModuleList([nn.Linear(5, 2), nn.Linear(5, 1, bias=False)])
        self.register_buffer("running_mean", np.zeros(5, dtype=np.float32))
        self.register_buffer("scratch", np.zeros(2, dtype=np.float32), persistent=False)
        self.note = "not registered"

    def forward(self, x):
        h = ad.tanh(self.fc1(x)) * self.scale
        return [head(h) for head in self.heads]


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = Parameter(np.arange(3.0))
    assert isinstance(p, ad.Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float64
    assert not Parameter(np.zeros(2), requires_grad=False).requires_grad
    y = (p * 2).sum()
    assert type(y) is ad.Tensor  # ops return plain Tensors
    y.backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 2.0, 2.0])
    assert repr(p).startswith("Parameter containing:")
    with pytest.raises(TypeError):
        Parameter(np.arange(3))  # integers cannot require grad


def test_parameters_buffers_and_children_are_registered_with_pytorch_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight"]
    assert [n for n, _ in net.named_children()] == ["fc1", "heads"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "heads", "heads.0", "heads.1"]
    assert [n for n, _ in net.named_buffers()] == ["running_mean", "scratch"]
    assert net.num_parameters() == 1 + 15 + 5 + 10 + 2 + 5
    assert "note" not in dict(net.named_parameters()) and net.note == "not registered"
    assert len(list(net.parameters(recurse=False))) == 1


def test_state_dict_order_keys_copies_and_non_persistent_buffers():
    net = Net()
    state = net.state_dict()
    assert list(state) == ["scale", "running_mean", "fc1.weight", "fc1.bias", "heads.0.weight", "heads.0.bias",
                           "heads.1.weight"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["fc1.weight"][...] = 7.0  # a copy: the model is untouched
    assert not np.any(net.fc1.weight.numpy() == 7.0)


def test_load_state_dict_round_trip_in_place():
    a, b = Net(), Net()
    b.fc1.weight.data[...] = 0.0
    weight = b.fc1.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is weight  # loaded in place: an optimizer holding it keeps working
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va, vb)
    b.load_state_dict({k: ad.tensor(v) for k, v in a.state_dict().items()})  # Tensors work too
    b.load_state_dict({k: v.tolist() for k, v in a.state_dict().items()})  # and nested lists
    np.testing.assert_allclose(b.fc1.weight.numpy(), a.fc1.weight.numpy())


def test_load_state_dict_reports_missing_unexpected_and_shape_errors():
    net = Net()
    state = net.state_dict()
    del state["fc1.bias"]
    state["extra.weight"] = np.zeros(3)
    with pytest.raises(KeyError, match=r"missing keys: fc1\.bias.*unexpected keys: extra\.weight"):
        net.load_state_dict(state)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc1.bias"] and result.unexpected_keys == ["extra.weight"]
    bad = net.state_dict()
    bad["fc1.weight"] = np.zeros((3, 5))
    with pytest.raises(KeyError, match=r"fc1\.weight: checkpoint has shape \(3, 5\), the model has \(5, 3\)"):
        net.load_state_dict(bad, strict=False)


def test_load_state_dict_casts_to_parameter_dtype():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(lin.weight.numpy(), 1.0)


def test_train_eval_propagate_to_all_descendants():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.heads.train()
    assert net.heads[1].training and not net.fc1.training and not net.training
    net.train()
    assert all(m.training for m in net.modules())


def test_a_frozen_module_passes_gradients_through_but_takes_none():
    rng = np.random.default_rng(0)
    first, critic = nn.Linear(3, 4, rng=rng), nn.Linear(4, 1, rng=rng)
    critic.weight.requires_grad = False  # a choice made before: kept after the block
    with critic.frozen():
        assert not any(p.requires_grad for p in critic.parameters())
        critic(first(np.ones((2, 3), dtype=np.float32))).sum().backward()
    assert first.weight.grad is not None and first.bias.grad is not None  # the loss flowed through the critic
    assert critic.weight.grad is None and critic.bias.grad is None          # into none of its parameters
    assert critic.bias.requires_grad and not critic.weight.requires_grad   # each flag as it was


def test_zero_grad_and_requires_grad_():
    net = Net()
    out = net(np.ones((4, 3), dtype=np.float32))
    (out[0].sum() + out[1].sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(trainable_only=True) == 0
    out = net(np.ones((4, 3), dtype=np.float32))
    assert not out[0].requires_grad


def test_to_dtype_and_device_keep_parameter_objects():
    net = Net()
    weight = net.fc1.weight
    net.double()
    assert net.fc1.weight is weight and weight.dtype == np.float64
    assert net.running_mean.dtype == np.float64
    assert net.to("cpu") is net and weight.device == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        net.to("tpu")


def test_apply_visits_children_before_parent():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Linear", "ModuleList", "Net"]


def test_repr_is_pytorch_tree():
    model = Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 2, bias=False))
    assert repr(model) == ("Sequential(\n"
                           "  (0): Linear(in_features=4, out_features=64, bias=True)\n"
                           "  (1): Tanh()\n"
                           "  (2): Linear(in_features=64, out_features=2, bias=False)\n"
                           ")")
    nested = repr(Sequential(Sequential(nn.ReLU())))
    assert nested == "Sequential(\n  (0): Sequential(\n    (0): ReLU()\n  )\n)"


def test_sequential_indexing_and_names():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = Sequential(*layers)
    assert len(model) == 3 and list(model) == layers and model[-1] is layers[2]
    assert isinstance(model[:2], Sequential) and list(model[:2]) == layers[:2]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(IndexError):
        model[3]
    x = np.ones((5, 2), dtype=np.float32)
    expected = layers[2](layers[1](layers[0](x)))
    np.testing.assert_allclose(model(x).numpy(), expected.numpy())
    model.append(nn.Tanh())
    assert len(model) == 4 and [n for n, _ in model.named_children()][-1] == "3"


def test_an_entry_replaced_keeps_its_place():
    """As in PyTorch: replacing a child or a parameter changes neither the order of the children (so not the
    computation of a Sequential) nor the order of the state dict."""
    model = Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    model[1] = nn.ReLU()
    assert list(model._modules) == ["0", "1", "2"] and isinstance(model[1], nn.ReLU)
    model[0].weight = Parameter(np.zeros((3, 2), np.float32))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    np.testing.assert_array_equal(model(np.ones((1, 2), np.float32)).numpy(),
                                  model[2](np.maximum(model[0].bias.numpy(), 0)[None]).numpy())


def test_sequential_infer_equals_the_recorded_forward():
    """`infer` (and `forward` under no_grad) gives the numbers of the recorded forward, for one observation and for
    a batch, with a dense stack (run as kernels on arrays) among the children."""
    rng = np.random.default_rng(0)
    model = Sequential(nn.DenseStack(nn.Linear(4, 8, rng=rng), nn.ReLU(), nn.Linear(8, 6, rng=rng), nn.Tanh()),
                       nn.Flatten(), nn.Softplus(), nn.Linear(6, 2, rng=rng))
    for x in (rng.standard_normal((1, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32)):
        recorded = model(ad.tensor(x)).numpy()
        inferred = model.infer(x)
        assert type(inferred) is np.ndarray and inferred.dtype == np.float32
        np.testing.assert_array_equal(inferred, recorded)
        np.testing.assert_array_equal(model.infer(ad.tensor(x)), recorded)
        with ad.no_grad():
            out = model(ad.tensor(x, requires_grad=True))
        assert out.grad_fn is None and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), recorded)


def test_sequential_without_gradients_passes_on_what_a_child_returns():
    class Pair(Module):  # returns a tuple, as a recurrent layer does
        def forward(self, x):
            return x, x * 2.0

    model = Sequential(nn.Linear(3, 2, rng=np.random.default_rng(4)), nn.ReLU(), Pair())
    x = np.ones((2, 3), np.float32)
    with ad.no_grad():
        a, b = model(x)
    np.testing.assert_array_equal(b.numpy(), 2 * a.numpy())
    np.testing.assert_array_equal(a.numpy(), model(x)[0].numpy())


def test_module_infer_is_forward_without_a_graph():
    class Scaled(Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2, rng=np.random.default_rng(2))

        def forward(self, x):
            return ad.tanh(self.fc(x)) * 2.0

    model = Scaled()
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    out = model.infer(x)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, model(x).numpy())
    np.testing.assert_array_equal(model.infer(ad.tensor(x, requires_grad=True)), out)
    assert ad.is_grad_enabled()


def test_modulelist_registers_and_renumbers():
    ml = ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.insert(0, nn.Linear(1, 2))
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"] and ml[0].out_features == 2
    del ml[1]
    assert len(ml) == 3 and [n for n, _ in ml.named_children()] == ["0", "1", "2"]
    ml += [nn.ReLU()]
    assert isinstance(ml[-1], nn.ReLU)


def test_shared_layer_parameters_once_state_dict_under_every_name():
    lin = nn.Linear(2, 2)
    model = Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]  # an optimizer steps it once
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch saves it
    model.load_state_dict({k: np.full(v.shape, 3.0) for k, v in model.state_dict().items()})
    np.testing.assert_array_equal(lin.weight.numpy(), 3.0)


def test_reassignment_and_deletion():
    net = Net()
    net.fc1 = nn.Linear(3, 5, bias=False)
    assert "fc1.bias" not in net.state_dict()
    net.scale = None
    assert "scale" not in net.state_dict()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = np.ones(1)  # a plain array is not a Parameter
    net.running_mean = ad.ones(5)  # replacing a buffer keeps it a buffer
    np.testing.assert_array_equal(net.state_dict()["running_mean"], 1.0)
    del net.heads
    assert not any(k.startswith("heads") for k in net.state_dict())
    with pytest.raises(AttributeError):
        net.heads


def test_forgetting_super_init_is_a_clear_error():
    class Broken(Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_deepcopy_gives_an_independent_target_network():
    net = Net()
    net.fc1.weight.grad = ad.ones(5, 3)
    target = copy.deepcopy(net)
    np.testing.assert_array_equal(target.fc1.weight.grad.numpy(), 1.0)
    assert type(target.fc1.weight) is Parameter and target.fc1.weight is not net.fc1.weight
    np.testing.assert_array_equal(target.fc1.weight.numpy(), net.fc1.weight.numpy())
    net.fc1.weight.data[...] += 1
    assert not np.allclose(target.fc1.weight.numpy(), net.fc1.weight.numpy())
    assert list(target.state_dict()) == list(net.state_dict())
    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(restored.state_dict()["fc1.weight"], net.state_dict()["fc1.weight"])
    assert type(restored.heads[0].bias) is Parameter and restored.heads[0].bias.requires_grad


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module has no forward"):
        Module()(1)


@settings(max_examples=20)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=5), st.booleans())
def test_mlp_state_dict_round_trip_any_widths(widths, bias):
    def mlp(seed):
        rng = np.random.default_rng(seed)
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Linear(a, b, bias=bias, rng=rng), nn.ReLU()]
        return Sequential(*layers[:-1])

    source, target = mlp(0), mlp(1)
    state = source.state_dict()
    expected = [f"{2 * i}.{p}" for i in range(len(widths) - 1) for p in (("weight", "bias") if bias else ("weight",))]
    assert list(state) == expected
    assert all(state[f"{2 * i}.weight"].shape == (b, a) for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])))
    target.load_state_dict(state)
    x = np.random.default_rng(2).standard_normal((3, widths[0])).astype(np.float32)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())



def test_registered_entries_are_plain_attributes_kept_in_step_with_the_registries():
    # forward reads self.weight on every call: a plain attribute read, mirrored from the registries
    layer = nn.Linear(3, 2)
    assert layer.__dict__["weight"] is layer._parameters["weight"] is layer.weight
    new = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    layer.weight = new
    assert layer.weight is new and layer._parameters["weight"] is new
    del layer.bias
    assert "bias" not in layer._parameters and not hasattr(layer, "bias")
    layer.register_parameter("bias", None)
    assert layer.bias is None
    seq = nn.Sequential(nn.Tanh(), nn.ReLU())
    del seq[0]
    assert list(seq._modules) == ["1"] and not hasattr(seq, "0")


def test_forward_hooks_see_inputs_and_output_and_may_replace_it():
    lin = nn.Linear(3, 2, rng=np.random.default_rng(0))
    seen = []
    first = lin.register_forward_hook(lambda module, inputs, output: seen.append((module, inputs, output)))
    second = lin.register_forward_hook(lambda module, inputs, output: output * 2.0)
    x = np.ones((4, 3), np.float32)
    out = lin(x)
    (module, inputs, output), = seen
    assert module is lin and inputs == (x,)
    np.testing.assert_array_equal(out.numpy(), 2 * output.numpy())  # the second hook's return replaced it
    second.remove()
    np.testing.assert_array_equal(lin(x).numpy(), output.numpy())
    first.remove()
    first.remove()  # removing twice is harmless
    lin(x)
    assert len(seen) == 2 and not lin._forward_hooks
    with lin.register_forward_hook(lambda *args: seen.append(args)):
        lin.infer(x)  # infer calls the module, so the hook sees it
    assert len(seen) == 3 and not lin._forward_hooks


def test_copies_keep_forward_hooks_except_those_that_copy_to_none():
    class NotCopied:
        def __call__(self, module, inputs, output):
            calls.append(module)

        def __reduce__(self):
            return (type(None), ())

    calls = []
    lin = nn.Linear(2, 2)
    lin.register_forward_hook(NotCopied())
    lin.register_forward_hook(print_nothing)
    for clone in (copy.deepcopy(lin), pickle.loads(pickle.dumps(lin))):
        assert list(clone._forward_hooks.values()) == [print_nothing]
        clone(np.ones((1, 2), np.float32))
    assert calls == []


def print_nothing(module, inputs, output):
    return None
