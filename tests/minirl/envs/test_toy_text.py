"""Toy-text environments: transition tables and seeded trajectories equal Gymnasium's (FrozenLake,
CliffWalking, Blackjack), the Env API (spaces, seeding, terminated vs truncated), and that DiscreteMDPEnv
samples its MDP."""

import numpy as np
import pytest

import minirl.envs as envs
from minirl.envs import check_env
from minirl.envs.toy_text import DiscreteMDPEnv
from minirl.tabular.mdp import MDP, random_mdp

gym_toy_text = pytest.importorskip("gymnasium.envs.toy_text")

TOY_TEXT_IDS = ["FrozenLake-v1", "FrozenLake8x8-v1", "CliffWalking-v0", "CliffWalking-v1", "CliffWalkingSlippery-v1",
                "Blackjack-v1", "StudentMRP-v0", "StudentMDP-v0", "GridWorld4x4-v0", "GridWorld5x5-v0",
                "WindyGridworld-v0", "DynaMaze-v0", "RandomWalk-v0", "RandomWalk19-v0", "GamblersProblem-v0",
                "JacksCarRental-v0", "MaximizationBias-v0", "ShortCorridor-v0"]


def _gym_outcomes(gym_env, s, a):
    return [(p, int(s_next), float(r), bool(t)) for p, s_next, r, t in gym_env.P[s][a]]


def _our_outcomes(mdp, s, a):
    probs, next_states, rewards = (table[s, a] for table in mdp.outcomes)
    return [(p, int(s_next), float(r), bool(mdp.terminal[s_next]))
            for p, s_next, r in zip(probs, next_states, rewards) if p > 0]


@pytest.mark.parametrize("kwargs", [dict(map_name="4x4"), dict(map_name="8x8"), dict(map_name="4x4", is_slippery=False),
                                    dict(map_name="4x4", success_rate=0.6, reward_schedule=(2, -1, -0.01))])
def test_frozen_lake_outcomes_equal_gymnasiums_p(kwargs):
    ours = envs.make("FrozenLake-v1", **kwargs).unwrapped.mdp
    theirs = gym_toy_text.FrozenLakeEnv(**kwargs)
    for s in range(ours.num_states):
        for a in range(4):
            assert _our_outcomes(ours, s, a) == _gym_outcomes(theirs, s, a), (s, a)


@pytest.mark.parametrize("is_slippery", [False, True])
def test_cliff_walking_outcomes_equal_gymnasiums_p_except_from_the_goal(is_slippery):
    ours = envs.make("CliffWalking-v1", is_slippery=is_slippery).unwrapped.mdp
    theirs = gym_toy_text.CliffWalkingEnv(is_slippery=is_slippery)
    for s in range(47):  # Gymnasium lists moves out of the goal too; our goal is absorbing (episodes end there)
        for a in range(4):
            assert _our_outcomes(ours, s, a) == _gym_outcomes(theirs, s, a), (s, a)
    # stepping into the cliff: -100, back to the start, and the episode goes on (Gymnasium 1.x)
    assert _our_outcomes(ours, 36, 1)[0 if not is_slippery else 1] == (1.0 if not is_slippery else 1 / 3, 36,
                                                                       -100.0, False)


def _play(env, seed, actions):
    """Observations, rewards and flags of `actions` from reset(seed), resetting (unseeded) after each episode."""
    record = [env.reset(seed=seed)[0]]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(int(a))
        record.append((obs, float(reward), terminated))
        if terminated:
            record.append(env.reset()[0])
    return record


@pytest.mark.parametrize("make_ours, make_theirs", [
    (lambda: envs.make("FrozenLake-v1").unwrapped, lambda: gym_toy_text.FrozenLakeEnv()),
    (lambda: envs.make("FrozenLake8x8-v1").unwrapped, lambda: gym_toy_text.FrozenLakeEnv(map_name="8x8")),
    (lambda: envs.make("CliffWalkingSlippery-v1").unwrapped,
     lambda: gym_toy_text.CliffWalkingEnv(is_slippery=True)),
    (lambda: envs.make("Blackjack-v1").unwrapped, lambda: gym_toy_text.BlackjackEnv(sab=True)),
    (lambda: envs.make("Blackjack-v1", sab=False, natural=True).unwrapped,
     lambda: gym_toy_text.BlackjackEnv(natural=True)),
])
@pytest.mark.parametrize("seed", [0, 7])
def test_seeded_trajectories_equal_gymnasiums(make_ours, make_theirs, seed):
    ours, theirs = make_ours(), make_theirs()
    actions = np.random.default_rng(seed).integers(ours.action_space.n, size=300)
    assert _play(ours, seed, actions) == _play(theirs, seed, actions)


