"""Models for planning (book ch. 9.2, eqs. 9.1-9.2): the count-based F_s and mean-reward F_r converge to the true
model, untried pairs end a simulation, bad input changes nothing, and the game and MDP models."""

import numpy as np
import pytest

from minirl.envs import TicTacToe
from minirl.envs.toy_text import DiscreteMDPEnv
from minirl.planning.models import GameModel, MDPModel, TabularModel
from minirl.tabular import random_mdp


def test_tabular_model_converges_to_the_true_model():
    mdp = random_mdp(4, 2, seed=0, sparsity=0.5)
    env = DiscreteMDPEnv(mdp)
    env.reset(seed=0)
    model = TabularModel(4, 2, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(8000):
        s, a = int(rng.integers(4)), int(rng.integers(2))
        env.s = s
        s_next, r, terminated, _, _ = env.step(a)
        model.update(s, a, r, s_next, terminated)
    for s in range(4):
        for a in range(2):
            np.testing.assert_allclose(model.transition_probs(s, a), mdp.P[s, a], atol=0.05)  # F_s (9.1)
            expected = float(mdp.P[s, a] @ np.array([mdp.reward(s, a, x) for x in range(4)]))
            assert model.expected_reward(s, a) == pytest.approx(expected, abs=1e-9)  # F_r (9.2), R(s, a) only


def test_tabular_model_samples_what_it_saw():
    model = TabularModel(3, 2, seed=0)
    for s_next in (1, 1, 1, 2):
        model.update(0, 1, -1.0 if s_next == 1 else 3.0, s_next, terminal=(s_next == 2))
    draws = [model.step(0, 1) for _ in range(2000)]
    assert {d[0] for d in draws} == {1, 2}
    assert np.mean([d[0] == 2 for d in draws]) == pytest.approx(0.25, abs=0.03)
    assert all(d[1] == pytest.approx(0.0) for d in draws)  # mean of -1, -1, -1, 3
    assert all(d[2] == (d[0] == 2) for d in draws)  # state 2 was seen to end an episode
    assert model.visits(0, 1) == 4 and model.visits(0, 0) == 0
    assert model.step(0, 0) == (0, 0.0, True)  # an untried pair ends the simulation


def test_tabular_model_refuses_bad_input_without_changing():
    model = TabularModel(3, 2, seed=0)
    for args in [(3, 0, 0.0, 1, False), (0, 2, 0.0, 1, False), (0, 0, 0.0, 3, False)]:
        with pytest.raises(ValueError, match="expected a state|next_state"):
            model.update(*args)
    assert model.counts.sum() == 0 and model.reward_sum.sum() == 0
    with pytest.raises(ValueError, match="num_states"):
        TabularModel(0, 2)


def test_mdp_model_follows_the_mdp():
    mdp = random_mdp(3, 2, seed=1)
    model = MDPModel(mdp, seed=0)
    nexts = [model.step(0, 1)[0] for _ in range(4000)]
    np.testing.assert_allclose(np.bincount(nexts, minlength=3) / 4000, mdp.P[0, 1], atol=0.03)


def test_game_model_rewards_one_player():
    game = TicTacToe()
    for a in (0, 3, 1, 4):
        game.play(a)
    for player, reward in ((1, 1.0), (2, -1.0)):
        after, r, done = GameModel(player).step(game, 2)
        assert (r, done, after.winner()) == (reward, True, 1)
    assert game.winner() is None and game.move_count == 4  # the state itself is untouched
    _, r, done = GameModel(1).step(game, 8)
    assert (r, done) == (0.0, False)
    np.testing.assert_array_equal(GameModel(1).actions(game), [2, 5, 6, 7, 8])
