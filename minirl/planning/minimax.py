"""Perfect play for small board games by memoised negamax: the yardstick that tests and evaluations measure
searches against (the exact game value that MCTS approximates, book ch. 15.3).

In a two-player zero-sum game with alternating moves the value of a position for the player to move is

    v(s) = outcome for the player to move                 if s is finished (win +1, loss -1, draw 0)
    v(s) = max_a  -v(s')     (s' = s after move a)        otherwise  (negamax: the opponent's best is our worst)

Positions are memoised by their board (the player to move follows from the stone counts), so tic-tac-toe's
5,478 positions are each solved once per process. The number of positions grows like 3^(size*size): this is for
tic-tac-toe and boards a little larger, not for Gomoku.

    minimax_value(game)                  # +1, 0 or -1 for game.current_player under perfect play
    minimax_action(game)                 # a best move; the lowest one among equals, or a random one with rng
"""

from __future__ import annotations

import numpy as np

from minirl.planning.mcts import terminal_value

_memo: dict[tuple, int] = {}  # (size, n_in_row, board bytes) -> v for the player to move


def minimax_value(game) -> int:
    """The game-theoretic value of `game` for the player to move: +1 win, 0 draw, -1 loss."""
    if game.winner() is not None:
        return int(terminal_value(game))
    key = (game.size, game.n_in_row, game.board.tobytes())
    value = _memo.get(key)
    if value is None:
        value = -1
        for action in game.legal_actions().tolist():
            child = game.copy()
            child.play(action)
            value = max(value, -minimax_value(child))  # negamax
            if value == 1:  # nothing beats a win
                break
        _memo[key] = value
    return value


def action_values(game) -> dict[int, int]:
    """For each legal move, its negamax value -v(s') for the player to move."""
    if game.winner() is not None:
        raise ValueError(f"minimax: the game is over ({game!r}); there is no move to choose")
    values = {}
    for action in game.legal_actions().tolist():
        child = game.copy()
        child.play(action)
        values[action] = -minimax_value(child)
    return values


def minimax_action(game, rng: np.random.Generator | None = None) -> int:
    """A move of perfect play: the lowest best move, or a uniformly random best move when `rng` is given."""
    values = action_values(game)
    best = max(values.values())
    best_actions = [a for a, v in values.items() if v == best]
    return best_actions[0] if rng is None else int(best_actions[rng.integers(len(best_actions))])


def decided_positions(game_factory, rng: np.random.Generator, games: int = 300, moves=(2, 6)) -> dict:
    """Positions from random play (between `moves[0]` and `moves[1] - 1` random moves from the start) that perfect
    play decides, as observation planes by their value to the player to move: {1: won, -1: lost}. Draws and
    finished games are left out. What a value head should tell apart."""
    positions = {1: [], -1: []}
    for _ in range(games):
        game = game_factory()
        for _ in range(rng.integers(*moves)):
            game.play(int(rng.choice(game.legal_actions())))
        if game.winner() is None and (value := minimax_value(game)) != 0:
            positions[value].append(game.observation())
    return positions
