"""ACKTR (book ch. 5.9, Algorithm 5.25): its step is the exact natural-gradient step where K-FAC is exact, inside
the trust region; its Fisher statistics come from the policy's own samples; one fast learning run (the 5-seed
target is in the slow suite); bad settings refused by name. K-FAC's factors, inverses and KL clip are tested on
their own in tests/minirl/optim/test_kfac.py."""

import numpy as np
import pytest

import autodiff as ad
from minirl import nn
from minirl.algos import ACKTR
from minirl.algos.acktr import fisher_loss
from minirl.distributions import Categorical
from minirl.optim.kfac import KFAC


@pytest.mark.parametrize("lr,kl_clip", [(0.05, None), (5.0, 1e-3)])
def test_the_step_is_the_exact_natural_gradient_step_where_kfac_is_exact(lr, kl_clip):
    # A Gaussian policy N(wᵀx̄, σ²) whose mean is one linear layer has the Fisher E[x̄x̄ᵀ] ⊗ (1/σ²): a Kronecker
    # product. Scoring actions ã = μ ± σ (each g² = 1/σ², the Gaussian's E[g²]) makes K-FAC's statistics exact.
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 1, rng=rng, dtype=np.float64)
    kfac = KFAC(nn.Sequential(layer), lr=lr, momentum=0.0, damping=1e-16, kl_clip=kl_clip, empirical_fisher=False,
                pi_correction=False)
    x, sigma = rng.normal(size=(64, 3)), 0.5
    mean = layer(ad.tensor(x))
    with kfac.accumulate_stats():
        sampled = mean.numpy() + sigma * rng.choice([-1.0, 1.0], size=(64, 1))
        (((mean - ad.tensor(sampled)) ** 2).mean() / (2 * sigma ** 2)).backward(retain_graph=True)  # −log π(ã|s)
    kfac.zero_grad()
    actions, advantages = rng.normal(size=(64, 1)), rng.normal(size=64)
    log_prob = -(((ad.tensor(actions) - mean) ** 2).sum(axis=1)) / (2 * sigma ** 2)
    (-(log_prob * ad.tensor(advantages)).mean()).backward()                                  # −ĝ   (5.42)
    g = np.concatenate([layer.weight.grad.numpy().reshape(-1), layer.bias.grad.numpy()])
    before = np.concatenate([layer.weight.numpy().reshape(-1), layer.bias.numpy()])
    kfac.step()
    step = np.concatenate([layer.weight.numpy().reshape(-1), layer.bias.numpy()]) - before
    x_bar = np.concatenate([x, np.ones((64, 1))], axis=1)
    fisher = x_bar.T @ x_bar / 64 / sigma ** 2                                              # E[x̄x̄ᵀ] ⊗ 1/σ²
    natural = np.linalg.solve(fisher, g)
    eta = lr if kl_clip is None else min(lr, np.sqrt(2 * kl_clip / (natural @ g)))            # (5.43)
    np.testing.assert_allclose(step, -eta * natural, rtol=1e-6)
    if kl_clip is not None:  # the trust region binds: the step's KL, ½ ΔᵀFΔ, is δ
        assert eta < lr and 0.5 * step @ fisher @ step == pytest.approx(kl_clip, rel=1e-6)


def test_the_statistics_come_from_the_policys_own_samples():
    # for softmax logits z, the score of ã ~ π is onehot(ã) − π, and E[(onehot − π)(onehot − π)ᵀ] = diag(π) − ππᵀ
    logits = np.array([0.5, -0.3, 1.2])
    head = nn.Linear(1, 3, rng=np.random.default_rng(0), dtype=np.float64)
    head.weight.data[...] = 0.0
    head.bias.data[...] = logits
    kfac = KFAC(nn.Sequential(head), empirical_fisher=False, stat_decay=0.0)
    x = ad.tensor(np.ones((20_000, 1)))
    with kfac.accumulate_stats():
        values = ad.tensor(np.zeros(20_000), requires_grad=True)
        fisher_loss(Categorical(head(x)), values, np.random.default_rng(1), vf_fisher_coef=0.0).backward()
    kfac.step()
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(kfac.layers[0].G, np.diag(p) - np.outer(p, p), atol=0.01)


def test_acktr_learns_cartpole(tmp_path):
    agent = ACKTR("CartPole-v1", seed=0).learn(200_000)
    assert agent.evaluate(20)["mean_return"] >= 475
    agent.save(tmp_path / "acktr.npz")
    loaded = ACKTR.load(tmp_path / "acktr.npz")
    assert loaded.optimizer.steps == agent.optimizer.steps
    obs = np.array([0.01, -0.02, 0.03, 0.04], dtype=np.float32)
    assert loaded.act(obs) == agent.act(obs)


def test_acktr_runs_a_gaussian_policy():
    agent = ACKTR("Pendulum-v1", seed=0, num_envs=2, num_steps=8).learn(160)
    assert agent.num_timesteps == 160
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0


@pytest.mark.parametrize("setting,message", [
    ({"kl_clip": 0.0}, r"acktr.kl_clip: expected a value > 0.0, got 0.0"),
    ({"damping": -0.01}, r"acktr.damping: expected a value in \[0.0, inf\], got -0.01"),
    ({"inverse_every": 0}, r"acktr.inverse_every: expected a value in \[1, inf\], got 0"),
    ({"optimizer": "adam"}, r"acktr: unknown hyperparameter\(s\) optimizer"),
])
def test_bad_settings_are_refused_by_name(setting, message):
    with pytest.raises(ValueError, match=message):
        ACKTR("CartPole-v1", **setting)
