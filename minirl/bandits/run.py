"""Play an agent against a bandit and keep score: rewards, optimal actions and regret (book ch. 2.2.2,
eqs. 2.4-2.6).

The book measures a player by its regret after n rounds, against the best single arm in hindsight:

    RE_n = max_j Σ_{t≤n} R_{j,t} - Σ_{t≤n} R_{A_t,t}

and distinguishes two expectations of it, which differ in the order of max and E:

    expected regret   E[RE_n] = E[max_j Σ_t R_{j,t} - Σ_t R_{A_t,t}]                          (2.4)
    pseudo-regret     R̄E_n    = max_j E[Σ_t R_{j,t}] - E[Σ_t R_{A_t,t}]                         (2.5)
                              = n µ* - E[Σ_t µ_{A_t}]    for stationary arms, µ* = max_i µ_i       (2.6)

E[RE_n] >= R̄E_n, since the expected maximum is at least the maximum of expectations. (2.4)-(2.6) print the
maximum over j, i = 1..T; the arms are 1..K, as in the definition of RE_n. `run_bandit` keeps, per run,

    regret         RE_n itself, from every arm's rewards (the simulator knows them all, Alg. 2.3)
    pseudo_regret  max_j Σ_t µ_{j,t} - Σ_t µ_{A_t,t}: the reward noise averaged out exactly, so its mean over
                   runs estimates (2.5) with less variance than the mean of rewards would
    oracle_regret  Σ_t (max_j µ_{j,t} - µ_{A_t,t}): against the best arm of every round, the yardstick when the
                   best arm changes (drifting arms; the best policy of a contextual bandit). It equals
                   pseudo_regret for stationary arms and is never smaller.

and the curves of Sutton & Barto's testbed figures: the reward of every round, and whether A_t was a best arm of
round t. Means over runs estimate the expectations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minirl.bandits.protocol import Bandit, BanditAgent, check_count


@dataclass
class BanditResult:
    """Every array is ``(steps, num_runs)``; the regrets are cumulative, up to and including step n."""

    rewards: np.ndarray
    optimal: np.ndarray
    regret: np.ndarray
    pseudo_regret: np.ndarray
    oracle_regret: np.ndarray

    @property
    def average_reward(self) -> np.ndarray:
        """``(steps,)``: the reward of each step, averaged over runs."""
        return self.rewards.mean(axis=1)

    @property
    def optimal_action_fraction(self) -> np.ndarray:
        """``(steps,)``: the fraction of runs whose action at each step was a best arm."""
        return self.optimal.mean(axis=1)

    @property
    def expected_regret(self) -> np.ndarray:
        """``(steps,)``: E[RE_n] (2.4) estimated over runs."""
        return self.regret.mean(axis=1)

    @property
    def expected_pseudo_regret(self) -> np.ndarray:
        """``(steps,)``: the pseudo-regret (2.5), (2.6) estimated over runs."""
        return self.pseudo_regret.mean(axis=1)


def run_bandit(env: Bandit, agent: BanditAgent, steps: int) -> BanditResult:
    """Play ``steps`` rounds of ``agent`` against ``env`` in every run at once."""
    steps = check_count("steps", steps)
    if (env.k, env.num_runs) != (agent.k, agent.num_runs):
        raise ValueError(f"{type(agent).__name__} has k={agent.k}, num_runs={agent.num_runs} but "
                         f"{type(env).__name__} has k={env.k}, num_runs={env.num_runs}")
    if agent.full_information and not env.full_information:
        raise ValueError(f"{type(agent).__name__} needs full-information feedback; "
                         f"create {type(env).__name__} with full_information=True")
    if agent.contextual and env.context is None:
        raise ValueError(f"{type(agent).__name__} needs contexts, and {type(env).__name__} shows none")

    runs = np.arange(env.num_runs)
    rewards, chosen_means, best_means, best_arm_total, best_arm_mean_total = (
        np.empty((steps, env.num_runs)) for _ in range(5))
    arm_totals = np.zeros((env.num_runs, env.k))  # Σ_t R_{j,t} for every arm j
    arm_mean_totals = np.zeros((env.num_runs, env.k))  # Σ_t µ_{j,t}
    for t in range(steps):
        context = env.context
        actions = agent.act(context) if agent.contextual else agent.act()
        outcome = env.step(actions)
        feedback = outcome.reward_vector if agent.full_information else outcome.rewards
        if agent.contextual:
            agent.update(actions, feedback, context)
        else:
            agent.update(actions, feedback)

        rewards[t] = outcome.rewards
        chosen_means[t] = outcome.means[runs, actions]
        best_means[t] = outcome.means.max(axis=1)
        arm_totals += outcome.reward_vector
        arm_mean_totals += outcome.means
        best_arm_total[t] = arm_totals.max(axis=1)
        best_arm_mean_total[t] = arm_mean_totals.max(axis=1)

    return BanditResult(
        rewards=rewards,
        optimal=chosen_means == best_means,
        regret=best_arm_total - np.cumsum(rewards, axis=0),  # RE_n
        pseudo_regret=best_arm_mean_total - np.cumsum(chosen_means, axis=0),  # max_j Σ µ_j - Σ µ_{A_t}
        oracle_regret=np.cumsum(best_means - chosen_means, axis=0),
    )
