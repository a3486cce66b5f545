"""A2C (book ch. 5.5, Algorithm 5.20): its losses by hand, the box's one-step advantage as GAE with λ = 0, one fast
learning run (the 5-seed target is in the slow suite), and exact resumption."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import A2C
from minirl.algos.a2c import a2c_losses
from minirl.buffers import RolloutBuffer
from minirl.distributions import Categorical


def test_the_losses_by_hand():
    logits = ad.tensor(np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32), requires_grad=True)
    values = ad.tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    actions, advantages, returns = np.array([1, 1]), np.array([2.0, -1.0]), np.array([1.5, 0.0])
    dist = Categorical(logits)
    policy_loss, value_loss, entropy = a2c_losses(dist, values, actions, advantages, returns)
    log_probs = np.log(np.array([np.exp(1) / (1 + np.exp(1)), 1 / (1 + np.exp(2))]))
    np.testing.assert_allclose(policy_loss.item(), -(log_probs @ advantages) / 2, rtol=1e-6)   # −J(θ)
    np.testing.assert_allclose(value_loss.item(), ((0.5 - 1.5) ** 2 + (-1.0) ** 2) / 2, rtol=1e-6)  # J_V(ψ)
    value_loss.backward()
    np.testing.assert_allclose(values.grad.numpy(), [-1.0, -1.0], rtol=1e-6)  # ∂/∂V mean (V − Ĝ)² = (V − Ĝ)


def test_lambda_zero_gives_the_one_step_advantage_of_the_box():
    buffer = RolloutBuffer(3, 1, (1,))
    rewards, values, last = [1.0, 0.0, 2.0], [0.5, 0.2, -0.3], 0.7
    for r, v in zip(rewards, values):
        buffer.add(np.zeros((1, 1)), np.zeros(1, dtype=np.int64), np.zeros(1), np.array([r]), np.array([v]),
                   np.zeros(1, bool), np.zeros(1, bool))
    buffer.compute_returns_and_advantages(np.array([last]), gamma=0.9, gae_lambda=0.0)
    next_values = values[1:] + [last]
    expected = [r + 0.9 * nv - v for r, nv, v in zip(rewards, next_values, values)]  # Â = R + γV(S') − V(S)
    np.testing.assert_allclose(buffer.batch().advantages, expected, rtol=1e-6)


def test_a2c_learns_cartpole_and_resumes_exactly(tmp_path):
    agent = A2C("CartPole-v1", seed=0).learn(50_000)
    assert agent.evaluate(20)["mean_return"] >= 475
    agent.save(tmp_path / "a2c.npz")
    loaded = A2C.load(tmp_path / "a2c.npz")
    obs = np.array([0.01, -0.02, 0.03, 0.04], dtype=np.float32)
    assert loaded.act(obs) == agent.act(obs)


def test_a2c_runs_a_gaussian_policy():
    agent = A2C("Pendulum-v1", seed=0, num_envs=2, num_steps=8).learn(160)
    assert agent.num_timesteps == 160
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match=r"a2c.gae_lambda: expected a value in \[0.0, 1.0\], got 2.0"):
        A2C("CartPole-v1", gae_lambda=2.0)


def test_adam_instead_of_rmsprop():
    from minirl.optim.adam import Adam

    agent = A2C("CartPole-v1", seed=0, optimizer="adam").learn(400)
    assert isinstance(agent.optimizer, Adam) and agent.num_timesteps == 400
