"""Our classic-control envs against Gymnasium's: same seed and actions -> same trajectory (to 1e-6).

Random actions end CartPole quickly and almost never reach MountainCar's goal, so each test mixes random actions
with a simple controller (balance the pole, pump energy into the car or the acrobot); hypothesis chooses the mix,
so episodes end by termination and by truncation, and are followed by reset() (the continued generator) or by
reset(seed=...).
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minirl.envs as envs
from minirl.envs.spaces import Box

gym = pytest.importorskip("gymnasium")

ENV_IDS = ["CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "Acrobot-v1"]
TIME_LIMITS = {"CartPole-v1": 500, "MountainCar-v0": 200, "MountainCarContinuous-v0": 999, "Pendulum-v1": 200,
               "Acrobot-v1": 500}
# Gymnasium squares Pendulum's float32 torque as a NumPy scalar, whose last bit differs from the array square in
# ~0.1% of cases: rewards then differ by ~1e-10, far below the tolerance
ATOL = 1e-6


def controller(env_id, obs):
    """A policy that reaches the interesting ends of each task (long balancing, the goal)."""
    if env_id == "CartPole-v1":
        return int(obs[2] + 0.5 * obs[3] > 0)
    if env_id == "MountainCar-v0":
        return 2 if obs[1] >= 0 else 0
    if env_id == "MountainCarContinuous-v0":
        return np.array([1.0 if obs[1] >= 0 else -1.0], dtype=np.float32)
    if env_id == "Pendulum-v1":
        return np.array([-2.0 * obs[2]], dtype=np.float32)
    return 2 if obs[5] > 0 else 0  # Acrobot: torque along the second link's motion pumps energy in


def random_action(space, rng):
    if isinstance(space, Box):  # beyond the bounds too, to test clipping
        return rng.uniform(1.3 * space.low, 1.3 * space.high).astype(np.float32)
    return int(rng.integers(space.n))


def assert_same_step(ours, theirs, where):
    obs, reward, terminated, truncated, info = ours
    g_obs, g_reward, g_terminated, g_truncated, _ = theirs
    assert obs.dtype == g_obs.dtype and obs.shape == g_obs.shape, where
    np.testing.assert_allclose(obs, g_obs, rtol=0, atol=ATOL, err_msg=where)
    assert abs(reward - float(g_reward)) <= ATOL, (where, reward, g_reward)
    assert (terminated, truncated) == (bool(g_terminated), bool(g_truncated)), where
    assert isinstance(info, dict)


def run_side_by_side(env_id, env_seed, action_seed, randomness, steps, our_kwargs=None, setup_gym=None):
    ours, theirs = envs.make(env_id, **(our_kwargs or {})), gym.make(env_id)
    if setup_gym is not None:
        setup_gym(theirs.unwrapped)
    rng = np.random.default_rng(action_seed)
    obs, _ = ours.reset(seed=env_seed)
    g_obs, _ = theirs.reset(seed=env_seed)
    np.testing.assert_allclose(obs, g_obs, rtol=0, atol=ATOL)
    endings = []
    for t in range(steps):
        action = random_action(ours.action_space, rng) if rng.random() < randomness else controller(env_id, obs)
        out, g_out = ours.step(action), theirs.step(action)
        assert_same_step(out, g_out, f"{env_id} step {t}")
        obs = out[0]
        if out[2] or out[3]:
            endings.append("terminated" if out[2] else "truncated")
            seed = int(rng.integers(2**31)) if rng.random() < 0.3 else None  # None: the continued generator
            obs, _ = ours.reset(seed=seed)
            g_obs, _ = theirs.reset(seed=seed)
            np.testing.assert_allclose(obs, g_obs, rtol=0, atol=ATOL, err_msg=f"{env_id} reset after step {t}")
    return endings


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=max(4, settings.default.max_examples // 2))
@given(
    env_seed=st.integers(0, 2**32 - 1),
    action_seed=st.integers(0, 2**32 - 1),
    randomness=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
    steps=st.integers(1, 1100),
)
def test_trajectory_equals_gymnasium(env_id, env_seed, action_seed, randomness, steps):
    run_side_by_side(env_id, env_seed, action_seed, randomness, steps)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_episodes_end_by_termination_and_truncation(env_id):
    """The fixed runs above cover both kinds of ending for every env (the hypothesis runs vary around them)."""
    endings = set()
    for randomness in (0.0, 0.05, 1.0):
        endings |= set(run_side_by_side(env_id, 7, 11, randomness, 1100))
    expected = {"truncated"} if env_id == "Pendulum-v1" else {"terminated", "truncated"}
    assert endings == expected


@pytest.mark.parametrize(
    "env_id, kwargs, options",
    [
        ("CartPole-v1", {"sutton_barto_reward": True}, {"low": -0.2, "high": 0.2}),
        ("MountainCar-v0", {"goal_velocity": 0.01}, {"low": -1.0, "high": -0.2}),
        ("MountainCarContinuous-v0", {"goal_velocity": 0.02}, {"low": -0.9}),
        ("Pendulum-v1", {"g": 9.81}, {"x_init": 0.5, "y_init": 0.25}),
        ("Acrobot-v1", {}, {"low": -0.3, "high": 0.3}),
    ],
)
def test_constructor_options_and_reset_bounds(env_id, kwargs, options):
    ours, theirs = envs.make(env_id, **kwargs), gym.make(env_id, **kwargs)
    rng = np.random.default_rng(0)
    for episode in range(3):
        obs, _ = ours.reset(seed=episode, options=options)
        g_obs, _ = theirs.reset(seed=episode, options=options)
        np.testing.assert_allclose(obs, g_obs, rtol=0, atol=ATOL)
        for t in range(TIME_LIMITS[env_id]):
            action = random_action(ours.action_space, rng) if rng.random() < 0.2 else controller(env_id, obs)
            out = ours.step(action)
            assert_same_step(out, theirs.step(action), f"{env_id} {kwargs} step {t}")
            obs = out[0]
            if out[2] or out[3]:
                break


def test_acrobot_nips_dynamics():
    """Gymnasium selects the 1996 paper's equations with a class attribute; ours takes a keyword."""
    def nips(env):
        env.book_or_nips = "nips"

    run_side_by_side("Acrobot-v1", 3, 4, 0.5, 500, our_kwargs={"book_or_nips": "nips"}, setup_gym=nips)
    book, paper = envs.make("Acrobot-v1"), envs.make("Acrobot-v1", book_or_nips="nips")
    book.reset(seed=0), paper.reset(seed=0)
    for _ in range(20):
        a, b = book.step(2)[0], paper.step(2)[0]
    assert not np.allclose(a, b)


