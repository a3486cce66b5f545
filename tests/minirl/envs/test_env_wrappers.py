"""Wrappers on single and vector envs: running statistics equal NumPy's over all data seen, frozen statistics
stay put, state round trips, episode statistics, clipping, frame stacking, transforms, time limits."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minirl.envs as envs
from minirl.envs.wrappers import (
    ClipAction,
    FrameStackObservation,
    NormalizeObservation,
    NormalizeReward,
    RecordEpisodeStatistics,
    RunningMeanStd,
    TimeLimit,
    TransformObservation,
    TransformReward,
    Wrapper,
)


class Recorder(Wrapper):
    """Remembers what the wrapped env returned, to compare a wrapper's statistics against."""

    def __init__(self, env):
        super().__init__(env)
        self.observations, self.rewards, self.actions, self.dones = [], [], [], []

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.observations.append(np.array(obs, ndmin=2 if self.is_vector_env else 1))
        return obs, info

    def step(self, action):
        self.actions.append(np.array(action))
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.observations.append(np.array(obs))
        self.rewards.append(np.array(reward, ndmin=1))
        self.dones.append(np.array(np.logical_or(terminated, truncated), ndmin=1))
        return obs, reward, terminated, truncated, info


batches = st.lists(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)),
               elements=st.floats(-1e3, 1e3, allow_nan=False)),
    min_size=1, max_size=8,
)


