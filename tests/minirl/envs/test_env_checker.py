"""check_env passes on our environments and names what is wrong with deliberately broken ones."""

import numpy as np
import pytest

import minirl.envs as envs
from minirl.envs import EnvCheckError, check_env, spaces
from minirl.envs.core import Env
from minirl.envs.vector import VectorEnv

CLASSIC = ["CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "Acrobot-v1"]


@pytest.mark.parametrize("env_id", CLASSIC)
def test_our_envs_pass(env_id):
    check_env(envs.make(env_id))
    check_env(envs.make_vec(env_id, 3, max_episode_steps=10))
    check_env(envs.make_vec(env_id, 2, vectorization_mode="sync", max_episode_steps=10))


class Walk(Env):
    """A correct random walk on 0..4 (ends at either side), to be broken in the subclasses below."""

    def __init__(self):
        self.observation_space = spaces.Box(0.0, 4.0, shape=(1,))
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 2.0
        return np.array([self.position], dtype=np.float32), {}

    def step(self, action):
        self.position += 1.0 if action == 1 else -1.0
        self.position += float(self.noise())
        self.position = float(np.clip(self.position, 0.0, 4.0))
        done = self.position in (0.0, 4.0)
        return np.array([self.position], dtype=np.float32), -1.0, done, False, {}

    def noise(self):
        return 0.1 * self.np_random.random()


class OldGymApi(Walk):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated or truncated, info


class Float64Observations(Walk):
    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        return obs.astype(np.float64), info


class WrongShape(Walk):
    def step(self, action):
        obs, *rest = super().step(action)
        return (np.array([obs[0], 0.0], dtype=np.float32), *rest)


class OutOfBounds(Walk):
    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        return obs + 10, info


class GlobalRandomness(Walk):
    def noise(self):
        return 0.1 * np.random.random()  # not self.np_random: seeding cannot reproduce it


class BadTypes(Walk):
    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        return obs, np.array([reward]), int(terminated), truncated, info


class ResetReturnsObsOnly(Walk):
    def reset(self, *, seed=None, options=None):
        return super().reset(seed=seed, options=options)[0]


class NoSpaces(Walk):
    def __init__(self):
        super().__init__()
        self.observation_space = (0, 4)


def test_correct_env_passes():
    check_env(Walk())


@pytest.mark.parametrize(
    "broken, message",
    [
        (OldGymApi, "old Gym API"),
        (Float64Observations, "dtype is float64"),
        (WrongShape, r"shape is \(2,\)"),
        (OutOfBounds, "outside"),
        (GlobalRandomness, "not deterministic"),
        (BadTypes, "reward must be a real number"),
        (ResetReturnsObsOnly, r"must return a tuple \(obs, info\)"),
        (NoSpaces, "observation_space must be a minirl.envs.spaces.Space"),
    ],
)
def test_broken_envs_are_reported(broken, message):
    with pytest.raises(EnvCheckError, match=message):
        check_env(broken())


def test_all_problems_are_listed_once():
    class TwoProblems(BadTypes):
        def noise(self):
            return 0.1 * np.random.random()

    with pytest.raises(EnvCheckError) as error:
        check_env(TwoProblems())
    text = str(error.value)
    assert "reward must be" in text and "terminated must be a bool" in text and "not deterministic" in text
    assert text.count("reward must be") == 1 and "3 problem(s)" in text


class VectorWithoutFinalObs(VectorEnv):
    """Two copies of Walk that forget to report final observations."""

    def __init__(self):
        self.num_envs = 2
        self.copies = [Walk(), Walk()]
        self.single_observation_space, self.single_action_space = Walk().observation_space, Walk().action_space
        self.observation_space = spaces.batch_space(self.single_observation_space, 2)
        self.action_space = spaces.batch_space(self.single_action_space, 2)

    def reset(self, *, seed=None, options=None):
        obs = [c.reset(seed=s)[0] for c, s in zip(self.copies, self.copy_seeds(seed))]
        return np.stack(obs), {}

    def step(self, actions):
        results = [c.step(a) for c, a in zip(self.copies, actions)]
        obs = [c.reset()[0] if r[2] else r[0] for c, r in zip(self.copies, results)]
        return (np.stack(obs), np.array([r[1] for r in results]), np.array([r[2] for r in results]),
                np.zeros(2, dtype=bool), {})


def test_vector_env_without_final_obs_is_reported():
    with pytest.raises(EnvCheckError, match="final_obs"):
        check_env(VectorWithoutFinalObs(), steps=60)


def test_every_registered_env_passes():
    """All of the registry (the tabular envs included), single and as a SyncVectorEnv."""
    for env_id in envs.list():
        check_env(envs.make(env_id))
        check_env(envs.make_vec(env_id, 2, vectorization_mode="sync"), steps=10)
