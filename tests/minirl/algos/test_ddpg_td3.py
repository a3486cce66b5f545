"""DDPG and TD3: their targets by hand, the soft update, the noises, bad settings refused by name, the NaN guard,
and a short learning run of each on Pendulum. The 20k-step targets on five seeds are in the slow suite."""

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import get
from minirl.algos.ddpg import DDPG, critic_targets
from minirl.algos.noise import OrnsteinUhlenbeckNoise
from minirl.algos.td3 import TD3, smoothed_target_actions
from minirl.buffers.replay import Batch
from minirl.envs import spaces
from minirl.envs.classic_control.pendulum import PendulumEnv
from minirl.runs import trainer

SMALL = {"hidden": "16,16", "buffer_size": 1000, "batch_size": 8, "learning_starts": 50}


def test_critic_target_bootstraps_through_truncation_not_termination():
    rewards, discounts = np.array([1.0, -2.0, 0.5]), np.full(3, 0.9)
    terminated = np.array([0.0, 1.0, 0.0])  # the third transition was truncated by a time limit: it bootstraps
    next_q = np.array([[3.0, 7.0, -1.0]])    # one critic: DDPG's Q'(S', μ'(S'))
    np.testing.assert_allclose(critic_targets(rewards, discounts, terminated, next_q),
                               [1 + 0.9 * 3, -2.0, 0.5 + 0.9 * -1.0])


def test_td3_target_takes_the_smaller_of_the_two_critics():
    next_q = np.array([[3.0, -1.0], [2.0, 4.0]])  # Q'_1 and Q'_2 at the same (S', ã)
    y = critic_targets(np.array([1.0, 1.0]), np.full(2, 0.5), np.zeros(2), next_q)
    np.testing.assert_allclose(y, [1 + 0.5 * 2.0, 1 + 0.5 * -1.0])


def batch_of(obs, actions, rewards, next_obs, terminated, truncated, gamma):
    n = len(rewards)
    return Batch(np.asarray(obs, np.float32), np.asarray(actions, np.float32), np.asarray(rewards, np.float32),
                 np.asarray(next_obs, np.float32), np.asarray(terminated), np.asarray(truncated),
                 np.full(n, gamma, np.float32), np.arange(n), np.ones(n, np.float32))


def hand_q(critic, obs, actions):
    """Q(s, a) through the recorded forward pass, not the inference path the agent uses."""
    return critic(ad.tensor(np.asarray(obs, np.float32)), ad.tensor(np.asarray(actions, np.float32))).numpy()


@pytest.mark.parametrize("cls", [DDPG, TD3])
def test_agent_targets_match_the_box_computed_by_hand(cls):
    no_smoothing = {"target_noise": 0.0} if cls is TD3 else {}
    agent = cls("Pendulum-v1", seed=1, **SMALL, **no_smoothing)
    rng = np.random.default_rng(0)
    obs, next_obs = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    batch = batch_of(obs, rng.uniform(-2, 2, (3, 1)), [1.0, -2.0, 0.5], next_obs, [False, True, False],
                     [False, False, True], gamma=0.98)
    next_actions = agent.actor_target(ad.tensor(next_obs.astype(np.float32))).numpy()   # μ'(S')
    q_next = np.min([hand_q(critic, next_obs, next_actions) for critic in agent.critic_target], axis=0)
    expected = np.array([1.0 + 0.98 * q_next[0], -2.0, 0.5 + 0.98 * q_next[2]])  # terminated: R alone
    np.testing.assert_allclose(agent.td_targets(batch), expected, rtol=1e-5, atol=1e-6)


def test_target_smoothing_noise_is_clipped_to_c_and_the_action_to_its_bounds():
    rng = np.random.default_rng(0)
    mu = np.zeros((2000, 1), np.float32)
    smoothed = smoothed_target_actions(mu, sigma=10.0, clip=0.5, low=-2.0, high=2.0, rng=rng)
    assert np.abs(smoothed).max() == pytest.approx(0.5) and np.mean(np.abs(smoothed) == 0.5) > 0.9
    near_the_bound = smoothed_target_actions(np.full((2000, 1), 1.8, np.float32), 10.0, 0.5, -2.0, 2.0, rng)
    assert near_the_bound.max() == 2.0 and near_the_bound.min() == pytest.approx(1.3)
    small = smoothed_target_actions(mu, sigma=0.1, clip=0.5, low=-2.0, high=2.0, rng=rng)
    assert 0.09 < small.std() < 0.11  # a small noise is rarely clipped


def parameters(module):
    return [p.data.copy() for p in module.parameters()]


@pytest.mark.parametrize("cls,delay", [(DDPG, 1), (TD3, 2)])
def test_soft_update_is_exact_and_td3_delays_it(cls, delay):
    agent = cls("Pendulum-v1", seed=0, tau=0.25, **SMALL).learn(SMALL["learning_starts"])  # random play only
    assert agent.critic_updates == 0
    for step in range(1, delay + 1):
        old_actor, old_critics = parameters(agent.actor_target), parameters(agent.critic_target)
        agent._train_step()
        if step < delay:  # TD3: the critics stepped, the actor and every target did not
            for new, old in zip(parameters(agent.actor_target) + parameters(agent.critic_target),
                                old_actor + old_critics):
                np.testing.assert_array_equal(new, old)
    for target, online, old in [(agent.actor_target, agent.actor, old_actor),
                                (agent.critic_target, agent.critics, old_critics)]:
        for t, p, o in zip(target.parameters(), online.parameters(), old):   # θ' ← τθ + (1 − τ)θ'
            np.testing.assert_allclose(t.data, 0.25 * p.data + 0.75 * o, rtol=1e-6, atol=1e-7)


