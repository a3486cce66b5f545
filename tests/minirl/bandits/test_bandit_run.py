"""`run_bandit` and its score (book ch. 2.2.2, regret RE_n and eqs. 2.4-2.6), and the vectorisation over runs:
runs share arrays but never information."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minirl.bandits import (UCB, AdversarialBandit, BanditAgent, BernoulliBandit, ContextualEpsilonGreedy,
                            DiscreteContextualBandit, EpsilonGreedy, Exp3, GaussianBandit, GradientBandit, Hedge,
                            LinearContextualBandit, LinUCB, NonStationaryBandit, ThompsonBernoulli,
                            ThompsonGaussian, run_bandit)


class Scripted(BanditAgent):
    """Plays a fixed sequence of arms in every run."""

    def __init__(self, k, arms, num_runs=1):
        super().__init__(k, num_runs, seed=0)
        self.arms = iter(arms)

    def act(self):
        return np.full(self.num_runs, next(self.arms))

    def update(self, actions, rewards):
        pass


def test_regret_by_hand_on_an_adversarial_table():
    env = AdversarialBandit([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    result = run_bandit(env, Scripted(2, [1, 1, 1]), steps=3)
    np.testing.assert_array_equal(result.rewards[:, 0], [0, 1, 0])
    # best arm in hindsight: totals (1, 0), (1, 1), (2, 1); earned 0, 1, 1
    np.testing.assert_array_equal(result.regret[:, 0], [1, 0, 1])
    np.testing.assert_array_equal(result.pseudo_regret, result.regret)  # nothing random in a fixed table
    np.testing.assert_array_equal(result.oracle_regret[:, 0], [1, 1, 2])  # the best of every round
    np.testing.assert_array_equal(result.optimal[:, 0], [False, True, False])


def test_pseudo_regret_is_n_mu_star_minus_the_pulled_means_and_regret_uses_every_arms_rewards():
    q_star = [0.0, 1.0, 0.5]
    result = run_bandit(GaussianBandit(k=3, seed=7, q_star=q_star), Scripted(3, [0, 2, 0, 0, 2]), steps=5)
    # (2.6): n µ* - Σ µ_{A_t} with µ* = 1 and µ_{A_t} = 0, 0.5, 0, 0, 0.5
    np.testing.assert_allclose(result.pseudo_regret[:, 0], [1, 1.5, 2.5, 3.5, 4.0])
    np.testing.assert_array_equal(result.oracle_regret, result.pseudo_regret)
    twin = GaussianBandit(k=3, seed=7, q_star=q_star)  # the same seed replays the same reward vectors
    vectors = np.array([twin.step(np.array([0])).reward_vector[0] for _ in range(5)])
    earned = np.cumsum(vectors[np.arange(5), [0, 2, 0, 0, 2]])
    np.testing.assert_allclose(result.regret[:, 0], np.cumsum(vectors, axis=0).max(axis=1) - earned)  # RE_n
    np.testing.assert_allclose(np.cumsum(result.rewards[:, 0]), earned)


def test_result_shapes_and_curves():
    result = run_bandit(GaussianBandit(k=4, num_runs=6, seed=0), EpsilonGreedy(k=4, epsilon=0.1, num_runs=6,
                                                                                   seed=1), steps=9)
    for array in (result.rewards, result.optimal, result.regret, result.pseudo_regret, result.oracle_regret):
        assert array.shape == (9, 6)
    assert result.optimal.dtype == bool
    for curve in (result.average_reward, result.optimal_action_fraction, result.expected_regret,
                  result.expected_pseudo_regret):
        assert curve.shape == (9,)
    np.testing.assert_allclose(result.average_reward, result.rewards.mean(axis=1))
    np.testing.assert_allclose(result.optimal_action_fraction, result.optimal.mean(axis=1))


STOCHASTIC_AGENTS = {
    "greedy": lambda k, runs, seed: EpsilonGreedy(k, 0.0, num_runs=runs, seed=seed),
    "epsilon": lambda k, runs, seed: EpsilonGreedy(k, 0.1, step_size=0.1, num_runs=runs, seed=seed),
    "ucb": lambda k, runs, seed: UCB(k, 2.0, num_runs=runs, seed=seed),
    "gradient": lambda k, runs, seed: GradientBandit(k, 0.1, num_runs=runs, seed=seed),
    "thompson": lambda k, runs, seed: ThompsonGaussian(k, num_runs=runs, seed=seed),
    "exp3": lambda k, runs, seed: Exp3(k, 0.1, num_runs=runs, seed=seed),
}


@given(agent=st.sampled_from(sorted(STOCHASTIC_AGENTS)), k=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       bernoulli=st.booleans())
def test_pseudo_regret_of_stationary_arms_is_nonnegative_and_never_falls(agent, k, seed, bernoulli):
    env = BernoulliBandit(k, num_runs=8, seed=seed) if bernoulli else GaussianBandit(k, num_runs=8, seed=seed)
    result = run_bandit(env, STOCHASTIC_AGENTS[agent](k, 8, seed + 1), steps=30)
    assert np.all(result.pseudo_regret >= -1e-12)  # every term µ* - µ_{A_t} >= 0
    assert np.all(np.diff(result.pseudo_regret, axis=0) >= -1e-12)
    np.testing.assert_allclose(result.oracle_regret, result.pseudo_regret, atol=1e-12)
    assert np.all(result.optimal == (np.diff(result.pseudo_regret, axis=0, prepend=0) <= 1e-12))


@given(seed=st.integers(0, 2**32 - 1), contextual=st.booleans())
def test_the_oracle_regret_is_never_below_the_pseudo_regret(seed, contextual):
    # Σ_t max_j µ_{j,t} >= max_j Σ_t µ_{j,t}: the best arm of every round does at least as well as any one arm
    env = (LinearContextualBandit(k=3, dim=2, num_runs=8, seed=seed) if contextual
           else NonStationaryBandit(k=3, num_runs=8, seed=seed, walk_std=0.3))
    result = run_bandit(env, EpsilonGreedy(k=3, epsilon=0.2, num_runs=8, seed=seed + 1), steps=30)
    assert np.all(result.oracle_regret >= result.pseudo_regret - 1e-9)


@settings(max_examples=10)
@given(agent=st.sampled_from(sorted(STOCHASTIC_AGENTS)), seed=st.integers(0, 2**32 - 1))
def test_expected_regret_is_at_least_the_pseudo_regret(agent, seed):
    # E[RE_n] >= R̄E_n (2.4 vs 2.5): E[max_j Σ R_j] >= max_j E[Σ R_j]; the gap is large over few noisy steps
    runs = 2000
    result = run_bandit(GaussianBandit(k=5, num_runs=runs, seed=seed, noise_std=3.0),
                        STOCHASTIC_AGENTS[agent](5, runs, seed + 1), steps=20)
    gap = result.regret[-1] - result.pseudo_regret[-1]
    assert gap.mean() > 3 * gap.std() / np.sqrt(runs)
    assert result.expected_pseudo_regret[-1] >= 0


# ---------------------------------------------------------------------------------------------------------------
# Vectorisation

ALL_AGENTS = {
    **STOCHASTIC_AGENTS,
    "thompson_bernoulli": lambda k, runs, seed: ThompsonBernoulli(k, num_runs=runs, seed=seed),
    "hedge": lambda k, runs, seed: Hedge(k, 0.5, num_runs=runs, seed=seed),
    "contextual_epsilon": lambda k, runs, seed: ContextualEpsilonGreedy(k, 3, 0.1, num_runs=runs, seed=seed),
    "linucb": lambda k, runs, seed: LinUCB(k, 3, 1.0, num_runs=runs, seed=seed),
}


def feedback_for(agent, rng, runs, k):
    """Random actions, rewards (0/1, or whole vectors for full information) and one-hot contexts."""
    actions = rng.integers(k, size=runs)
    rewards = (rng.random((runs, k) if agent.full_information else runs) < 0.5).astype(float)
    context = np.eye(3)[rng.integers(3, size=runs)]
    return actions, rewards, context


def state_arrays(agent):
    return {name: value for name, value in vars(agent).items()
            if isinstance(value, np.ndarray) and not name.startswith("_")}


@pytest.mark.parametrize("name", sorted(ALL_AGENTS))
def test_one_vectorised_update_equals_separate_single_run_updates(name):
    runs, k = 5, 4
    make = ALL_AGENTS[name]
    together = make(k, runs, 0)
    alone = [make(k, 1, 0) for _ in range(runs)]
    rng = np.random.default_rng(1)
    for _ in range(6):
        actions, rewards, context = feedback_for(together, rng, runs, k)
        extra = (context,) if together.contextual else ()
        together.update(actions, rewards, *extra)
        for i, agent in enumerate(alone):
            agent.update(actions[i:i + 1], rewards[i:i + 1], *(x[i:i + 1] for x in extra))
    arrays = state_arrays(together)
    assert arrays, "the agent should keep its state in per-run arrays"
    for attribute, value in arrays.items():
        assert value.shape[0] == runs
        for i, agent in enumerate(alone):
            np.testing.assert_allclose(value[i], getattr(agent, attribute)[0], err_msg=f"{name}.{attribute}[{i}]")


@pytest.mark.parametrize("name", sorted(ALL_AGENTS))
def test_every_agent_acts_with_one_arm_per_run(name):
    agent = ALL_AGENTS[name](4, 6, 0)
    actions = agent.act(np.eye(3)[np.arange(6) % 3]) if agent.contextual else agent.act()
    assert actions.shape == (6,) and np.issubdtype(actions.dtype, np.integer)
    assert np.all((actions >= 0) & (actions < 4))


def test_runs_draw_their_randomness_independently():
    # with ε = 1 every run picks uniformly: neighbouring runs agree with probability 1/k, not more
    actions = EpsilonGreedy(k=5, epsilon=1.0, num_runs=50000, seed=0).act()
    assert abs(np.mean(actions[1:] == actions[:-1]) - 0.2) < 0.01
    env = GaussianBandit(k=2, num_runs=50000, seed=0)
    noise = env.step(np.zeros(50000, dtype=int)).rewards - env.q_star[:, 0]
    assert abs(np.corrcoef(noise[1:], noise[:-1])[0, 1]) < 0.02


def test_many_runs_at_once_match_the_statistics_of_single_runs():
    q_star, steps, single_runs = [0.0, 0.5, 1.0, 1.5, 2.0], 100, 100  # one problem: only the learning varies
    together = run_bandit(GaussianBandit(k=5, num_runs=4000, seed=0, q_star=q_star),
                          EpsilonGreedy(k=5, epsilon=0.1, num_runs=4000, seed=1), steps)
    alone = [run_bandit(GaussianBandit(k=5, seed=2 * i, q_star=q_star),
                        EpsilonGreedy(k=5, epsilon=0.1, seed=2 * i + 1), steps) for i in range(single_runs)]
    for statistic in ("rewards", "optimal"):
        per_run_together = getattr(together, statistic).mean(axis=0)
        per_run_alone = np.array([getattr(result, statistic).mean() for result in alone])
        standard_error = np.hypot(per_run_alone.std() / np.sqrt(single_runs),
                                  per_run_together.std() / np.sqrt(4000))
        assert abs(per_run_alone.mean() - per_run_together.mean()) < 4 * standard_error, statistic


# ---------------------------------------------------------------------------------------------------------------
# Which agent meets which feedback

def test_hedge_is_fed_whole_reward_vectors_in_a_full_information_game():
    table = np.random.default_rng(0).random((50, 3))
    result = run_bandit(AdversarialBandit(table, num_runs=4, full_information=True), Hedge(3, 0.5, num_runs=4,
                                                                                          seed=0), steps=50)
    assert result.rewards.shape == (50, 4)
    with pytest.raises(ValueError, match="Hedge needs full-information feedback; create AdversarialBandit with "
                                         "full_information=True"):
        run_bandit(AdversarialBandit(table), Hedge(3, 0.5, seed=0), steps=5)


def test_context_blind_agents_play_contextual_bandits_and_contextual_agents_need_contexts():
    run_bandit(DiscreteContextualBandit(k=3, num_contexts=2, seed=0), EpsilonGreedy(3, 0.1, seed=0), steps=5)
    with pytest.raises(ValueError, match="LinUCB needs contexts, and GaussianBandit shows none"):
        run_bandit(GaussianBandit(k=3, seed=0), LinUCB(3, 2, seed=0), steps=5)


@pytest.mark.parametrize("env, agent, steps, message", [
    (GaussianBandit(k=3), EpsilonGreedy(4, 0.1), 5,
     "EpsilonGreedy has k=4, num_runs=1 but GaussianBandit has k=3, num_runs=1"),
    (GaussianBandit(k=3, num_runs=2), UCB(3), 5, "UCB has k=3, num_runs=1 but GaussianBandit has k=3, num_runs=2"),
    (GaussianBandit(k=3), UCB(3), 0, r"steps: expected an integer >= 1, got 0"),
])
def test_mismatched_env_and_agent_are_refused(env, agent, steps, message):
    with pytest.raises(ValueError, match=message):
        run_bandit(env, agent, steps)
