"""The agents, one readable file per algorithm (book chapters 2 and 4-6), behind one small API (base.py).

`ALGORITHMS` maps the names the CLI accepts to their classes, imported only when asked for.
"""

from __future__ import annotations

import importlib

ALGORITHMS = {
    "random": "minirl.algos.random_agent:RandomAgent",
    "q_learning": "minirl.algos.tabular_q:TabularQLearning",
    "ppo": "minirl.algos.ppo:PPO",
    "ppo_penalty": "minirl.algos.ppo:PPOPenalty",
    "dqn": "minirl.algos.dqn:DQN",
    "c51": "minirl.algos.c51:C51",
    "qrdqn": "minirl.algos.qrdqn:QRDQN",
    "rainbow": "minirl.algos.rainbow:Rainbow",
    "cem": "minirl.algos.cem:CEM",
    "reinforce": "minirl.algos.reinforce:REINFORCE",
    "a2c": "minirl.algos.a2c:A2C",
    "a3c": "minirl.algos.a3c:A3C",
    "trpo": "minirl.algos.trpo:TRPO",
    "acktr": "minirl.algos.acktr:ACKTR",
    "actor_critic": "minirl.algos.actor_critic:ActorCriticAgent",
    "ddpg": "minirl.algos.ddpg:DDPG",
    "td3": "minirl.algos.td3:TD3",
    "sac": "minirl.algos.sac:SAC",
    "alphazero": "minirl.algos.alphazero:AlphaZero",
}


def get(name: str):
    try:
        module, _, cls = ALGORITHMS[name].partition(":")
    except KeyError:
        raise KeyError(f"unknown algorithm {name!r}; available: {', '.join(sorted(ALGORITHMS))}") from None
    return getattr(importlib.import_module(module), cls)


def names() -> list[str]:
    return sorted(ALGORITHMS)


_BY_CLASS = {path.partition(":")[2]: name for name, path in ALGORITHMS.items()}


def __getattr__(attribute: str):
    """`from minirl.algos import PPO`: each agent by its class name, imported on first use."""
    if attribute in _BY_CLASS:
        return get(_BY_CLASS[attribute])
    raise AttributeError(f"module 'minirl.algos' has no attribute {attribute!r}")


__all__ = ["ALGORITHMS", "get", "names", *_BY_CLASS]