def test_ornstein_uhlenbeck_mean_reverts_to_mu_and_has_the_discretized_stationary_variance():
    theta, dt, mu = 1.0, 0.1, 0.5
    pulled = OrnsteinUhlenbeckNoise(4, sigma=0.0, rng=np.random.default_rng(0), theta=theta, mu=mu, dt=dt)
    pulled.x[...] = 5.0
    for _ in range(30):
        x = pulled()
    np.testing.assert_allclose(x, mu + (5.0 - mu) * (1 - theta * dt) ** 30)  # E[X_t] decays to µ geometrically
    sigma = 0.8
    noise = OrnsteinUhlenbeckNoise(20_000, sigma=sigma, rng=np.random.default_rng(1), theta=theta, mu=mu, dt=dt)
    for _ in range(150):  # (1 − θdt)^150 ≈ 1e-7: the start at µ is forgotten
        x = noise()
    # X' = (1 − θdt)X + σ√dt ε has v = (1 − θdt)²v + σ²dt, so v = σ²/(2θ − θ²dt), σ²/(2θ) as dt → 0 (6.1)
    discretized, continuous = sigma ** 2 / (2 * theta - theta ** 2 * dt), sigma ** 2 / (2 * theta)
    assert x.mean() == pytest.approx(mu, abs=0.02)
    assert x.var() == pytest.approx(discretized, rel=0.03)
    assert abs(x.var() - continuous) > 0.03 * continuous  # the Euler step's own variance, not the limit's


class UnboundedPendulum(PendulumEnv):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.action_space = spaces.Box(-np.inf, np.inf, (1,), np.float32)


@pytest.mark.parametrize("algo", ["ddpg", "td3"])
@pytest.mark.parametrize("env,overrides,error,message", [
    ("CartPole-v1", {}, TypeError, "Discrete(2)"),
    (UnboundedPendulum, {}, ValueError, "must be finite"),
    ("Pendulum-v1", {"tau": 0.0}, ValueError, ".tau: expected a value in (0.0, 1.0]"),
    ("Pendulum-v1", {"tau": 1.5}, ValueError, ".tau: expected a value in (0.0, 1.0]"),
    ("Pendulum-v1", {"noise_sigma": -0.1}, ValueError, ".noise_sigma: expected a value in [0.0, inf]"),
    ("Pendulum-v1", {"noise": "pink"}, ValueError, ".noise: expected one of 'gaussian', 'ou'"),
], ids=["discrete", "unbounded", "tau0", "tau>1", "sigma<0", "noise"])
def test_bad_inputs_are_refused_by_name(algo, env, overrides, error, message):
    with pytest.raises(error) as caught:
        get(algo)(env, seed=0, **overrides)
    assert message in str(caught.value) and (algo in str(caught.value))


@pytest.mark.parametrize("name", ["target_noise", "target_noise_clip"])
def test_td3_smoothing_settings_are_refused_by_name(name):
    with pytest.raises(ValueError, match=f"td3.{name}: expected a value in"):
        TD3("Pendulum-v1", **{name: -1.0})


def test_a_bad_setting_fails_before_the_run_directory_is_written(tmp_path):
    with pytest.raises(ValueError, match="ddpg.tau"):
        trainer.train("ddpg", "Pendulum-v1", 100, out=tmp_path / "run", progress=False, overrides={"tau": 0.0})
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("cls", [DDPG, TD3])
def test_a_nan_action_stops_training_before_it_reaches_the_environment(cls, monkeypatch):
    agent = cls("Pendulum-v1", seed=0, **{**SMALL, "learning_starts": 20})
    agent.learn(20)
    sent = []
    step = agent.envs.step
    monkeypatch.setattr(agent.envs, "step", lambda actions: sent.append(actions) or step(actions))
    last = list(agent.actor.parameters())[-1]
    last.data[...] = np.nan
    with pytest.raises(FloatingPointError, match=f"{cls.name} actor: .* at step 20"):
        agent.learn(40)
    assert sent == []
    with pytest.raises(FloatingPointError, match="actor"):
        agent.act(np.zeros(3, np.float32))


@pytest.mark.parametrize("algo", ["ddpg", "td3"])
def test_short_pendulum_run_swings_up_on_seed_0(algo):
    """The Pendulum table with fewer steps: the final policy must swing up and hold (random play: about −1200)."""
    agent = get(algo)("Pendulum-v1", seed=0).learn(8000)
    result = agent.evaluate(20)
    assert result["mean_return"] >= -400, result["returns"]


@pytest.mark.parametrize("cls", [DDPG, TD3])
def test_a_checkpoint_mid_episode_continues_exactly_with_ou_noise(cls, tmp_path):
    settings = {**SMALL, "noise": "ou", "noise_sigma": 0.5}
    whole = cls("Pendulum-v1", seed=2, **settings).learn(130)
    cls("Pendulum-v1", seed=2, **settings).learn(90).save(tmp_path / "cut.npz")
    resumed = cls.load(tmp_path / "cut.npz").learn(130)
    assert resumed.noise.x.any()  # the OU state travelled with the checkpoint
    np.testing.assert_array_equal(resumed.noise.x, whole.noise.x)
    for a, b in zip(parameters(whole.actor) + parameters(whole.critics), parameters(resumed.actor)
                    + parameters(resumed.critics)):
        np.testing.assert_array_equal(a, b)
