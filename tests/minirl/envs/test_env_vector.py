"""Vector envs: vectorized copies equal single envs (and Gymnasium's SyncVectorEnv in same-step mode), the
same-step autoreset and final_obs convention, per-copy seeds and time limits, SyncVectorEnv for any env."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minirl.envs as envs
from minirl.envs import spaces
from minirl.envs.core import Env
from minirl.envs.vector import SyncVectorEnv, VectorizedEnv, batch_infos

ENV_IDS = ["CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "Acrobot-v1"]
ATOL = 1e-6  # see test_env_classic_control: Pendulum's rewards differ from Gymnasium's by ~1e-10


def random_actions(space, rng):
    if isinstance(space, spaces.Box):
        return rng.uniform(1.3 * space.low, 1.3 * space.high).astype(np.float32)
    return rng.integers(space.start, space.start + space.nvec).astype(np.int64)


def assert_same_vector_step(a, b, where, final_obs_as_object=False):
    for x, y, name in zip(a[:4], b[:4], ("obs", "rewards", "terminations", "truncations")):
        np.testing.assert_allclose(x, y, rtol=0, atol=ATOL, err_msg=f"{where}: {name}")
    ended = a[2] | a[3]
    assert ("final_obs" in a[4]) == bool(ended.any()) == ("final_obs" in b[4]), where
    if ended.any():
        np.testing.assert_array_equal(a[4]["_final_obs"], ended)
        np.testing.assert_array_equal(b[4]["_final_obs"], ended)
        theirs = b[4]["final_obs"]
        if final_obs_as_object:  # Gymnasium: an object array, None where no episode ended
            theirs = np.where(ended[:, None], np.stack([f if e else o for f, o, e in zip(theirs, a[0], ended)]), a[0])
        np.testing.assert_allclose(a[4]["final_obs"], theirs, rtol=0, atol=ATOL, err_msg=f"{where}: final_obs")


@pytest.mark.parametrize("env_id", ENV_IDS)
@settings(max_examples=max(3, settings.default.max_examples // 4))
@given(seed=st.integers(0, 2**31), num_envs=st.integers(1, 7), limit=st.integers(1, 60), steps=st.integers(1, 150))
def test_vectorized_copies_equal_single_envs(env_id, seed, num_envs, limit, steps):
    """Copy i of the vectorized env follows a single env seeded with seed + i, autoresets included."""
    vectorized = envs.make_vec(env_id, num_envs, max_episode_steps=limit)
    singles = envs.make_vec(env_id, num_envs, vectorization_mode="sync", max_episode_steps=limit)
    assert isinstance(vectorized, VectorizedEnv) and isinstance(singles, SyncVectorEnv)
    obs, _ = vectorized.reset(seed=seed)
    np.testing.assert_array_equal(obs, singles.reset(seed=seed)[0])
    rng = np.random.default_rng(seed)
    for t in range(steps):
        actions = random_actions(vectorized.action_space, rng)
        assert_same_vector_step(vectorized.step(actions), singles.step(actions), f"{env_id} step {t}")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vectorized_equals_gymnasium_same_step_sync(env_id):
    gym = pytest.importorskip("gymnasium")
    n, limit = 6, 40
    ours = envs.make_vec(env_id, n, max_episode_steps=limit)
    theirs = gym.make_vec(env_id, n, vectorization_mode="sync", max_episode_steps=limit,
                          vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    np.testing.assert_allclose(ours.reset(seed=5)[0], theirs.reset(seed=5)[0], rtol=0, atol=ATOL)
    rng = np.random.default_rng(0)
    for t in range(150):
        actions = random_actions(ours.action_space, rng)
        assert_same_vector_step(ours.step(actions), theirs.step(actions), f"{env_id} step {t}",
                                final_obs_as_object=True)


def test_autoreset_final_obs_and_bootstrap_convention():
    """At the step an episode ends: rewards/flags of that step, final_obs = its last observation, obs = the
    next episode's first; rows of copies that did not end have final_obs == obs."""
    n = 4
    vec = envs.make_vec("CartPole-v1", n)
    singles = [envs.make("CartPole-v1") for _ in range(n)]
    obs, _ = vec.reset(seed=10)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=10 + i)[0])
    ends = 0
    for _ in range(200):
        actions = np.ones(n, dtype=np.int64)  # topples every pole within a few dozen steps
        obs, rewards, terminations, truncations, info = vec.step(actions)
        for i, env in enumerate(singles):
            s_obs, s_reward, s_term, s_trunc, _ = env.step(1)
            assert (rewards[i], terminations[i], truncations[i]) == (s_reward, s_term, s_trunc)
            if s_term or s_trunc:
                ends += 1
                assert info["_final_obs"][i]
                np.testing.assert_array_equal(info["final_obs"][i], s_obs)
                np.testing.assert_array_equal(obs[i], env.reset()[0])  # the continued generator
            else:
                np.testing.assert_array_equal(obs[i], s_obs)
                if "final_obs" in info:
                    assert not info["_final_obs"][i]
                    np.testing.assert_array_equal(info["final_obs"][i], obs[i])
    assert ends >= 2 * n


