"""The learning targets, on fixed seeds (slow suite: ``python -m pytest -m slow``).

An agent has learned when the policy that training ends with is good: each run trains for its steps, then the
final policy plays 20 deterministic episodes on fixed seeds (`Agent.evaluate`); a target "final ≥ X on ≥ k/5
seeds" counts the seeds whose mean return is at least X. A curve that passed X and collapsed does not count.
"""

import pytest

from minirl.algos import get
from minirl.envs import from_gymnasium, register, registry

pytestmark = pytest.mark.slow


def final_returns(algo, env_id, seeds, steps=None, **overrides):
    """The mean return of 20 deterministic episodes of the final policy, per seed."""
    cls = get(algo)
    steps = cls.steps_for(env_id) if steps is None else steps
    return [cls(env_id, seed=seed, **overrides).learn(steps).evaluate(20)["mean_return"] for seed in seeds]


def assert_target(returns, threshold, at_least):
    assert sum(r >= threshold for r in returns) >= at_least, f"final returns per seed: {returns}"


def test_reinforce_with_baseline_cartpole_final_policy_475_on_4_of_5_seeds_within_500k_steps():
    assert get("reinforce").steps_for("CartPole-v1") <= 500_000
    assert_target(final_returns("reinforce", "CartPole-v1", range(5)), 475, 4)


def test_a2c_cartpole_final_policy_475_on_4_of_5_seeds_within_200k_steps():
    assert get("a2c").steps_for("CartPole-v1") <= 200_000
    assert_target(final_returns("a2c", "CartPole-v1", range(5)), 475, 4)


def test_a3c_with_two_workers_cartpole_final_policy_475_on_3_of_5_seeds_within_300k_steps():
    assert get("a3c").steps_for("CartPole-v1") <= 300_000
    assert_target(final_returns("a3c", "CartPole-v1", range(5), num_workers=2), 475, 3)


def test_acktr_cartpole_final_policy_475_on_4_of_5_seeds_within_200k_steps():
    assert get("acktr").steps_for("CartPole-v1") <= 200_000
    assert_target(final_returns("acktr", "CartPole-v1", range(5)), 475, 4)


def test_trpo_pendulum_final_policy_minus_250_on_3_of_5_seeds_within_300k_steps():
    assert get("trpo").steps_for("Pendulum-v1") <= 300_000
    assert_target(final_returns("trpo", "Pendulum-v1", range(5)), -250, 3)


def test_actor_critic_cartpole_final_policy_475_on_4_of_5_seeds_within_100k_steps():
    assert get("actor_critic").steps_for("CartPole-v1") <= 100_000
    assert_target(final_returns("actor_critic", "CartPole-v1", range(5)), 475, 4)


def test_cem_cartpole_final_policy_475_on_5_of_5_seeds_within_100k_steps():
    assert get("cem").steps_for("CartPole-v1") <= 100_000
    assert_target(final_returns("cem", "CartPole-v1", range(5)), 475, 5)


@pytest.mark.parametrize("algo", ["ppo", "ppo_penalty", "trpo", "dqn", "c51", "qrdqn", "rainbow"])
def test_cartpole_final_policy_475_on_4_of_5_seeds_within_100k_steps(algo):
    assert get(algo).steps_for("CartPole-v1") <= 100_000
    assert_target(final_returns(algo, "CartPole-v1", range(5)), 475, 4)


# DQN's CartPole table has Double Q on: `double_q=False` is the plain Algorithm 4.17, the others add one switch each
@pytest.mark.parametrize("switch", [{"double_q": False}, {"dueling": "mean"}, {"prioritized": "proportional"},
                                    {"n_step": 3}, {"noisy": True}], ids=lambda s: "-".join(map(str, s.items())))
def test_each_dqn_switch_alone_keeps_cartpole_at_475_on_4_of_5_seeds(switch):
    assert_target(final_returns("dqn", "CartPole-v1", range(5), **switch), 475, 4)


@pytest.mark.parametrize("algo", ["dqn", "rainbow"])
def test_acrobot_final_policy_minus_100_on_4_of_5_seeds_within_100k_steps(algo):
    assert get(algo).steps_for("Acrobot-v1") <= 100_000
    assert_target(final_returns(algo, "Acrobot-v1", range(5)), -100, 4)


def test_dqn_mountain_car_final_policy_minus_120_on_3_of_5_seeds_within_150k_steps():
    assert get("dqn").steps_for("MountainCar-v0") <= 150_000
    assert_target(final_returns("dqn", "MountainCar-v0", range(5)), -120, 3)


@pytest.mark.parametrize("algo", ["ddpg", "td3", "sac"])
def test_pendulum_final_policy_minus_200_on_4_of_5_seeds_within_20k_steps(algo):
    assert get(algo).steps_for("Pendulum-v1") <= 20_000
    assert_target(final_returns(algo, "Pendulum-v1", range(5)), -200, 4)


def test_discrete_sac_cartpole_final_policy_475_on_3_of_5_seeds_within_100k_steps():
    assert get("sac").steps_for("CartPole-v1") <= 100_000
    assert_target(final_returns("sac", "CartPole-v1", range(5)), 475, 3)


def test_sac_mountain_car_continuous_final_policy_90_on_3_of_5_seeds_within_50k_steps():
    # with gSDE (the table's sde=True): 93.3, 92.6, 88.3, 95.1, 90.3 on seeds 0-4
    assert get("sac").steps_for("MountainCarContinuous-v0") <= 50_000
    assert_target(final_returns("sac", "MountainCarContinuous-v0", range(5)), 90, 3)


def test_ppo_pendulum_final_policy_minus_250_on_3_of_5_seeds():
    assert_target(final_returns("ppo", "Pendulum-v1", range(5)), -250, 3)


def test_a2c_pendulum_final_policy_minus_900_on_3_of_5_seeds_within_300k_steps():
    assert get("a2c").steps_for("Pendulum-v1") <= 300_000
    assert_target(final_returns("a2c", "Pendulum-v1", range(5)), -900, 3)


@pytest.mark.parametrize("algo", ["ppo", "dqn"])
def test_agents_learn_gymnasiums_own_cartpole_through_the_adapter(algo):
    if "gymnasium/CartPole-v1" not in registry:
        register("gymnasium/CartPole-v1", entry_point=lambda **kw: from_gymnasium("CartPole-v1", **kw))
    cls = get(algo)
    # the same hyperparameters and steps as for our CartPole-v1
    cls.env_defaults.setdefault("gymnasium/CartPole-v1", cls.env_defaults["CartPole-v1"])
    cls.default_steps.setdefault("gymnasium/CartPole-v1", cls.steps_for("CartPole-v1"))
    assert_target(final_returns(algo, "gymnasium/CartPole-v1", [0]), 475, 1)
