"""Bandits: online learning with one state (book ch. 2.2), vectorised over many independent runs.

| book                                                   | here                                                  |
|--------------------------------------------------------|-------------------------------------------------------|
| 2.2.1 action values, greedy (2.3), ε-greedy            | `EpsilonGreedy`                                       |
| 2.2.2 stochastic bandit (Alg. 2.3)                     | `GaussianBandit`, `BernoulliBandit`,                  |
|                                                        | `NonStationaryBandit`                                 |
| 2.2.2 regret, (2.4)-(2.6)                              | `run_bandit` -> `BanditResult`                        |
| 2.2.2 UCB (2.7)                                        | `UCB`                                                 |
| 2.2.3 adversarial bandit (Alg. 2.4)                    | `AdversarialBandit`                                   |
| 2.2.3 Hedge (Alg. 2.5), Exp3                           | `Hedge`, `Exp3`                                       |
| 2.2.4 contextual bandit                                | `LinearContextualBandit`, `DiscreteContextualBandit`, |
|                                                        | `ContextualEpsilonGreedy`, `LinUCB`                   |
| glossary only: gradient bandit                         | `GradientBandit`                                      |
| not in the book: Thompson sampling                     | `ThompsonBernoulli`, `ThompsonGaussian`               |

Every environment and agent holds ``num_runs`` copies in arrays with a leading ``num_runs`` axis and takes a
``seed`` (int, None or `np.random.Generator`). Agents have ``act() -> actions (num_runs,)`` and
``update(actions, rewards)`` (contextual ones take the context as a further argument); environments have
``step(actions) -> Outcome``. The 10-armed testbed of Sutton & Barto, 2000 runs of 1000 steps::

    from minirl.bandits import EpsilonGreedy, GaussianBandit, run_bandit

    result = run_bandit(GaussianBandit(k=10, num_runs=2000, seed=0),
                        EpsilonGreedy(k=10, epsilon=0.1, num_runs=2000, seed=1), steps=1000)
    result.average_reward[-1], result.optimal_action_fraction[-1]   # about 1.4 and 0.8
"""

from minirl.bandits.adversarial import AdversarialBandit, Exp3, Hedge
from minirl.bandits.agents import UCB, EpsilonGreedy, GradientBandit
from minirl.bandits.contextual import (ContextualEpsilonGreedy, DiscreteContextualBandit, LinearContextualBandit,
                                       LinUCB)
from minirl.bandits.environments import BernoulliBandit, GaussianBandit, NonStationaryBandit
from minirl.bandits.protocol import Bandit, BanditAgent, Outcome
from minirl.bandits.run import BanditResult, run_bandit
from minirl.bandits.thompson import ThompsonBernoulli, ThompsonGaussian

__all__ = [
    "Bandit", "BanditAgent", "Outcome",
    "GaussianBandit", "BernoulliBandit", "NonStationaryBandit", "AdversarialBandit",
    "LinearContextualBandit", "DiscreteContextualBandit",
    "EpsilonGreedy", "UCB", "GradientBandit", "ThompsonBernoulli", "ThompsonGaussian", "Hedge", "Exp3",
    "ContextualEpsilonGreedy", "LinUCB",
    "BanditResult", "run_bandit",
]
