"""The cross-entropy method (book ch. 2.7.3): its update (2.168)–(2.170) by hand, its linear policy, its bad
input, and one fast learning run (the 5-seed target is in the slow suite)."""

import numpy as np
import pytest

from minirl.algos import CEM
from minirl.algos.cem import LinearPolicy, cem_update, noise
from minirl.envs import spaces


def test_the_update_keeps_the_elites_mean_and_variance_plus_the_noise():
    samples = np.array([[0.0, 10.0], [2.0, 20.0], [4.0, 30.0], [6.0, 40.0], [8.0, 50.0]])
    scores = np.array([1.0, 5.0, 3.0, 4.0, 0.0])  # the best two: rows 1 and 3
    mean, variance = cem_update(samples, scores, elite_fraction=0.4)
    np.testing.assert_allclose(mean, [4.0, 30.0])                     # (2.168): ([2, 20] + [6, 40]) / 2
    np.testing.assert_allclose(variance, [4.0, 100.0])                # (2.169): ((2 − 4)² + (6 − 4)²) / 2
    _, noisy = cem_update(samples, scores, elite_fraction=0.4, added_noise=0.5)
    np.testing.assert_allclose(noisy, [4.5, 100.5])                   # (2.170): + Z
    with pytest.raises(ValueError, match="0 elites"):
        cem_update(samples, scores, elite_fraction=0.1)


def test_the_noise_decays_linearly_to_zero_as_szita_and_lorincz_add_it():
    assert [noise(t, 5.0, 0.1) for t in (0, 10, 25, 50, 80)] == [5.0, 4.0, 2.5, 0.0, 0.0]


def test_the_linear_policy_takes_the_argmax_or_clips_to_the_box():
    box = spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)
    discrete = LinearPolicy(box, spaces.Discrete(3))
    assert discrete.size == 3 * (2 + 1)
    theta = np.array([1.0, 0.0, 0.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.5])  # W rows (1, 0), (0, 1), (−1, −1); b = (0, 0, ½)
    assert discrete(theta, [2.0, 1.0]) == 0 and discrete(theta, [0.0, 3.0]) == 1 and discrete(theta, [-1.0, -1.0]) == 2
    continuous = LinearPolicy(box, spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32))
    np.testing.assert_array_equal(continuous(np.array([2.0, 0.0, 0.1]), [3.0, 5.0]), [1.0])  # 6.1 clipped
    np.testing.assert_allclose(continuous(np.array([0.1, 0.0, 0.1]), [3.0, 5.0]), [0.4], rtol=1e-6)


@pytest.mark.parametrize("overrides,message", [
    ({"population": 4, "elite_fraction": 0.2}, r"cem.elite_fraction: ⌊ρ n⌋ = ⌊0.2 × 4⌋ keeps no elite"),
    ({"population": 1}, r"cem.population: expected a value in \[2, inf\], got 1"),
    ({"elite_fraction": 1.5}, r"cem.elite_fraction: expected a value in \[0.0, 1.0\], got 1.5"),
])
def test_bad_settings_are_refused_by_name(overrides, message):
    with pytest.raises(ValueError, match=message):
        CEM("CartPole-v1", **overrides)


def test_cem_learns_cartpole_and_its_policy_is_the_mean(tmp_path):
    agent = CEM("CartPole-v1", seed=0).learn(30_000)
    assert agent.evaluate(20)["mean_return"] >= 475
    obs = np.array([0.01, -0.02, 0.03, 0.04], dtype=np.float32)
    assert agent.act(obs) == agent.policy(agent.mean, obs)
    agent.save(tmp_path / "cem.npz")
    loaded = CEM.load(tmp_path / "cem.npz")
    np.testing.assert_array_equal(loaded.mean, agent.mean)
    np.testing.assert_array_equal(loaded.variance, agent.variance)
    assert loaded.iteration == agent.iteration and loaded.act(obs) == agent.act(obs)


def test_cem_runs_on_continuous_actions():
    agent = CEM("Pendulum-v1", seed=0, population=4, elite_fraction=0.5).learn(1_000)
    assert agent.num_timesteps == 1_000 and agent.iteration == 1  # four 200-step episodes, then one cut short
    action = agent.act(np.zeros(3, dtype=np.float32))
    assert action.shape == (1,) and -2.0 <= action[0] <= 2.0
