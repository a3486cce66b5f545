"""PPO-Penalty (book ch. 5.8, Algorithm 5.23): the KL-penalised objective (5.37) by hand, the rule that adapts λ,
exactly, and one fast learning run on PPO's shared rollout and epochs (the 5-seed target is in the slow suite)."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import PPO, PPOPenalty
from minirl.algos.ppo import adapt_kl_coef, ppo_penalty_loss
from minirl.distributions import Categorical, DiagGaussian


def test_the_penalised_objective_by_hand():
    old_logits = np.array([[0.0, 1.0], [0.5, -0.5]])
    new_logits = ad.tensor(np.array([[0.2, 0.8], [0.0, 0.0]]), requires_grad=True)
    actions, advantages = np.array([1, 0]), np.array([1.0, -2.0])
    old = Categorical(ad.tensor(old_logits))
    old_log_probs = old.log_prob(actions).numpy()
    loss, kl = ppo_penalty_loss(Categorical(new_logits), old, actions, old_log_probs, advantages, kl_coef=0.7,
                                normalize_advantages=False)
    softmax = lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)  # noqa: E731
    p, q = softmax(old_logits), softmax(new_logits.numpy())
    ratio = q[[0, 1], actions] / p[[0, 1], actions]                         # ℓ_t = π_θ(A|S) / π_old(A|S)
    expected_kl = np.mean(np.sum(p * np.log(p / q), axis=-1))              # Ê_t KL(π_old ‖ π_θ)
    np.testing.assert_allclose(kl.item(), expected_kl, rtol=1e-10)
    np.testing.assert_allclose(loss.item(), -np.mean(ratio * advantages) + 0.7 * expected_kl, rtol=1e-10)
    loss.backward()
    assert np.all(np.isfinite(new_logits.grad.numpy()))


def test_the_penalty_of_a_gaussian_is_zero_at_the_old_policy_and_so_is_its_gradient():
    mean = ad.tensor(np.array([[0.3, -0.2]]), requires_grad=True)
    log_std = ad.tensor(np.array([-0.5, 0.1]), requires_grad=True)
    old = DiagGaussian(ad.tensor(mean.numpy().copy()), ad.tensor(log_std.numpy().copy()))
    kl = old.kl(DiagGaussian(mean, log_std)).mean()
    kl.backward()
    assert kl.item() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(mean.grad.numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(log_std.grad.numpy(), 0.0, atol=1e-12)


@pytest.mark.parametrize("kl,expected", [(0.001, 0.5), (0.01 / 1.5 - 1e-9, 0.5), (0.01 / 1.5, 1.0), (0.01, 1.0),
                                         (0.015, 1.0), (0.015 + 1e-9, 2.0), (0.2, 2.0)])
def test_the_book_rule_for_lambda(kl, expected):
    # d < d_target / a: λ ← λ / b;  d > d_target · a: λ ← λ · b;  a = 1.5, b = 2, d_target = 0.01, λ = 1
    assert adapt_kl_coef(1.0, kl, 0.01) == expected


def test_ppo_penalty_is_ppo_with_the_other_loss_and_learns_cartpole(tmp_path):
    assert PPOPenalty.hyperparameters["loss"].default == "penalty" and PPO.hyperparameters["loss"].default == "clip"
    agent = PPOPenalty("CartPole-v1", seed=0).learn(50_000)
    assert agent.kl_coef != 1.0 and "kl" in agent.last_stats  # λ adapted after every update
    assert agent.evaluate(20)["mean_return"] >= 475
    agent.save(tmp_path / "penalty.npz")
    assert PPOPenalty.load(tmp_path / "penalty.npz").kl_coef == agent.kl_coef


def test_ppo_with_loss_penalty_runs_a_gaussian_policy():
    agent = PPO("Pendulum-v1", seed=0, loss="penalty", num_envs=2, num_steps=64, num_minibatches=2,
                update_epochs=2).learn(256)
    assert agent.num_timesteps == 256 and np.isfinite(agent.last_stats["kl"])


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match=r"ppo.loss: expected one of 'clip', 'penalty', got 'kl'"):
        PPO("CartPole-v1", loss="kl")
    with pytest.raises(ValueError, match=r"ppo_penalty.kl_target: expected a value in \[0.0, inf\], got -0.1"):
        PPOPenalty("CartPole-v1", kl_target=-0.1)
