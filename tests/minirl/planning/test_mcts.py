"""MCTS (book ch. 9.4.2, 15.3): the node bookkeeping and its sign flips, the UCT and PUCT scores with the book's
numbers, root noise, the walkthrough's counts, UCT finding wins and blocks, and UCT against perfect play."""

import math
from functools import partial

import numpy as np
import pytest

from minirl.envs import Gomoku, TicTacToe
from minirl.planning import (MCTS, UCT, Node, dirichlet_noise, minimax_action, minimax_value, most_visited,
                             puct_score, uct_score)


def play(game, actions):
    for a in actions:
        game.play(a)
    return game


def test_backup_flips_the_sign_at_each_ply():
    root = Node()
    root.expand([0, 1], [0.5, 0.5])
    child = root.children[1]
    child.expand([0], [1.0])
    grandchild = child.children[0]
    grandchild.backup(0.7)
    assert (grandchild.visit_count, grandchild.value_sum) == (1, 0.7)
    assert (child.visit_count, child.value_sum) == (1, -0.7)
    assert (root.visit_count, root.value_sum) == (1, 0.7)
    child.backup(-1.0)
    assert child.q == pytest.approx(-0.85) and root.q == pytest.approx(0.85)
    assert root.children[0].q == 0.0 and not root.children[0].expanded() and root.expanded()


def test_expand_refuses_mismatched_priors():
    with pytest.raises(ValueError, match="one prior per action"):
        Node().expand([0, 1, 2], [0.5, 0.5])


def test_puct_score_has_the_books_numbers():
    # U = 5 * 0.5 * sqrt(4) / (1 + 1) = 2.5; with Q = 0.1 the score is 2.6
    parent, child = Node(), Node(prior=0.5)
    parent.visit_count = 4
    child.visit_count, child.value_sum = 1, 0.1
    assert puct_score(parent, child, c_puct=5.0) == pytest.approx(2.6)
    child.value_sum = 0.0
    assert puct_score(parent, child, c_puct=5.0) == pytest.approx(2.5)


def test_uct_score_is_15_3():
    parent, child = Node(), Node()
    parent.visit_count = 10
    assert uct_score(parent, child, c=1.0) == math.inf
    child.visit_count, child.value_sum = 4, 2.0
    assert uct_score(parent, child, c=1.5) == pytest.approx(0.5 + 1.5 * math.sqrt(2 * math.log(10) / 4))


def test_dirichlet_noise_mixes_the_priors():
    root = Node()
    root.expand(np.arange(4), np.full(4, 0.25))
    dirichlet_noise(root, alpha=0.3, weight=0.25, rng=np.random.default_rng(0))
    priors = np.array([c.prior for c in root.children.values()])
    eta = np.random.default_rng(0).dirichlet(np.full(4, 0.3))
    np.testing.assert_allclose(priors, 0.75 * 0.25 + 0.25 * eta)
    assert priors.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="alpha"):
        dirichlet_noise(root, alpha=0.0, weight=0.25, rng=np.random.default_rng(0))


def constant_evaluator(value):
    def evaluate(game):
        legal = game.legal_actions()
        return np.full(len(legal), 1.0 / len(legal)), value
    return evaluate


def test_the_books_walkthrough_bookkeeping():
    # white (player 2) to move; every leaf is worth -0.1 to its player to move (black after white's move)
    game = play(TicTacToe(), [4])
    mcts = MCTS(constant_evaluator(-0.1), partial(puct_score, c_puct=5.0), num_simulations=1)
    root = mcts.new_root(game)
    assert root.visit_count == 1  # search 1 only expands the root
    mcts.run(game, root)
    visited = [c for c in root.children.values() if c.visit_count]
    assert len(visited) == 1
    assert (visited[0].visit_count, visited[0].value_sum, visited[0].q) == (1, pytest.approx(0.1), pytest.approx(0.1))
    assert root.visit_count == 2
    mcts.run(game, root, num_simulations=398)
    assert root.visit_count == 400 and sum(c.visit_count for c in root.children.values()) == 399


