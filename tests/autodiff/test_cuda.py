"""autodiff on the GPU: every op of the family test files, run with device="cuda", gives the CPU's forward value,
gradient and gradient of gradient; tensors and modules move between devices; a training step recorded as a CUDA
graph replays to the same parameters as the eager steps. Marked `gpu` (skipped with the reason elsewhere)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
from test_arithmetic import CASES as ARITHMETIC
from test_elementwise import CASES as ELEMENTWISE
from test_reductions import CASES as REDUCTIONS
from test_shape_ops import CASES as SHAPES

pytestmark = pytest.mark.gpu

CASES = {**{f"arithmetic/{k}": v for k, v in ARITHMETIC.items()},
         **{f"elementwise/{k}": v for k, v in ELEMENTWISE.items()},
         **{f"reductions/{k}": v for k, v in REDUCTIONS.items()},
         **{f"shape/{k}": v for k, v in SHAPES.items()}}


def _numpy(t):
    return None if t is None else t.numpy()


def _run(case, device, dtype):
    """Forward value, first derivatives (for a fixed upstream gradient) and the derivative of ⟨∇, v⟩."""
    rng = np.random.default_rng(0)
    leaves = [ad.tensor(a, requires_grad=True, dtype=dtype, device=device) for a in case.arrays]
    out = case.fn(*leaves)
    assert out.device == device, f"{case.label}: output on {out.device}"
    upstream = ad.tensor(rng.standard_normal(out.shape), dtype=out.dtype, device=device)
    grads = ad.grad(out, leaves, grad_outputs=upstream, create_graph=True, allow_unused=True)
    directions = [rng.standard_normal(np.shape(a)) for a in case.arrays]
    inner = [(g * ad.tensor(v, dtype=dtype, device=device)).sum() for g, v in zip(grads, directions)
             if g is not None and g.requires_grad]
    second = [None] * len(leaves)
    if inner:
        total = inner[0]
        for term in inner[1:]:
            total = total + term
        second = ad.grad(total, leaves, allow_unused=True)
    for g in grads:
        assert g is None or g.device == device, f"{case.label}: gradient on {g.device}"
    return [out.numpy()] + [_numpy(g) for g in grads] + [_numpy(s) for s in second]


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=8)
@given(data=st.data())
def test_op_on_cuda_matches_cpu(name, data):
    case = data.draw(CASES[name])
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 2e-4)):
        cpu, gpu = _run(case, "cpu", dtype), _run(case, "cuda", dtype)
        for i, (a, b) in enumerate(zip(cpu, gpu)):
            what = f"{case.label} ({np.dtype(dtype)}), result {i} (0: value, then gradients, then second order)"
            assert (a is None) == (b is None), what
            if a is not None:
                assert b.dtype == a.dtype and b.shape == a.shape, what
                np.testing.assert_allclose(b, a, rtol=tol, atol=tol, err_msg=what)


def test_tensors_and_modules_move_between_devices():
    from minirl import nn

    x = ad.tensor([[1.0, 2.0]], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and type(y.data).__module__.startswith("cupy")
    (y * 3).sum().backward()  # the move is differentiable: the gradient comes back to the CPU
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 3.0]])
    assert y.to("cpu").device == "cpu" and x.cuda().cpu().numpy().tolist() == [[1.0, 2.0]]
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    expected = model(x).numpy()
    model.to("cuda")
    assert all(p.device == "cuda" for p in model.parameters())
    np.testing.assert_allclose(model(y).numpy(), expected, rtol=1e-6)
    model.to("cpu")
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)


def test_mixing_devices_is_a_clear_error():
    with pytest.raises(TypeError, match="different devices"):
        ad.tensor([1.0]) + ad.tensor([1.0], device="cuda")


def _mlp_step(device, capturable):
    from minirl import nn, optim

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    model.to(device)
    opt = optim.Adam(model.parameters(), lr=1e-2, capturable=capturable, fused=True)
    x = ad.tensor(rng.standard_normal((64, 4)), dtype=np.float32, device=device)
    y = ad.tensor(rng.standard_normal((64, 2)), dtype=np.float32, device=device)

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, opt, x, step


def test_a_cuda_graph_step_replays_the_eager_steps():
    from autodiff.cuda_graph import CudaGraph

    state = _mlp_step("cpu", False)[0].state_dict()
    eager_model, eager_opt, _, eager_step = _mlp_step("cuda", False)
    graph_model, graph_opt, x, graph_step = _mlp_step("cuda", True)
    for model in (eager_model, graph_model):
        model.load_state_dict(state)
    losses = [eager_step().item() for _ in range(10)]
    graph = CudaGraph(graph_step, warmup=3)  # 3 eager steps; recording runs nothing
    for _ in range(7):
        loss = graph.replay()
    graph.synchronize()
    assert loss.item() == pytest.approx(losses[-1], rel=1e-4)
    for a, b in zip(eager_model.parameters(), graph_model.parameters()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-5)
    assert graph_opt.state_dict()["state"][0]["step"] == 10  # the device counter, read back
    # new inputs go into the recorded input array, and the replay sees them
    x.data[...] = 0
    graph.replay()
    graph.synchronize()
    assert graph.result.item() != pytest.approx(losses[-1], rel=1e-3)