def test_per_copy_time_limits_and_episode_lengths():
    """Copies start at different times, and each is truncated after exactly its own `limit` steps."""
    n, limit = 5, 25
    vec = envs.make_vec("Pendulum-v1", n, max_episode_steps=limit)  # Pendulum never terminates
    vec.reset(seed=0)
    lengths = np.zeros(n, dtype=int)
    for t in range(3 * limit):
        _, _, terminations, truncations, _ = vec.step(np.zeros((n, 1), dtype=np.float32))
        lengths += 1
        assert not terminations.any()
        np.testing.assert_array_equal(truncations, lengths == limit)
        lengths[truncations] = 0
    # mixing in a copy that terminates early shifts its schedule, not the others'
    vec = envs.make_vec("CartPole-v1", 3, max_episode_steps=10)
    vec.reset(seed=0)
    lengths = np.zeros(3, dtype=int)
    for t in range(60):
        _, _, terminations, truncations, _ = vec.step(np.array([1, 0, 1]))
        lengths += 1
        np.testing.assert_array_equal(truncations, lengths == 10)
        lengths[terminations | truncations] = 0


def test_seeding_rules(monkeypatch):
    """An int seeds copy i with seed + i; a list gives each copy its own; None continues; make_vec(seed=)."""
    monkeypatch.setattr(VectorizedEnv, "resets_per_refill", 2)  # exercise refilling the reserve of draws
    vec = envs.make_vec("CartPole-v1", 3)
    first, _ = vec.reset(seed=4)
    np.testing.assert_array_equal(first, vec.reset(seed=[4, 5, 6])[0])
    np.testing.assert_array_equal(first[1], envs.make("CartPole-v1").reset(seed=5)[0])
    mixed, _ = vec.reset(seed=[None, 5, None])
    np.testing.assert_array_equal(mixed[1], first[1])
    with pytest.raises(ValueError, match="3 copies"):
        vec.reset(seed=[1, 2])
    # several resets in a row continue each copy's generator, across refills of the reserve
    vec.reset(seed=4)
    single = envs.make("CartPole-v1")
    single.reset(seed=5)
    for _ in range(5):
        np.testing.assert_array_equal(vec.reset()[0][1], single.reset()[0])
    seeded = envs.make_vec("CartPole-v1", 3, seed=4)
    np.testing.assert_array_equal(seeded.reset()[0], first)
    a = seeded.action_space.sample()
    np.testing.assert_array_equal(a, envs.make_vec("CartPole-v1", 3, seed=4).action_space.sample())


