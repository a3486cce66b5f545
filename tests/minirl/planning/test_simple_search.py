"""Simple Monte Carlo search (book Algorithm 9.31): its Q estimates are the rollout policy's action values, and on
tic-tac-toe it takes wins, beats a random player and plays worse than UCT against perfect play."""

import numpy as np
import pytest

import minirl.envs as envs
from minirl.envs import TicTacToe
from minirl.planning import UCT, minimax_action
from minirl.planning.models import MDPModel
from minirl.planning.simple_search import SimpleMCSearch, simple_mc_search
from minirl.tabular import exact_policy_evaluation, q_from_v, uniform_policy


def test_q_estimates_are_the_random_policys_action_values():
    mdp = envs.make("GridWorld4x4-v0").unwrapped.mdp
    q_random = q_from_v(mdp, exact_policy_evaluation(mdp, uniform_policy(mdp)))
    for state in (1, 6):
        action, Q = simple_mc_search(MDPModel(mdp, seed=0), state, 300, np.random.default_rng(0))
        np.testing.assert_allclose([Q[a] for a in range(4)], q_random[state], atol=2.0)
        assert np.isclose(q_random[state, action], q_random[state].max())


def test_refuses_bad_arguments():
    model = MDPModel(envs.make("GridWorld4x4-v0").unwrapped.mdp)
    with pytest.raises(ValueError, match="num_rollouts"):
        simple_mc_search(model, 1, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="gamma"):
        simple_mc_search(model, 1, 5, np.random.default_rng(0), gamma=1.5)


def test_takes_the_immediate_win_on_tic_tac_toe():
    game = TicTacToe()
    for a in (0, 3, 1, 4):
        game.play(a)
    player = SimpleMCSearch(num_rollouts=30, seed=0)
    assert player.search(game) == 2 and player.Q[2] == 1.0


def play(first, second, rng):
    game = TicTacToe()
    while game.winner() is None:
        mover = first if game.current_player == 1 else second
        game.play(mover(game) if mover is not None else int(rng.choice(game.legal_actions())))
    return game.winner()


def test_beats_a_random_player():
    search, rng = SimpleMCSearch(num_rollouts=20, seed=0), np.random.default_rng(0)
    results = [play(search.search, None, rng) for _ in range(10)] + [play(None, search.search, rng) for _ in range(10)]
    wins = results[:10].count(1) + results[10:].count(2)
    losses = results[:10].count(2) + results[10:].count(1)
    assert wins >= 14 and losses <= 3, results  # a random player: about 9 wins and 9 losses in 20


def test_uct_does_at_least_as_well_as_simple_search_against_perfect_play():
    rng = np.random.default_rng(0)
    simple = SimpleMCSearch(num_rollouts=30, seed=0)  # 30 rollouts per move: about as many as UCT's 250 playouts
    uct = UCT(num_simulations=250, seed=0)
    perfect = lambda game: minimax_action(game, rng)  # noqa: E731
    simple_losses = sum(play(perfect, simple.search, rng) == 1 for _ in range(4))
    uct_losses = sum(play(perfect, uct.search, rng) == 1 for _ in range(4))
    assert uct_losses <= simple_losses