def test_a_finished_game_is_backed_up_as_a_win_for_the_player_who_moved_into_it():
    # black (player 1) to move can win at once with 8 (the diagonal 0-4-8)
    game = play(TicTacToe(), [0, 1, 4, 2])
    root = MCTS(constant_evaluator(0.0), partial(uct_score, c=1.0), num_simulations=len(game.legal_actions())).run(game)
    winning = root.children[8]
    assert (winning.visit_count, winning.value_sum) == (1, 1.0)


def test_mcts_refuses_bad_arguments():
    with pytest.raises(ValueError, match="num_simulations"):
        MCTS(constant_evaluator(0.0), partial(uct_score, c=1.0), num_simulations=0)
    with pytest.raises(ValueError, match="finished game"):
        MCTS(constant_evaluator(0.0), partial(uct_score, c=1.0), 1).new_root(play(TicTacToe(), [0, 3, 1, 4, 2]))
    with pytest.raises(ValueError, match="c must be"):
        UCT(c=-1.0)


def test_visit_counts_and_most_visited():
    game = TicTacToe()
    uct = UCT(num_simulations=300, seed=0)
    action = uct.search(game)
    counts = MCTS.visit_counts(uct.root, game.action_size)
    assert counts.sum() == 300 and uct.root.visit_count == 301
    assert action == int(np.argmax(counts)) == most_visited(uct.root)


def test_uct_is_reproducible_with_a_seed():
    game = play(Gomoku(6, 4), [14, 15])
    first, second = UCT(200, seed=3), UCT(200, seed=3)
    assert first.search(game) == second.search(game)
    np.testing.assert_array_equal(MCTS.visit_counts(first.root, 36), MCTS.visit_counts(second.root, 36))


@pytest.mark.parametrize("moves, expected", [
    ([0, 3, 1, 4], 2),        # black: 0 1 _ on the bottom row, white threatens 3 4 _: black wins at 2
    ([4, 0, 8, 2, 6], 1),     # white: 0 _ 2 wins at 1 although black threatens 6-7-8 / 2-4-6
])
def test_uct_takes_the_immediate_win(moves, expected):
    game = play(TicTacToe(), moves)
    assert UCT(num_simulations=500, seed=0).search(game) == expected


@pytest.mark.parametrize("moves, expected", [
    ([0, 4, 1], 2),           # white must block black's 0 1 _
    ([4, 0, 8, 6], 3),        # black must block white's 0 _ 6 on the left column
])
def test_uct_makes_the_forced_block(moves, expected):
    game = play(TicTacToe(), moves)
    assert UCT(num_simulations=1000, seed=0).search(game) == expected


def test_uct_blocks_on_gomoku():
    game = Gomoku(6, 4)
    # white has three in a row on row 3 (cells 19 20 21), black holds 18: black to move must block at 22
    play(game, [18, 19, 0, 20, 35, 21])
    assert UCT(num_simulations=2000, seed=0).search(game) == 22


def play_uct_vs_minimax(uct_player, seed, num_simulations=1000):
    game, uct, rng = TicTacToe(), UCT(num_simulations, c=1.0, seed=seed), np.random.default_rng(seed)
    while game.winner() is None:
        if game.current_player == uct_player:
            game.play(uct.search(game))
        else:
            game.play(minimax_action(game, rng))
    return game.winner()


def test_minimax_values():
    assert minimax_value(TicTacToe()) == 0
    assert minimax_value(play(TicTacToe(), [0, 3, 1, 4])) == 1  # black to move wins
    assert minimax_value(play(TicTacToe(), [0, 1])) == 1  # an edge next to black's corner loses for white
    assert minimax_value(play(TicTacToe(), [0, 4])) == 0  # the centre holds
    assert minimax_action(play(TicTacToe(), [0, 4, 1])) == 2


@pytest.mark.parametrize("uct_player, seed", [(1, 0), (1, 1), (2, 0), (2, 1)])
def test_uct_never_loses_to_perfect_play(uct_player, seed):
    assert play_uct_vs_minimax(uct_player, seed) in (0, uct_player)


@pytest.mark.slow
@pytest.mark.parametrize("uct_player", [1, 2])
def test_uct_never_loses_to_perfect_play_in_ten_games(uct_player):
    results = [play_uct_vs_minimax(uct_player, seed) for seed in range(10)]
    assert all(r in (0, uct_player) for r in results), results