@given(batches)
def test_running_mean_std_equals_numpy_over_all_data(data):
    rms = RunningMeanStd(shape=(3,))
    for batch in data:
        rms.update(batch)
    everything = np.concatenate(data)
    np.testing.assert_allclose(rms.mean, everything.mean(axis=0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rms.var, everything.var(axis=0), rtol=1e-7, atol=1e-7)
    assert rms.count == len(everything)


@pytest.mark.parametrize("vector", [False, True])
def test_normalize_observation_statistics_freeze_and_state(vector):
    inner = envs.make_vec("CartPole-v1", 4) if vector else envs.make("CartPole-v1")
    recorder = Recorder(inner)
    env = NormalizeObservation(recorder)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.dtype == np.float32 and not env.observation_space.is_bounded()
    rng = np.random.default_rng(0)
    for _ in range(150):
        action = rng.integers(0, 2, 4) if vector else int(rng.integers(2))
        obs, _, terminated, truncated, info = env.step(action)
        if not vector and (terminated or truncated):
            env.reset()
    seen = np.concatenate([np.atleast_2d(o) for o in recorder.observations]).astype(np.float64)
    np.testing.assert_allclose(env.obs_rms.mean, seen.mean(axis=0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(env.obs_rms.var, seen.var(axis=0), rtol=1e-7, atol=1e-12)
    expected = (recorder.observations[-1] - seen.mean(axis=0)) / np.sqrt(seen.var(axis=0) + 1e-8)
    np.testing.assert_allclose(obs, expected, rtol=1e-5, atol=1e-5)

    saved = env.state_dict()
    env.update_running_mean = False  # evaluation: frozen statistics
    for _ in range(20):
        _, _, terminated, truncated, _ = env.step(np.zeros(4, dtype=np.int64) if vector else 0)
        if not vector and (terminated or truncated):
            env.reset()
    np.testing.assert_array_equal(env.obs_rms.mean, saved["mean"])
    assert env.obs_rms.count == saved["count"]

    restored = NormalizeObservation(envs.make_vec("CartPole-v1", 4) if vector else envs.make("CartPole-v1"),
                                    update_running_mean=False)
    restored.load_state_dict(saved)
    a, _ = restored.reset(seed=3)
    b = env.normalize(restored.env.reset(seed=3)[0])
    np.testing.assert_array_equal(a, b)


def test_normalize_observation_normalizes_final_obs_of_vector_envs():
    raw_final = []

    class Peek(Wrapper):
        def step(self, action):
            out = self.env.step(action)
            raw_final.append(out[4].get("final_obs"))
            return out

    env = NormalizeObservation(Peek(envs.make_vec("CartPole-v1", 3)))
    env.reset(seed=1)
    for _ in range(100):
        info = env.step(np.ones(3, dtype=np.int64))[4]
        if "final_obs" in info:
            np.testing.assert_allclose(info["final_obs"], env.normalize(raw_final[-1]), rtol=1e-6)
            return
    pytest.fail("no episode ended")


@pytest.mark.parametrize("vector", [False, True])
def test_normalize_reward_uses_the_std_of_discounted_returns(vector):
    gamma = 0.9
    inner = envs.make_vec("Pendulum-v1", 3, max_episode_steps=30) if vector else envs.make(
        "Pendulum-v1", max_episode_steps=30)
    recorder = Recorder(inner)
    env = NormalizeReward(recorder, gamma=gamma)
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(100):
        action = rng.uniform(-2, 2, (3, 1) if vector else (1,)).astype(np.float32)
        _, reward, terminated, truncated, _ = env.step(action)
        if not vector and (terminated or truncated):
            env.reset()
    returns, g = [], np.zeros(len(recorder.rewards[0]))
    for r, done in zip(recorder.rewards, recorder.dones):
        g = gamma * g + r
        returns.append(g.copy())
        g[done] = 0.0
    returns = np.concatenate(returns)
    np.testing.assert_allclose(env.return_rms.var, returns.var(), rtol=1e-7)
    np.testing.assert_allclose(reward, recorder.rewards[-1][0 if not vector else slice(None)] /
                               np.sqrt(returns.var() + 1e-8), rtol=1e-6)
    frozen = env.state_dict()
    env.update_running_mean = False
    env.step(np.zeros((3, 1) if vector else (1,), dtype=np.float32))
    assert env.return_rms.state_dict()["var"] == frozen["var"]


@pytest.mark.parametrize("vector", [False, True])
def test_record_episode_statistics(vector):
    inner = envs.make_vec("CartPole-v1", 3) if vector else envs.make("CartPole-v1")
    recorder = Recorder(inner)
    env = RecordEpisodeStatistics(recorder)
    env.reset(seed=0)
    n = 3 if vector else 1
    returns, lengths, episodes = np.zeros(n), np.zeros(n, dtype=int), []
    rng = np.random.default_rng(0)
    for _ in range(200):
        action = rng.integers(0, 2, 3) if vector else int(rng.integers(2))
        _, reward, terminated, truncated, info = env.step(action)
        returns += reward
        lengths += 1
        done = np.atleast_1d(np.logical_or(terminated, truncated))
        if done.any():
            stats = info["episode"]
            if vector:
                np.testing.assert_array_equal(info["_episode"], done)
                np.testing.assert_array_equal(stats["r"][done], returns[done])
                np.testing.assert_array_equal(stats["l"][done], lengths[done])
                assert np.all(stats["t"][done] >= 0)
            else:
                assert stats["r"] == returns[0] and stats["l"] == lengths[0] and stats["t"] >= 0
                env.reset()
            episodes.extend(returns[done].tolist())
            returns[done], lengths[done] = 0, 0
        else:
            assert "episode" not in info
    assert list(env.return_queue) == episodes[-100:] and env.episode_count == len(episodes) > 5


def test_clip_action_single_and_vector():
    recorder = Recorder(envs.make("Pendulum-v1"))
    env = ClipAction(recorder)
    assert not env.action_space.is_bounded() and env.action_space.shape == (1,)
    env.reset(seed=0)
    env.step(np.array([5.0], dtype=np.float32))
    assert recorder.actions[-1].tolist() == [2.0]
    vec_recorder = Recorder(envs.make_vec("Pendulum-v1", 2))
    vec = ClipAction(vec_recorder)
    assert vec.single_action_space.shape == (1,) and vec.action_space.shape == (2, 1)
    vec.reset(seed=0)
    vec.step(np.array([[-9.0], [0.5]], dtype=np.float32))
    np.testing.assert_array_equal(vec_recorder.actions[-1], [[-2.0], [0.5]])
    with pytest.raises(TypeError, match="Box"):
        ClipAction(envs.make("CartPole-v1"))


def test_frame_stack_single():
    env = FrameStackObservation(envs.make("CartPole-v1"), 3)
    assert env.observation_space.shape == (3, 4)
    first, _ = env.reset(seed=0)
    assert all(np.array_equal(first[k], first[2]) for k in range(3))  # "reset" padding
    second, *_ = env.step(0)
    np.testing.assert_array_equal(second[:2], first[1:])
    assert second in env.observation_space
    zero = FrameStackObservation(envs.make("CartPole-v1"), 3, padding_type="zero")
    obs, _ = zero.reset(seed=0)
    assert not obs[:2].any() and np.array_equal(obs[2], first[2])
    with pytest.raises(ValueError):
        FrameStackObservation(envs.make("CartPole-v1"), 0)


def test_frame_stack_vector_final_obs():
    vec = FrameStackObservation(envs.make_vec("CartPole-v1", 2), 4)
    assert vec.single_observation_space.shape == (4, 4) and vec.observation_space.shape == (2, 4, 4)
    stacks, _ = vec.reset(seed=0)
    for _ in range(100):
        previous = stacks
        stacks, _, terminated, truncated, info = vec.step(np.array([1, 1]))
        if "final_obs" in info:
            i = int(np.flatnonzero(info["_final_obs"])[0])
            np.testing.assert_array_equal(info["final_obs"][i][:3], previous[i][1:])
            assert all(np.array_equal(stacks[i][k], stacks[i][3]) for k in range(4))  # restarted
            return
    pytest.fail("no episode ended")


def test_transforms_and_time_limit():
    env = TransformReward(TransformObservation(envs.make("CartPole-v1"), lambda o: 2 * o), lambda r: 0.5 * r)
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, 2 * envs.make("CartPole-v1").reset(seed=0)[0])
    assert env.step(0)[1] == 0.5
    limited = TimeLimit(envs.make("Pendulum-v1").unwrapped, 3)
    limited.reset(seed=0)
    flags = [limited.step(np.zeros(1, dtype=np.float32))[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(TypeError, match="vector"):
        TimeLimit(envs.make_vec("CartPole-v1", 2), 10)
    with pytest.raises(AttributeError, match="private"):
        _ = limited._state


def test_the_normalizers_that_ppo_and_the_wrappers_share():
    from minirl.algos import PPO
    from minirl.envs.wrappers.normalize import ObservationNormalizer, ReturnScaler

    rng = np.random.default_rng(0)
    normalizer = ObservationNormalizer((3,), clip=2.0)
    batch = rng.normal(5.0, 3.0, size=(100, 3))
    normalizer.update(batch)
    z = (batch - batch.mean(axis=0)) / np.sqrt(batch.var(axis=0) + 1e-8)
    np.testing.assert_allclose(normalizer(batch), np.clip(z, -2.0, 2.0), rtol=1e-5, atol=1e-6)
    assert normalizer(batch).dtype == np.float32 and np.abs(normalizer(batch)).max() <= 2.0

    scaler, returns, seen = ReturnScaler(2, gamma=0.9), np.zeros(2), []
    for t in range(20):  # copy 0's episode ends every 5 steps, copy 1's never
        rewards, done = rng.normal(size=2), np.array([t % 5 == 4, False])
        returns = 0.9 * returns + rewards
        seen.append(returns.copy())
        np.testing.assert_allclose(scaler(rewards, done), rewards / np.sqrt(np.var(seen) + 1e-8))
        returns[done] = 0.0

    agent = PPO("Pendulum-v1", seed=0, num_envs=2, num_steps=8)  # its table normalizes both
    assert isinstance(agent.obs_normalizer, ObservationNormalizer) and agent.obs_normalizer.clip == 10.0
    assert isinstance(agent.reward_scaler, ReturnScaler) and agent.reward_scaler.gamma == agent.hp["gamma"]