def test_blackjack_observations_and_rules():
    env = envs.make("Blackjack-v1")
    assert env.observation_space == envs.spaces.Tuple((envs.spaces.Discrete(32), envs.spaces.Discrete(11),
                                                       envs.spaces.Discrete(2)))
    rewards = []
    for seed in range(300):
        obs, _ = env.reset(seed=seed)
        assert obs in env.observation_space and 4 <= obs[0] <= 21 and 1 <= obs[1] <= 10
        terminated = False
        while not terminated:
            obs, reward, terminated, truncated, _ = env.step(int(obs[0] < 17))  # hit below 17
            assert obs in env.observation_space and not truncated
        rewards.append(reward)
    assert set(rewards) <= {-1.0, 0.0, 1.0} and -0.3 < np.mean(rewards) < 0.0  # the house keeps an edge
    with pytest.raises(RuntimeError, match="reset"):
        envs.make("Blackjack-v1").step(0)


@pytest.mark.parametrize("env_id", TOY_TEXT_IDS)
def test_env_api(env_id):
    env = envs.make(env_id)
    check_env(env)
    obs, info = env.reset(seed=3)
    assert obs in env.observation_space
    first = [env.step(a) for a in [0] * 5]
    env.reset(seed=3)
    assert [env.step(a)[:4] for a in [0] * 5] == [step[:4] for step in first]  # reproducible from a seed
    model = getattr(env.unwrapped, "mdp", None)
    if env_id != "Blackjack-v1":
        assert model.num_actions == env.action_space.n
        if env_id != "ShortCorridor-v0":  # whose observations hide the state
            assert model.num_states == env.observation_space.n


def test_terminated_is_reaching_a_terminal_state_and_truncated_is_the_time_limit():
    env = envs.make("FrozenLake-v1", is_slippery=False)
    env.reset(seed=0)
    for a in [1, 1, 2, 2, 1, 2]:  # down, down, right, right, down, right: S -> G
        obs, reward, terminated, truncated, _ = env.step(a)
    assert (obs, reward, terminated, truncated) == (15, 1.0, True, False)
    env.reset(seed=0)
    for _ in range(100):  # walking into the left wall forever
        obs, reward, terminated, truncated, _ = env.step(0)
    assert (obs, terminated, truncated) == (0, False, True)
    assert envs.spec("FrozenLake-v1").max_episode_steps == 100
    assert envs.spec("FrozenLake8x8-v1").max_episode_steps == 200


def test_cliff_does_not_end_the_episode():
    env = envs.make("CliffWalking-v0")
    env.reset(seed=0)
    assert env.step(1)[:4] == (36, -100.0, False, False)  # right from the start: into the cliff and back
    for a in [0] + [1] * 11 + [2]:
        obs, reward, terminated, truncated, _ = env.step(a)
    assert (obs, reward, terminated) == (47, -1.0, True)


def test_discrete_mdp_env_samples_its_model():
    mdp = random_mdp(4, 2, seed=5, reward_depends_on_next_state=True)
    env = DiscreteMDPEnv(mdp)
    env.reset(seed=0)
    counts, rewards = np.zeros(4), []
    for _ in range(4000):
        env.reset(options={"state": 2})
        s_next, reward, *_ = env.step(1)
        counts[s_next] += 1
        rewards.append(reward)
    np.testing.assert_allclose(counts / counts.sum(), mdp.P[2, 1], atol=0.03)
    assert np.mean(rewards) == pytest.approx(mdp.expected_reward[2, 1], abs=0.05)
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(2)
    with pytest.raises(ValueError, match=r"options\['state'\]"):
        env.reset(options={"state": 9})


def test_discrete_mdp_env_starts_from_the_initial_distribution_and_ends_in_terminal_states():
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 2] = 1.0
    P[2, 0, 2] = 1.0
    env = DiscreteMDPEnv(MDP(P, np.ones((3, 1)), 1.0, terminal_states=[2], initial_distribution=[1, 0, 0]))
    assert env.reset(seed=0)[0] == 0
    assert env.step(0)[:4] == (1, 1.0, False, False)
    assert env.step(0)[:4] == (2, 1.0, True, False)


def test_maximization_bias_rewards_from_b_are_noisy_around_the_mean():
    env = envs.make("MaximizationBias-v0")
    env.reset(seed=0)
    rewards = []
    for _ in range(2000):
        env.reset()
        assert env.step(0)[:3] == (1, 0.0, False)  # even action in A: left to B
        s, reward, terminated, *_ = env.step(3)
        assert s == 2 and terminated
        rewards.append(reward)
    assert np.mean(rewards) == pytest.approx(-0.1, abs=0.07) and np.std(rewards) == pytest.approx(1.0, abs=0.07)


def test_short_corridor_hides_the_state():
    env = envs.make("ShortCorridor-v0")
    obs, info = env.reset(seed=0)
    assert obs == 0 and info["state"] == 0 and env.observation_space.n == 1
    obs, reward, terminated, _, info = env.step(1)  # right from the first state
    assert (obs, reward, terminated, info["state"]) == (0, -1.0, False, 1)
    assert env.step(1)[4]["state"] == 0  # in the second state right goes left