def test_vector_spaces_and_errors():
    vec = envs.make_vec("MountainCarContinuous-v0", 4)
    assert vec.num_envs == 4
    assert vec.single_observation_space == envs.make("MountainCarContinuous-v0").observation_space
    assert vec.observation_space.shape == (4, 2) and vec.action_space.shape == (4, 1)
    with pytest.raises(RuntimeError, match="reset"):
        vec.step(np.zeros((4, 1), dtype=np.float32))
    obs, _ = vec.reset(seed=0)
    assert obs in vec.observation_space and obs.dtype == np.float32
    with pytest.raises(ValueError, match=r"shape \(4, 1\)"):
        vec.step(np.zeros(4, dtype=np.float32))
    cart = envs.make_vec("CartPole-v1", 3)
    cart.reset(seed=0)
    with pytest.raises(ValueError, match=r"integer actions in \[0, 1\]"):
        cart.step(np.array([0, 2, 1]))
    with pytest.raises(ValueError, match="integer"):
        cart.step(np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="vectorization_mode"):
        envs.make_vec("CartPole-v1", 2, vectorization_mode="async")
    assert "num_envs=3" in repr(cart) and "CartPole-v1" in repr(cart)


class DictCounter(Env):
    """A tiny env with a Dict observation and infos, ending after `length` steps (for SyncVectorEnv)."""

    def __init__(self, length=3):
        self.length = length
        self.observation_space = spaces.Dict({"count": spaces.Discrete(10), "noise": spaces.Box(0, 1, (2,))})
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count = 0
        return self._obs(), {"start": True}

    def step(self, action):
        self.count += 1
        done = self.count >= self.length
        return self._obs(), float(action), done, False, {"count": self.count, "vec": np.full(2, self.count)}

    def _obs(self):
        return {"count": self.count, "noise": self.np_random.random(2).astype(np.float32)}


def test_sync_vector_env_batches_any_space_and_infos():
    vec = SyncVectorEnv([lambda i=i: DictCounter(length=2 + i) for i in range(3)])
    obs, info = vec.reset(seed=0)
    assert obs in vec.observation_space and obs["count"].tolist() == [0, 0, 0]
    assert info["start"].tolist() == [True] * 3 and info["_start"].all()
    obs, rewards, terminations, truncations, info = vec.step(np.array([1, 0, 1]))
    assert rewards.tolist() == [1.0, 0.0, 1.0] and not terminations.any()
    assert info["count"].tolist() == [1, 1, 1] and info["vec"].shape == (3, 2)
    obs, rewards, terminations, truncations, info = vec.step(np.array([1, 1, 1]))
    assert terminations.tolist() == [True, False, False]
    assert info["final_obs"]["count"].tolist() == [2, 2, 2]  # copy 0 ended at count 2; the others' obs
    assert obs["count"].tolist() == [0, 2, 2]  # copy 0 restarted
    assert info["final_info"]["count"].tolist() == [2, 0, 0] and info["final_info"]["_count"].tolist() == [
        True, False, False]
    assert info["_start"].tolist() == [True, False, False]  # the reset's info of copy 0
    with pytest.raises(ValueError, match="share"):
        SyncVectorEnv([lambda: envs.make("CartPole-v1"), lambda: envs.make("Acrobot-v1")])


def test_batch_infos_masks():
    batched = batch_infos([{"a": 1}, {}, {"a": 3, "b": {"c": 2.0}}])
    assert batched["a"].tolist() == [1, 0, 3] and batched["_a"].tolist() == [True, False, True]
    assert batched["b"]["c"].tolist() == [0.0, 0.0, 2.0] and batched["_b"].tolist() == [False, False, True]


@pytest.mark.parametrize("env_id, options", [("CartPole-v1", {"low": -0.2, "high": 0.1}),
                                             ("Pendulum-v1", {"x_init": 0.3, "y_init": 0.0}),
                                             ("MountainCar-v0", {"low": -0.9, "high": -0.8})])
def test_reset_options_apply_to_that_reset_only(env_id, options):
    """As with Gymnasium's SyncVectorEnv, options shape the requested reset; autoresets use the defaults."""
    vectorized = envs.make_vec(env_id, 3, max_episode_steps=5)
    singles = envs.make_vec(env_id, 3, vectorization_mode="sync", max_episode_steps=5)
    np.testing.assert_array_equal(vectorized.reset(seed=2, options=options)[0],
                                  singles.reset(seed=2, options=options)[0])
    rng = np.random.default_rng(0)
    for t in range(12):
        actions = random_actions(vectorized.action_space, rng)
        assert_same_vector_step(vectorized.step(actions), singles.step(actions), f"{env_id} step {t}")
