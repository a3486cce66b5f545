"""On the GPU (CuPy arrays) the optimizers follow the same trajectories as on the CPU (skipped without CuPy)."""

import numpy as np
import pytest

import autodiff as ad
from minirl import nn, optim

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}), ("Adagrad", {"lr": 0.1})])
def test_cuda_trajectory_matches_cpu(name, kwargs):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal(3).astype(np.float32)]
    grads = [rng.standard_normal((10,) + x.shape).astype(np.float32) for x in init]
    results = {}
    for device in ("cpu", "cuda"):
        params = [ad.tensor(x, requires_grad=True, device=device) for x in init]
        opt = getattr(optim, name)(params, **kwargs)
        for t in range(10):
            for p, g in zip(params, grads):
                p.grad = ad.tensor(g[t], device=device)
            opt.step()
        results[device] = [p.numpy().copy() for p in params]
        saved = opt.state_dict()
        assert all(isinstance(v, np.ndarray) for e in saved["state"].values() for k, v in e.items() if k != "step")
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_kfac_on_cuda_matches_cpu():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 3)).astype(np.float32), rng.integers(0, 2, 16)
    weights = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).state_dict()
    results = {}
    for device in ("cpu", "cuda"):
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
        model.load_state_dict(weights)
        model.to(device)
        opt = optim.KFAC(model, lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            nn.functional.cross_entropy(model(ad.tensor(x, device=device)), y).backward()
            opt.step()
        results[device] = [p.numpy().copy() for p in model.parameters()]
    for a, b in zip(results["cpu"], results["cuda"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