def test_time_limits_and_spaces_match_gymnasium():
    for env_id in ENV_IDS:
        ours, theirs = envs.make(env_id), gym.make(env_id)
        assert ours.spec.max_episode_steps == TIME_LIMITS[env_id] == theirs.spec.max_episode_steps
        assert ours.spec.reward_threshold == theirs.spec.reward_threshold
        for mine, their in ((ours.observation_space, theirs.observation_space),
                            (ours.action_space, theirs.action_space)):
            assert mine.shape == their.shape and mine.dtype == their.dtype
            if isinstance(mine, Box):
                np.testing.assert_array_equal(mine.low, their.low)
                np.testing.assert_array_equal(mine.high, their.high)
            else:
                assert mine.n == their.n


def test_cartpole_steps_after_termination_give_zero_reward_and_warn():
    ours, theirs = envs.make("CartPole-v1").unwrapped, gym.make("CartPole-v1").unwrapped
    ours.reset(seed=1), theirs.reset(seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(30):  # always pushing right topples the pole
            out, g_out = ours.step(1), theirs.step(1)
            assert_same_step(out, g_out, "")
            if out[2]:
                break
    with pytest.warns(UserWarning, match="reset"):
        out = ours.step(1)
    assert out[1] == 0.0 and out[2]


def test_continued_generator_after_seeded_reset():
    """reset(seed=s) then reset() gives the same sequence of initial states as Gymnasium's."""
    for env_id in ENV_IDS:
        ours, theirs = envs.make(env_id), gym.make(env_id)
        for seed in (0, 123, None):
            obs, g_obs = ours.reset(seed=seed)[0], theirs.reset(seed=seed)[0]
            if seed is not None:
                np.testing.assert_allclose(obs, g_obs, rtol=0, atol=ATOL)
            ours.np_random.bit_generator.state = theirs.unwrapped.np_random.bit_generator.state
            for _ in range(3):
                np.testing.assert_allclose(ours.reset()[0], theirs.reset()[0], rtol=0, atol=ATOL)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_actions_and_order_give_clear_errors(env_id):
    env = envs.make(env_id)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    env.reset(seed=0)
    bad = 7 if not isinstance(env.action_space, Box) else np.zeros(3, dtype=np.float32)
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    with pytest.raises(NotImplementedError, match="render"):
        envs.make(env_id, render_mode="rgb_array")
    with pytest.raises(ValueError):
        env.reset(seed=-1)
