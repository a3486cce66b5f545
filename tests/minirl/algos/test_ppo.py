"""PPO: its losses against a hand computation, the clipped objective's flat region, and learning."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos.ppo import PPO, ppo_losses
from minirl.distributions import Categorical
from minirl.runs.evaluation import EvaluationHook


def test_losses_equal_a_hand_computation_on_a_tiny_batch():
    logits = np.array([[0.2, -0.1], [1.0, 0.5], [-0.3, 0.4]])
    actions = np.array([0, 1, 1])
    old_log_probs = np.array([-0.9, -0.6, -0.2])
    advantages = np.array([1.0, -2.0, 0.5])
    values, old_values, returns = np.array([0.5, 0.1, -0.3]), np.array([0.4, 0.5, -0.2]), np.array([1.0, -1.0, 0.0])
    eps = 0.2
    dist = Categorical(ad.tensor(logits))
    pl, vl, ent, stats = ppo_losses(dist, ad.tensor(values), actions, old_log_probs, old_values, advantages,
                                    returns, eps, clip_value_loss=True, normalize_advantages=False)
    # by hand
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    new = logp[np.arange(3), actions]
    ratio = np.exp(new - old_log_probs)
    surrogate = np.minimum(ratio * advantages, np.clip(ratio, 1 - eps, 1 + eps) * advantages)
    np.testing.assert_allclose(pl.item(), -surrogate.mean(), rtol=1e-6)
    clipped_v = old_values + np.clip(values - old_values, -eps, eps)
    expected_v = 0.5 * np.maximum((values - returns) ** 2, (clipped_v - returns) ** 2).mean()
    np.testing.assert_allclose(vl.item(), expected_v, rtol=1e-6)
    p = np.exp(logp)
    np.testing.assert_allclose(ent.item(), -(p * logp).sum(1).mean(), rtol=1e-6)
    np.testing.assert_allclose(stats["approx_kl"], np.mean((ratio - 1) - np.log(ratio)), rtol=1e-6)
    np.testing.assert_allclose(stats["clip_fraction"], np.mean(np.abs(ratio - 1) > eps))


def test_advantages_are_normalized_per_minibatch():
    dist = Categorical(ad.tensor(np.zeros((4, 2))))
    args = (ad.tensor(np.zeros(4)), np.zeros(4, dtype=int), np.log(np.full(4, 0.5)), np.zeros(4))
    adv = np.array([1.0, 2.0, 3.0, 4.0])
    pl_norm, *_ = ppo_losses(dist, *args, adv, np.zeros(4), 0.2, normalize_advantages=True)
    pl_shift, *_ = ppo_losses(dist, *args, adv * 10 + 5, np.zeros(4), 0.2, normalize_advantages=True)
    np.testing.assert_allclose(pl_norm.item(), pl_shift.item(), atol=1e-6)  # ratio = 1: −mean(normalized) = 0
    assert abs(pl_norm.item()) < 1e-6


@pytest.mark.parametrize("advantage", [1.0, -1.0])
def test_clipped_objective_stops_improving_past_the_clip_range(advantage):
    """Gradient ascent on one sample: the ratio moves in the advantage's direction and stops at 1 ± ε,
    where the clipped objective is flat (its gradient is exactly zero)."""
    eps = 0.2
    logits = ad.tensor(np.array([[0.0, 0.0]]), requires_grad=True)
    old_log_prob = np.log(np.array([0.5]))
    for _ in range(300):
        dist = Categorical(logits)
        pl, *_ = ppo_losses(dist, ad.tensor(np.zeros(1)), np.array([0]), old_log_prob, np.zeros(1),
                            np.array([advantage]), np.zeros(1), eps, normalize_advantages=False)
        (g,) = ad.grad(pl, [logits])
        logits.data -= 0.5 * g.data
    ratio = np.exp(Categorical(logits).log_prob(np.array([0])).numpy() - old_log_prob)[0]
    bound = 1 + eps if advantage > 0 else 1 - eps
    # the ratio went to the clip boundary (a step may overshoot it) ...
    assert (ratio >= bound - 1e-6) if advantage > 0 else (ratio <= bound + 1e-6)
    dist = Categorical(logits)
    pl, *_ = ppo_losses(dist, ad.tensor(np.zeros(1)), np.array([0]), old_log_prob, np.zeros(1),
                        np.array([advantage]), np.zeros(1), eps, normalize_advantages=False)
    # ... where the surrogate is capped at (1 ± ε)·Â ...
    np.testing.assert_allclose(-pl.item(), bound * advantage, rtol=1e-6)
    (g,) = ad.grad(pl, [logits])
    # ... and flat: past the boundary the objective gives no gradient at all, so the ratio stays put
    np.testing.assert_array_equal(g.numpy(), 0.0)


def test_smoke_discrete_and_continuous(tmp_path):
    for env_id in ("CartPole-v1", "Pendulum-v1"):
        agent = PPO(env_id, seed=0, num_envs=2, num_steps=32, num_minibatches=2, update_epochs=2)
        agent.learn(256)
        assert agent.num_timesteps == 256
        assert set(agent.last_stats) >= {"approx_kl", "clip_fraction", "policy_loss", "value_loss", "entropy"}
        env = agent.evaluation_env()
        obs, _ = env.reset(seed=0)
        assert env.action_space.contains(np.asarray(agent.act(obs), dtype=env.action_space.dtype))
        agent.save(tmp_path / f"{env_id}.npz")
        loaded = PPO.load(tmp_path / f"{env_id}.npz")
        np.testing.assert_array_equal(np.asarray(loaded.act(obs)), np.asarray(agent.act(obs)))


def test_same_seed_gives_bitwise_identical_training():
    a = PPO("CartPole-v1", seed=3, num_envs=2, num_steps=16, update_epochs=2).learn(128)
    b = PPO("CartPole-v1", seed=3, num_envs=2, num_steps=16, update_epochs=2).learn(128)
    for (n, p), (_, q) in zip(a.policy.state_dict().items(), b.policy.state_dict().items()):
        np.testing.assert_array_equal(p, q, err_msg=n)


def test_ppo_learns_cartpole_seed_0():
    hook = EvaluationHook(every=10_000, episodes=20, threshold=475, stop_at_threshold=True)
    PPO("CartPole-v1", seed=0).learn(100_000, hook)
    assert hook.solved_at is not None, f"evaluations: {hook.record}"
