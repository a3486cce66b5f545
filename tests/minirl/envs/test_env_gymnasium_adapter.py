"""from_gymnasium: Gymnasium envs (single and vector) behind our API, spaces converted both ways, and a clear
ImportError without Gymnasium, which minirl never imports by itself."""

import subprocess
import sys

import numpy as np
import pytest

import minirl.envs as envs
from minirl.envs import check_env, from_gymnasium, spaces
from minirl.envs.gymnasium_adapter import to_gymnasium_space, to_minirl_space

gym = pytest.importorskip("gymnasium")


def test_single_env_round_trip():
    adapted, reference = from_gymnasium("CartPole-v1"), gym.make("CartPole-v1")
    assert isinstance(adapted.observation_space, spaces.Box) and adapted.action_space == spaces.Discrete(2)
    assert adapted.spec.id == "CartPole-v1" and adapted.spec.max_episode_steps == 500
    np.testing.assert_array_equal(adapted.reset(seed=3)[0], reference.reset(seed=3)[0])
    for t in range(100):
        out, ref = adapted.step(t % 2), reference.step(t % 2)
        np.testing.assert_array_equal(out[0], ref[0])
        assert out[1:4] == (float(ref[1]), ref[2], ref[3]) and isinstance(out[1], float)
        if out[2] or out[3]:
            np.testing.assert_array_equal(adapted.reset()[0], reference.reset()[0])
    check_env(from_gymnasium(gym.make("Pendulum-v1")))


def test_adapted_env_equals_our_own():
    adapted, ours = from_gymnasium("MountainCarContinuous-v0"), envs.make("MountainCarContinuous-v0")
    np.testing.assert_array_equal(adapted.reset(seed=0)[0], ours.reset(seed=0)[0])
    for _ in range(300):
        action = np.array([0.7], dtype=np.float32)
        a, b = adapted.step(action), ours.step(action)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1:4] == b[1:4]


@pytest.mark.parametrize("how", ["id", "next_step_sync"])
def test_vector_env_follows_our_autoreset_convention(how):
    n = 4
    if how == "id":
        adapted = from_gymnasium("CartPole-v1", num_envs=n)
    else:  # Gymnasium's default mode; the adapter resets ended copies with reset_mask
        adapted = from_gymnasium(gym.make_vec("CartPole-v1", n, vectorization_mode="sync"))
    ours = envs.make_vec("CartPole-v1", n)
    assert adapted.single_observation_space == ours.single_observation_space
    assert adapted.action_space == ours.action_space
    np.testing.assert_array_equal(adapted.reset(seed=1)[0], ours.reset(seed=1)[0])
    rng, ended = np.random.default_rng(0), 0
    for _ in range(120):
        actions = rng.integers(0, 2, n)
        a, b = adapted.step(actions), ours.step(actions)
        for x, y in zip(a[:4], b[:4]):
            np.testing.assert_array_equal(x, y)
        assert ("final_obs" in a[4]) == ("final_obs" in b[4])
        if "final_obs" in b[4]:
            ended += 1
            np.testing.assert_array_equal(a[4]["_final_obs"], b[4]["_final_obs"])
            np.testing.assert_array_equal(a[4]["final_obs"], b[4]["final_obs"])
    assert ended > 3
    check_env(adapted)


def test_vector_env_that_cannot_reset_single_copies_is_refused():
    envs_ = gym.make_vec("CartPole-v1", 2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="SAME_STEP"):
        from_gymnasium(envs_)


def test_spaces_convert_both_ways():
    theirs = gym.spaces.Dict({
        "image": gym.spaces.Box(0, 255, (4, 4, 3), np.uint8),
        "joints": gym.spaces.Box(-1.0, 1.0, (7,)),
        "mode": gym.spaces.Discrete(3, start=1),
        "buttons": gym.spaces.MultiBinary(5),
        "grid": gym.spaces.Tuple([gym.spaces.MultiDiscrete([2, 5]), gym.spaces.Discrete(2)]),
    })
    ours = to_minirl_space(theirs)
    assert isinstance(ours, spaces.Dict) and list(ours.keys()) == list(theirs.keys())
    assert ours["mode"] == spaces.Discrete(3, start=1) and ours["image"].dtype == np.uint8
    assert to_gymnasium_space(ours) == theirs
    theirs.seed(0)
    for _ in range(5):
        assert theirs.sample() in ours
    with pytest.raises(NotImplementedError, match="Text"):
        to_minirl_space(gym.spaces.Text(5))


def test_clear_error_without_gymnasium(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # makes `import gymnasium` fail
    with pytest.raises(ImportError, match=r"pip install -e '\.\[dev\]'"):
        from_gymnasium("CartPole-v1")
    with pytest.raises(TypeError, match="only when an id"):
        monkeypatch.undo()
        from_gymnasium(gym.make("CartPole-v1"), num_envs=2)


def test_minirl_does_not_import_gymnasium():
    code = "import sys, minirl.envs; e = minirl.envs.make_vec('CartPole-v1', 2); print('gymnasium' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
