"""The learning targets of issue 7, on fixed seeds (slow suite: ``python -m pytest -m slow``).

Evaluation = mean return of 20 deterministic episodes, taken every few thousand steps; a target "≥ X within N
steps" holds when some evaluation up to step N reaches X.
"""

import pytest

from minirl.algos.dqn import DQN
from minirl.algos.ppo import PPO
from minirl.envs import from_gymnasium, register, registry
from minirl.runs.evaluation import EvaluationHook

pytestmark = pytest.mark.slow


def solved(agent_cls, env_id, seed, steps, threshold, every):
    hook = EvaluationHook(every=every, episodes=20, threshold=threshold, stop_at_threshold=True)
    agent_cls(env_id, seed=seed).learn(steps, hook)
    return hook


@pytest.mark.parametrize("agent_cls", [PPO, DQN], ids=["ppo", "dqn"])
def test_cartpole_475_within_100k_steps_on_4_of_5_seeds(agent_cls):
    hooks = [solved(agent_cls, "CartPole-v1", seed, 100_000, 475, 5_000) for seed in range(5)]
    successes = sum(h.solved_at is not None for h in hooks)
    assert successes >= 4, [h.record for h in hooks]


def test_ppo_pendulum_minus_250_within_300k_steps_on_3_of_5_seeds():
    hooks = [solved(PPO, "Pendulum-v1", seed, 300_000, -250, 20_000) for seed in range(5)]
    successes = sum(h.solved_at is not None for h in hooks)
    assert successes >= 3, [h.record for h in hooks]


@pytest.mark.parametrize("agent_cls", [PPO, DQN], ids=["ppo", "dqn"])
def test_agents_learn_gymnasiums_own_cartpole_through_the_adapter(agent_cls):
    if "gymnasium/CartPole-v1" not in registry:
        register("gymnasium/CartPole-v1", entry_point=lambda **kw: from_gymnasium("CartPole-v1", **kw))
    # the same hyperparameters as for our CartPole-v1
    agent_cls.env_defaults.setdefault("gymnasium/CartPole-v1", agent_cls.env_defaults["CartPole-v1"])
    hook = solved(agent_cls, "gymnasium/CartPole-v1", 0, 100_000, 475, 5_000)
    assert hook.solved_at is not None, hook.record
