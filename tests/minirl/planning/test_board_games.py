"""Board games (book ch. 15.2): the book's example game and layout, freestyle win detection against a brute-force
checker on every board size, illegal moves, observation planes, copies, and the Gymnasium-style environments."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minirl.envs as envs
from minirl.envs import BoardGame, Gomoku, TicTacToe, check_env
from minirl.envs.board_games import BoardGameEnv


def brute_force_winner(board: np.ndarray, n: int) -> set[int]:
    """Every player with n or more stones in a row anywhere on the board, by checking every window."""
    size, found = board.shape[0], set()
    for r in range(size):
        for c in range(size):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + k * dr, c + k * dc) for k in range(n)]
                if all(0 <= rr < size and 0 <= cc < size for rr, cc in cells):
                    values = {int(board[rr, cc]) for rr, cc in cells}
                    if len(values) == 1 and 0 not in values:
                        found |= values
    return found


def test_the_books_example_game_black_wins_on_the_diagonal():
    # fig. 15.1: ((b,5),(w,4),(b,1),(w,7),(b,9)) with cells labelled 1..9 = actions 0..8
    game = TicTacToe()
    for label in (5, 4, 1, 7):
        game.play(label - 1)
        assert game.winner() is None
    game.play(9 - 1)
    assert game.winner() == 1 and game.move_count == 5
    assert (game.outcome(1), game.outcome(2)) == (1.0, -1.0)
    assert game.legal_actions().size == 0
    assert [game.board.flat[a] for a in (0, 4, 8)] == [1, 1, 1]


def test_the_books_layout_move_to_location():
    game = TicTacToe()
    assert game.action_to_coords(5) == (1, 2)  # move_to_location(5) = [1, 2]
    assert game.coords_to_action(1, 2) == 5
    assert [game.coords_to_action(r, c) for r in (2, 1, 0) for c in range(3)] == [6, 7, 8, 3, 4, 5, 0, 1, 2]
    game.play(6)
    assert game.render().splitlines()[0].split()[1] == "X"  # action 6 is the top-left cell of the drawing
    with pytest.raises(ValueError, match="expected an int action"):
        game.action_to_coords(9)
    with pytest.raises(ValueError, match="expected col"):
        game.coords_to_action(0, 3)


@st.composite
def played_games(draw):
    size = draw(st.integers(3, 10))
    n_in_row = draw(st.integers(3, min(size, 5)))
    order = draw(st.permutations(range(size * size)))
    return size, n_in_row, order


@given(played_games())
def test_win_detection_matches_a_brute_force_checker(case):
    size, n_in_row, order = case
    game = Gomoku(size, n_in_row)
    for action in order:
        player = game.current_player
        game.play(action)
        winners = brute_force_winner(game.board, n_in_row)
        if winners:
            assert winners == {player} and game.winner() == player
            assert game.legal_actions().size == 0
            return
        assert game.winner() == (0 if game.move_count == size * size else None)
    assert game.winner() == 0


@pytest.mark.parametrize("cells", [
    [(2, 0), (2, 1), (2, 2), (2, 3)],            # a row
    [(0, 4), (1, 4), (2, 4), (3, 4)],            # a column
    [(1, 1), (2, 2), (3, 3), (4, 4)],            # the diagonal
    [(0, 5), (1, 4), (2, 3), (3, 2)],            # the anti-diagonal
])
def test_four_in_a_row_on_6x6_in_every_direction_with_the_last_stone_in_the_middle(cells):
    game = Gomoku(6, 4)
    fillers = iter(a for a in range(36) if divmod(a, 6) not in cells and a not in (12, 13, 14, 15, 7, 8, 9))
    order = [cells[0], cells[1], cells[3], cells[2]]  # the winning stone closes a gap
    for r, c in order:
        game.play(game.coords_to_action(r, c))
        if game.winner() is None:
            game.play(next(fillers))
    assert game.winner() == 1


def test_freestyle_six_in_a_row_wins_for_five_in_a_row():
    game = Gomoku(8, 5)
    for col in (0, 1, 2, 4, 5):
        game.play(col)
        game.play(56 + col)  # white on the top row
    assert game.winner() is None
    game.play(3)  # fills the gap: six black stones in a row
    assert game.winner() == 1


def _bad_moves(game):
    return [(0, "occupied"), (-1, "off the"), (game.action_size, "off the"), (1.0, "must be an int"),
            ("1", "must be an int"), (True, "must be an int"), (None, "must be an int")]


def test_illegal_moves_raise_and_leave_the_game_unchanged():
    game = Gomoku(5, 4)
    game.play(0)
    for move, message in _bad_moves(game):
        before = game.copy()
        with pytest.raises(ValueError, match=message):
            game.play(move)
        assert game.board.tobytes() == before.board.tobytes()
        assert (game.current_player, game.last_action, game.move_count, game.winner()) == \
            (before.current_player, before.last_action, before.move_count, before.winner())


def test_a_move_after_the_end_raises():
    game = TicTacToe()
    for a in (0, 3, 1, 4, 2):
        game.play(a)
    before = game.board.tobytes()
    with pytest.raises(ValueError, match="after the game is over"):
        game.play(8)
    assert game.board.tobytes() == before


@pytest.mark.parametrize("size, n_in_row", [(0, 1), (3, 4), (3, 0), (3.0, 3)])
def test_bad_board_sizes_are_refused(size, n_in_row):
    with pytest.raises(ValueError, match="size|n_in_row"):
        Gomoku(size, n_in_row)


def test_copy_is_independent():
    game = Gomoku(6, 4)
    game.play(7)
    other = game.copy()
    other.play(8)
    assert game.move_count == 1 and game.board.flat[8] == 0 and other.board.flat[8] == 2
    assert isinstance(other, Gomoku)


def test_a_full_board_without_a_line_is_a_draw():
    game = TicTacToe()
    for a in (0, 1, 2, 4, 3, 5, 7, 6, 8):
        game.play(a)
    assert game.winner() == 0


def test_observation_planes():
    game = TicTacToe()
    obs = game.observation()
    assert obs.shape == (4, 3, 3) and obs.dtype == np.float32
    assert obs[:3].sum() == 0 and obs[3].all()  # the first player to move, nothing played
    game.play(4)
    game.play(0)
    obs = game.observation()  # player 1 to move again
    assert obs[0, 1, 1] == 1 and obs[0].sum() == 1  # own stones
    assert obs[1, 0, 0] == 1 and obs[1].sum() == 1  # opponent's
    assert obs[2, 0, 0] == 1 and obs[2].sum() == 1  # the last move
    assert obs[3].all()
    game.play(8)
    obs = game.observation()  # player 2 to move
    assert obs[0, 0, 0] == 1 and obs[1, 1, 1] == 1 and obs[1, 2, 2] == 1 and not obs[3].any()
    mine = game.observation(player=1)  # the same position seen by player 1
    np.testing.assert_array_equal(mine[[1, 0, 2]], obs[:3])
    assert mine[3].all()


@pytest.mark.parametrize("make_env", [lambda: envs.make("TicTacToe-v0"),
                                      lambda: envs.make("TicTacToe-v0", agent_player=2),
                                      lambda: envs.make("Gomoku-v0", size=6, n_in_row=4)])
def test_envs_pass_the_checker(make_env):
    check_env(make_env())


def test_gomoku_env_spaces_and_game():
    env = envs.make("Gomoku-v0", size=6, n_in_row=4)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 6, 6) and env.action_space.n == 36
    assert isinstance(env.unwrapped.game, Gomoku) and env.unwrapped.game.n_in_row == 4
    assert info["action_mask"].sum() == 36


def test_env_rewards_win_loss_and_illegal_move():
    # the agent (first player) wins on the top row against an opponent that always takes the lowest cell
    env = BoardGameEnv(TicTacToe, opponent=lambda game: int(game.legal_actions()[0]))
    env.reset(seed=0)
    assert env.step(6)[1:3] == (0.0, False)
    assert env.step(7)[1:3] == (0.0, False)
    obs, reward, terminated, truncated, info = env.step(8)
    assert (reward, terminated, truncated, info["winner"]) == (1.0, True, False, 1)
    assert obs[0, 2].all() and obs[3].all()  # the agent's own winning row, seen by the agent (the first player)
    # the opponent (second to move here, agent_player=2 opens first) wins on the bottom row
    env = BoardGameEnv(TicTacToe, opponent=lambda game: int(game.legal_actions()[0]), agent_player=2)
    env.reset(seed=0)
    assert env.step(8)[1] == 0.0
    assert env.step(7)[1:3] == (-1.0, True)
    # an occupied cell loses
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(0)
    assert (reward, terminated, info["illegal_move"]) == (-1.0, True, True)


def test_random_opponent_is_seeded():
    def moves(seed):
        env = envs.make("Gomoku-v0", size=6, n_in_row=4)
        env.reset(seed=seed)
        out = []
        for a in range(36):
            if env.unwrapped.game.winner() is not None:
                break
            if env.unwrapped.game.board.flat[a] == 0:
                env.step(a)
                out.append(env.unwrapped.game.last_action)
        return out
    assert moves(3) == moves(3)


def test_env_refuses_bad_arguments():
    with pytest.raises(ValueError, match="agent_player"):
        BoardGameEnv(TicTacToe, agent_player=3)
    with pytest.raises(ValueError, match="opponent"):
        BoardGameEnv(TicTacToe, opponent="minimax")
    with pytest.raises(ValueError, match="n_in_row"):
        envs.make("Gomoku-v0", size=4, n_in_row=5)


def test_base_class_is_the_general_game():
    game = BoardGame(4, 2)
    game.play(0)
    game.play(5)
    game.play(1)
    assert game.winner() == 1
