"""Actor-Critic (book ch. 5.3, Algorithm 5.19): the box's one-step advantage and losses by hand, the L-step target
(5.7) through an episode's end, the Q critics' advantage (5.11) and targets (5.12)/(5.13), one update of the agent
checked against the same numbers, one fast learning run (the 5-seed target is in the slow suite), and bad settings
refused by name."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import ActorCriticAgent
from minirl.algos.actor_critic import actor_critic_losses, bootstrap_values, l_step_targets, q_advantages
from minirl.buffers.n_step import NStepAccumulator
from minirl.distributions import Categorical

GAMMA = 0.9


def log_softmax(logits):
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def test_the_one_step_advantage_and_losses_of_the_box_by_hand():
    logits = ad.tensor(np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32), requires_grad=True)
    values = ad.tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)      # V(S_t)
    rewards, next_values, terminated = np.array([1.0, 2.0]), np.array([3.0, 7.0]), np.array([0.0, 1.0])
    targets = l_step_targets(rewards, np.full(2, GAMMA), terminated, bootstrap_values("v", next_values))
    np.testing.assert_allclose(targets, [1.0 + GAMMA * 3.0, 2.0])  # R + γ V(S'), and R alone after a termination
    actions = np.array([1, 0])
    policy_loss, critic_loss, _, advantages = actor_critic_losses(Categorical(logits), values, actions, targets,
                                                                  num_envs=2)
    expected = np.array([1.0 + GAMMA * 3.0 - 0.5, 2.0 - (-1.0)])                           # Â = R + γV(S') − V(S)
    np.testing.assert_allclose(advantages, expected, rtol=1e-6)
    log_probs = log_softmax(np.array([[0.0, 1.0], [2.0, 0.0]]))[[0, 1], actions]
    np.testing.assert_allclose(policy_loss.item(), -(log_probs @ expected) / 2, rtol=1e-6)   # −J(θ) = −Σ log π Â
    np.testing.assert_allclose(critic_loss.item(), (expected ** 2).sum() / 2, rtol=1e-6)    # J_V(ψ) = Σ Â²
    (policy_loss + critic_loss).backward()
    np.testing.assert_allclose(values.grad.numpy(), -2 * expected / 2, rtol=1e-6)  # ψ descends: V moves toward Â
    probs = np.exp(log_softmax(np.array([[0.0, 1.0], [2.0, 0.0]])))
    score = np.eye(2)[actions] - probs  # ∇_z log π(A|S) of a softmax
    np.testing.assert_allclose(logits.grad.numpy(), -score * expected[:, None] / 2, rtol=1e-5)  # Â is a constant


def test_the_l_step_target_through_a_termination_and_a_truncation():
    """L = 3 on one copy: rewards 1, 2, 3, 4 (terminated), then 5, 6 (truncated); V(s) = 10 s[0], and the
    observation of step t is t (the true final observation of the truncated episode is 60)."""
    L, V = 3, lambda obs: 10.0 * obs[:, 0]
    window = NStepAccumulator(L, GAMMA, 1, (1,))
    steps = [(0, 1.0, 1, False, False), (1, 2.0, 2, False, False), (2, 3.0, 3, False, False),
             (3, 4.0, 30, True, False), (4, 5.0, 5, False, False), (5, 6.0, 60, False, True)]
    targets, starts = [], []
    for obs, reward, next_obs, terminated, truncated in steps:
        out = window.push(np.array([[obs]]), np.zeros(1, np.int64), np.array([reward]), np.array([[next_obs]]),
                          np.array([terminated]), np.array([truncated]))
        bootstrap = bootstrap_values("v", V(out["next_obs"]))
        targets.extend(l_step_targets(out["rewards"], out["discounts"], out["terminated"].astype(float), bootstrap))
        starts.extend(out["obs"][:, 0].tolist())
    g = GAMMA
    np.testing.assert_allclose(starts, [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(targets, [
        1 + 2 * g + 3 * g ** 2 + g ** 3 * V(np.array([[3.0]]))[0],  # a full window: Σ_{k<3} γ^k R + γ^3 V(S_3)
        2 + 3 * g + 4 * g ** 2,                                      # the episode terminated: no bootstrap
        3 + 4 * g,
        4.0,
        5 + 6 * g + g ** 2 * 600.0,                                  # truncated: γ^m V of the true final observation
        6 + g * 600.0])


def test_the_q_critics_advantage_and_targets_by_hand():
    q = np.array([[1.0, 3.0], [-2.0, 4.0]])
    probs = np.array([[0.25, 0.75], [0.5, 0.5]])
    actions = np.array([0, 1])
    np.testing.assert_allclose(q_advantages(q, probs, actions), [1.0 - 2.5, 4.0 - 1.0])  # (5.11) Q − Σ π Q
    next_q = np.array([[2.0, 6.0], [1.0, -1.0]])
    next_probs = np.array([[0.5, 0.5], [0.2, 0.8]])
    sarsa = bootstrap_values("sarsa", next_q, next_actions=np.array([1, 0]))
    np.testing.assert_allclose(sarsa, [6.0, 1.0])                                             # Q(S', A')  (5.12)
    expected = bootstrap_values("expected_sarsa", next_q, next_probs)
    np.testing.assert_allclose(expected, [4.0, 0.2 - 0.8])                                    # Σ π Q(S', ·) (5.13)
    rewards = np.array([1.0, 0.5])
    targets = l_step_targets(rewards, np.full(2, GAMMA), np.zeros(2), expected)
    np.testing.assert_allclose(targets, rewards + GAMMA * expected)

    logits = ad.tensor(np.log(probs).astype(np.float32), requires_grad=True)
    q_values = ad.tensor(q.astype(np.float32), requires_grad=True)
    policy_loss, critic_loss, _, advantages = actor_critic_losses(Categorical(logits), q_values, actions, targets)
    np.testing.assert_allclose(advantages, [-1.5, 3.0], rtol=1e-6)
    errors = targets - q[[0, 1], actions]
    np.testing.assert_allclose(critic_loss.item(), (errors ** 2).sum(), rtol=1e-6)    # Σ (target − Q(S, A))²
    np.testing.assert_allclose(policy_loss.item(), -(np.log(probs[[0, 1], actions]) @ [-1.5, 3.0]), rtol=1e-6)
    critic_loss.backward()
    np.testing.assert_allclose(q_values.grad.numpy(), [[-2 * errors[0], 0.0], [0.0, -2 * errors[1]]], rtol=1e-6)


@pytest.mark.parametrize("critic", ["v", "sarsa", "expected_sarsa"])
def test_one_update_of_the_agent_uses_those_numbers(critic):
    agent = ActorCriticAgent("CartPole-v1", seed=1, num_envs=2, critic=critic, ent_coef=0.0)
    rng = np.random.default_rng(0)
    finished = {"obs": rng.normal(size=(2, 4)).astype(np.float32), "actions": np.array([0, 1]),
                "rewards": np.array([1.0, 1.9]), "next_obs": rng.normal(size=(2, 4)).astype(np.float32),
                "terminated": np.array([False, True]), "truncated": np.array([False, False]),
                "discounts": np.array([0.99, 0.99 ** 2])}
    with ad.no_grad():
        dist, values = agent.policy.distribution_and_value(ad.tensor(finished["obs"]))
        next_dist, next_values = agent.policy.distribution_and_value(ad.tensor(finished["next_obs"]))
    probs, values, next_values = dist.probs.numpy(), values.numpy(), next_values.numpy()
    if critic == "v":
        bootstrap = next_values
    elif critic == "sarsa":  # the agent draws A' ~ π(·|S') from its generator: draw the same here, then rewind
        state = agent.rng.bit_generator.state
        bootstrap = next_values[[0, 1], next_dist.sample(agent.rng)]
        agent.rng.bit_generator.state = state
    else:
        bootstrap = (next_dist.probs.numpy() * next_values).sum(axis=1)
    targets = finished["rewards"] + finished["discounts"] * [1.0, 0.0] * bootstrap
    taken = values if critic == "v" else values[[0, 1], finished["actions"]]
    advantages = targets - values if critic == "v" else q_advantages(values, probs, finished["actions"])
    stats = agent._update(finished)
    np.testing.assert_allclose(stats["value_loss"], ((targets - taken) ** 2).sum() / 2, rtol=1e-5)
    log_probs = np.log(probs[[0, 1], finished["actions"]])
    np.testing.assert_allclose(stats["policy_loss"], -(log_probs @ advantages) / 2, rtol=1e-5, atol=1e-7)


def test_actor_critic_learns_cartpole():
    agent = ActorCriticAgent("CartPole-v1", seed=0).learn(40_000)  # the defaults, fewer steps: about 20 s
    assert agent.evaluate(20)["mean_return"] >= 475


def test_a_gaussian_policy_with_the_v_critic_and_a_shared_trunk():
    agent = ActorCriticAgent("Pendulum-v1", seed=0, num_envs=2, n_steps=3).learn(200)
    assert agent.num_timesteps == 200 and np.isfinite(agent.last_stats["value_loss"])
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0
    shared = ActorCriticAgent("CartPole-v1", seed=0, shared_trunk=True, critic="expected_sarsa").learn(400)
    assert shared.policy.value(np.zeros((1, 4), np.float32)).shape == (1, 2)  # Q(s, ·)
    actor, critic = shared.optimizer.param_groups  # the trunk learns at the critic's step size
    assert len(actor["params"]) == 2 and len(critic["params"]) == 6


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match=r"actor_critic.critic: 'sarsa' is a Q critic.*Box.*critic='v'"):
        ActorCriticAgent("Pendulum-v1", critic="sarsa")
    with pytest.raises(ValueError, match=r"actor_critic.n_steps: expected a value in \[1, inf\], got 0"):
        ActorCriticAgent("CartPole-v1", n_steps=0)
    with pytest.raises(ValueError, match=r"actor_critic.critic: expected one of 'v', 'sarsa', 'expected_sarsa'"):
        ActorCriticAgent("CartPole-v1", critic="q_learning")


def test_a_checkpoint_holds_the_pending_transitions_of_the_l_step_windows(tmp_path):
    settings = dict(seed=2, n_steps=3, critic="sarsa", anneal_lr=False)
    whole = ActorCriticAgent("CartPole-v1", **settings).learn(1200)
    first = ActorCriticAgent("CartPole-v1", **settings).learn(600)
    assert first.window.length.min() == 2  # each copy's last L − 1 transitions still wait for rewards
    first.save(tmp_path / "ac.npz")
    resumed = ActorCriticAgent.load(tmp_path / "ac.npz").learn(1200)
    assert resumed.num_episodes == whole.num_episodes
    for (name, p), q in zip(whole.policy.state_dict().items(), resumed.policy.state_dict().values()):
        np.testing.assert_array_equal(p, q, err_msg=name)
