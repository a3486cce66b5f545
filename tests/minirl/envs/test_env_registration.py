"""The registry: make, make_vec, list, clear errors for unknown ids."""

import pytest

import minirl.envs as envs
from minirl.envs import UnknownEnvironmentError
from minirl.envs.classic_control import CartPoleEnv, CartPoleVectorEnv
from minirl.envs.vector import SyncVectorEnv
from minirl.envs.wrappers import TimeLimit

CLASSIC = ["Acrobot-v1", "CartPole-v0", "CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]


def test_list_holds_the_classic_control_ids():
    ids = envs.list()
    assert ids == sorted(ids) and set(CLASSIC) <= set(ids)


def test_unknown_id_lists_known_ones_and_suggests():
    with pytest.raises(UnknownEnvironmentError) as error:
        envs.make("CartPole-v9")
    message = str(error.value)
    assert "'CartPole-v9'" in message and "Did you mean 'CartPole-v1'" in message
    assert all(env_id in message for env_id in CLASSIC)
    with pytest.raises(KeyError):  # still a KeyError for code that expects one
        envs.make_vec("NoSuchEnv-v0", 2)


def test_make_applies_time_limit_and_kwargs():
    env = envs.make("CartPole-v1", sutton_barto_reward=True)
    assert isinstance(env, TimeLimit) and env.max_episode_steps == 500
    assert isinstance(env.unwrapped, CartPoleEnv) and env.unwrapped.physics.sutton_barto_reward
    assert env.spec.id == "CartPole-v1" and str(env) == "<TimeLimit<CartPole-v1>>"
    assert envs.make("CartPole-v0").max_episode_steps == 200
    assert envs.make("CartPole-v1", max_episode_steps=7).max_episode_steps == 7
    with pytest.raises(TypeError):
        envs.make("CartPole-v1", no_such_option=1)


def test_make_vec_modes():
    fast = envs.make_vec("CartPole-v1", 3)
    assert isinstance(fast, CartPoleVectorEnv) and fast.max_episode_steps == 500 and fast.spec.id == "CartPole-v1"
    slow = envs.make_vec("CartPole-v1", 3, vectorization_mode="sync", max_episode_steps=9)
    assert isinstance(slow, SyncVectorEnv) and slow.envs[0].max_episode_steps == 9
    assert envs.make_vec("Acrobot-v1", 2, book_or_nips="nips").physics.book_or_nips == "nips"


def test_register_and_duplicates():
    envs.register("TestOnlyCartPole-v0", CartPoleEnv, max_episode_steps=3, sutton_barto_reward=True)
    try:
        env = envs.make("TestOnlyCartPole-v0")
        assert env.max_episode_steps == 3 and env.unwrapped.physics.sutton_barto_reward
        # no vectorized implementation registered: make_vec falls back to SyncVectorEnv
        assert isinstance(envs.make_vec("TestOnlyCartPole-v0", 2), SyncVectorEnv)
        with pytest.raises(ValueError, match="no vectorized implementation"):
            envs.make_vec("TestOnlyCartPole-v0", 2, vectorization_mode="vector_entry_point")
        with pytest.raises(ValueError, match="already registered"):
            envs.register("TestOnlyCartPole-v0", CartPoleEnv)
    finally:
        del envs.registry["TestOnlyCartPole-v0"]
