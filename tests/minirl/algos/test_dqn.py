"""DQN: TD targets with terminated vs truncated transitions, Double DQN, and learning (the whole family)."""

import numpy as np
import pytest

from minirl.algos import get
from minirl.algos.dqn import DQN, td_targets


def test_td_targets_bootstrap_through_truncation_not_termination():
    rewards = np.array([1.0, 1.0, 1.0])
    discounts = np.full(3, 0.9)
    terminated = np.array([0.0, 1.0, 0.0])  # the third transition was truncated: it still bootstraps
    next_q = np.array([[1.0, 3.0], [5.0, 2.0], [0.5, -1.0]])
    np.testing.assert_allclose(td_targets(rewards, discounts, terminated, next_q), [1 + 0.9 * 3, 1.0, 1 + 0.9 * 0.5])


def test_double_dqn_lets_the_online_network_choose():
    next_target = np.array([[1.0, 3.0], [5.0, 2.0]])
    next_online = np.array([[2.0, 0.0], [0.0, 1.0]])  # chooses actions 0 and 1
    y = td_targets(np.zeros(2), np.ones(2), np.zeros(2), next_target, next_online)
    np.testing.assert_allclose(y, [1.0, 2.0])  # evaluated by the target network, not its max (3, 5)


def test_stored_next_observation_of_an_ended_episode_is_the_final_one():
    agent = DQN("CartPole-v1", seed=0, learning_starts=10_000, buffer_size=1000)
    agent.learn(600)  # random play: several episodes end
    b = agent.buffer
    n = len(b)
    ended = b.terminated[:n] | b.truncated[:n]
    assert ended.any()
    # a stored next_obs continues the same episode: a terminal CartPole state is outside the safe box
    x, theta = b.next_obs[:n][ended, 0], b.next_obs[:n][ended, 2]
    theta_limit = 12 * 2 * np.pi / 360  # CartPole ends beyond ±12° or |x| > 2.4
    assert np.all((np.abs(x) > 2.4) | (np.abs(theta) > theta_limit - 1e-6))


def test_smoke_and_checkpoint_round_trip(tmp_path):
    agent = DQN("CartPole-v1", seed=0, learning_starts=100, train_frequency=4, target_update_interval=50,
                buffer_size=500, batch_size=16, num_envs=2, gradient_steps=1, hidden="32,32")
    agent.learn(400)
    assert agent.num_timesteps == 400 and agent.last_loss is not None
    agent.save(tmp_path / "dqn.npz")
    loaded = DQN.load(tmp_path / "dqn.npz")
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.q_values(obs), agent.q_values(obs))
    assert len(loaded.buffer) == len(agent.buffer)


def test_hard_and_soft_target_updates():
    agent = DQN("CartPole-v1", seed=0)
    online = list(agent.q_network.parameters())
    for p in online:
        p.data += 1.0
    before = [t.data.copy() for t in agent.target_network.parameters()]
    agent._update_target(0.5)
    for t, b, p in zip(agent.target_network.parameters(), before, online):
        np.testing.assert_allclose(t.data, 0.5 * p.data + 0.5 * b, rtol=1e-6)
    agent._update_target(1.0)
    for t, p in zip(agent.target_network.parameters(), online):
        np.testing.assert_array_equal(t.data, p.data)


@pytest.mark.parametrize("algo", ["dqn", "c51", "qrdqn", "rainbow"])
def test_each_agent_of_the_family_learns_cartpole_in_a_short_run_on_seed_0(algo):
    """The fast learning run of each agent (its CartPole table, 20k steps instead of its 50k-100k, so ε and the
    learning rate decay over the shorter run): the final policy must play far better than chance (about 22), so a
    change that stops an agent from learning fails here. The 475 targets on five seeds are in the slow suite."""
    agent = get(algo)("CartPole-v1", seed=0).learn(20_000)
    result = agent.evaluate(20)
    assert result["mean_return"] >= 75, result["returns"]
