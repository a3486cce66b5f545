"""Two-player board games for search and self-play: freestyle Gomoku and tic-tac-toe (book ch. 15.2).

A combinatorial game (§15.2) has two players, no chance, perfect information, alternating turns and a finite
length. The book's Gomoku is *freestyle*: a line of `n_in_row` **or more** stones of one colour wins; tic-tac-toe
is the same game on a 3x3 board with three in a row (the book's demonstration, fig. 15.1). The book's code plays
6x6 with four in a row and 8x8 with five.

    game = Gomoku(size=6, n_in_row=4)
    game.play(game.coords_to_action(2, 3))   # player 1 (black) moves first
    game.legal_actions(), game.winner()       # ascending empty cells; None while the game goes on

Board layout (the book's ``move_to_location``): action = row * size + col, row 0 at the bottom, so on 3x3

    6 7 8
    3 4 5
    0 1 2

`board[row, col]` is 0 when empty, 1 for the first player's stones and 2 for the second's. `render` prints row
size-1 first, so the text looks like the book's figures.

Speed matters because MCTS plays thousands of moves per search. Besides the board array each player's stones
are kept as a bitboard (one Python int), and `play` finds a new line with 4 * (n_in_row - 1) shifts and ANDs of
it (the book's ``has_a_winner`` scans every stone in Python); `winner` is cached, and `copy` copies one small
array and a few immutable scalars.

`BoardGameEnv` turns a game into a single-agent Gymnasium-style environment against a fixed opponent; it is
registered as ``TicTacToe-v0`` and ``Gomoku-v0`` (keyword arguments ``size``, ``n_in_row``, ``opponent``,
``agent_player``). An illegal move by the agent (an occupied cell) loses the game: reward -1 and the episode
ends, with ``info["illegal_move"] = True``; ``info["action_mask"]`` marks the legal cells.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from minirl.envs.core import Env
from minirl.envs.registration import register
from minirl.envs.spaces import Box, Discrete


def is_int(value) -> bool:
    """A Python or NumPy integer, not a bool (True is an int to Python, never a move or a size here)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class BoardGame:
    """An n-in-a-row game on a size x size board; see the module docstring for the layout and the API."""

    def __init__(self, size: int, n_in_row: int):
        for name, value in (("size", size), ("n_in_row", n_in_row)):
            if not is_int(value):
                raise ValueError(f"{type(self).__name__}: {name} must be an int, got {value!r}")
        if size < 1:
            raise ValueError(f"{type(self).__name__}: size must be >= 1, got {size}")
        if not 1 <= n_in_row <= size:
            raise ValueError(f"{type(self).__name__}: n_in_row must be in 1..size={size}, got {n_in_row}")
        self.size, self.n_in_row = int(size), int(n_in_row)
        self.action_size = self.size * self.size
        self.board = np.zeros((self.size, self.size), dtype=np.int8)
        self.current_player = 1
        self.last_action: int | None = None
        self.move_count = 0
        self._winner: int | None = None
        self._stones = (0, 0)  # each player's stones as a bitboard (an int), for the win check

    def copy(self) -> "BoardGame":
        """An independent copy (the board array is copied; the rest are immutable scalars and a tuple)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.board = self.board.copy()
        return other

    def legal_actions(self) -> np.ndarray:
        """The empty cells as ascending int64 actions; empty once the game is over."""
        if self._winner is not None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.board.ravel() == 0)

    def play(self, action) -> None:
        """The player to move puts a stone on `action`; an illegal move raises ValueError and changes nothing."""
        if not is_int(action):
            raise ValueError(f"play: the move must be an int action in 0..{self.action_size - 1}, got {action!r}")
        if self._winner is not None:
            raise ValueError(f"play: move {action} after the game is over ({self._result()})")
        if not 0 <= action < self.action_size:
            raise ValueError(f"play: move {action} is off the {self.size}x{self.size} board "
                             f"(actions are 0..{self.action_size - 1})")
        row, col = divmod(int(action), self.size)
        if self.board[row, col] != 0:
            raise ValueError(f"play: move {action} (row {row}, col {col}) is on an occupied cell "
                             f"(player {self.board[row, col]}'s stone)")
        player = self.current_player
        self.board[row, col] = player
        stones = self._stones[player - 1] | (1 << (row * (self.size + 1) + col))
        self._stones = (stones, self._stones[1]) if player == 1 else (self._stones[0], stones)
        self.last_action = int(action)
        self.move_count += 1
        self.current_player = 3 - player
        if self._has_line(stones):
            self._winner = player
        elif self.move_count == self.action_size:
            self._winner = 0

    def _has_line(self, stones: int) -> bool:
        """Whether the bitboard `stones` holds n_in_row or more in a row in one of the four directions.

        Bit row * (size + 1) + col is cell (row, col); the spare bit at the end of each row stays empty, so a
        shift never carries a line from one row into the next. ``x &= x >> d`` keeps the stones that start a run
        one longer in direction d; after n_in_row - 1 rounds only the starts of runs of n_in_row or more are left.
        A previous line would have ended the game, so a line found now goes through the stone just placed."""
        width = self.size + 1
        for shift in (1, width, width + 1, width - 1):  # horizontal, vertical, diagonal, anti-diagonal
            x = stones
            for _ in range(self.n_in_row - 1):
                x &= x >> shift
                if not x:
                    break
            if x:
                return True
        return False

    def winner(self) -> int | None:
        """None while the game goes on, 0 for a draw (a full board), else the winner, 1 or 2."""
        return self._winner

    def outcome(self, player: int) -> float:
        """The result for `player`: +1 if they won, -1 if they lost, 0 for a draw or a game still going on."""
        if self._winner is None or self._winner == 0:
            return 0.0
        return 1.0 if self._winner == player else -1.0

    def _result(self) -> str:
        return "a draw" if self._winner == 0 else f"player {self._winner} won"

    def observation(self, player: int | None = None) -> np.ndarray:
        """float32 (4, size, size) planes, the input of the book's policy-value network (§15.2, §15.4), seen by
        `player` (by default the player to move): [0] `player`'s stones, [1] the opponent's, [2] the last move
        (one-hot), [3] all ones when `player` is the first player, else zeros."""
        player = self.current_player if player is None else player
        planes = np.zeros((4, self.size, self.size), dtype=np.float32)
        planes[0] = self.board == player
        planes[1] = self.board == 3 - player
        if self.last_action is not None:
            planes[2].flat[self.last_action] = 1.0
        if player == 1:
            planes[3] = 1.0
        return planes

    def action_to_coords(self, action) -> tuple[int, int]:
        """(row, col) of `action`: the book's ``move_to_location`` (on 3x3, action 5 -> (1, 2))."""
        if not is_int(action) or not 0 <= action < self.action_size:
            raise ValueError(f"action_to_coords: expected an int action in 0..{self.action_size - 1}, "
                             f"got {action!r}")
        row, col = divmod(int(action), self.size)
        return row, col

    def coords_to_action(self, row, col) -> int:
        """The action of cell (row, col): the book's ``location_to_move``, action = row * size + col."""
        for name, value in (("row", row), ("col", col)):
            if not is_int(value) or not 0 <= value < self.size:
                raise ValueError(f"coords_to_action: expected {name} an int in 0..{self.size - 1}, got {value!r}")
        return int(row) * self.size + int(col)

    def render(self) -> str:
        """The board as text, row size-1 at the top as in the book's figures: X first player, O second."""
        symbols = ".XO"
        lines = [f"{row:2d} " + " ".join(symbols[v] for v in self.board[row]) for row in range(self.size - 1, -1, -1)]
        lines.append("   " + " ".join(str(col % 10) for col in range(self.size)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        state = "playing" if self._winner is None else self._result()
        return (f"{type(self).__name__}(size={self.size}, n_in_row={self.n_in_row}, moves={self.move_count}, "
                f"to_move={self.current_player}, {state})")


class Gomoku(BoardGame):
    """Freestyle Gomoku (§15.2): `n_in_row` or more stones in a row wins; the book's code plays 8x8 five in a row."""

    def __init__(self, size: int = 8, n_in_row: int = 5):
        super().__init__(size, n_in_row)


class TicTacToe(Gomoku):
    """Tic-tac-toe, the book's 3x3 three-in-a-row demonstration of Gomoku (fig. 15.1)."""

    def __init__(self):
        super().__init__(size=3, n_in_row=3)


class BoardGameEnv(Env):
    """A board game against a fixed opponent as a Gymnasium-style environment.

    game_factory: a callable returning a fresh `BoardGame`.
    opponent: "random" (a uniformly random legal move, drawn from `self.np_random`) or ``callable(game) -> action``.
    agent_player: 1 (the agent moves first) or 2 (the opponent opens the game at every reset).

    Observations are `BoardGame.observation` planes from the agent's view; the reward is +1 when the agent wins,
    -1 when it loses (or plays an illegal move) and 0 otherwise; `terminated` is True at the end of the game.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, game_factory: Callable[[], BoardGame], opponent="random", agent_player: int = 1):
        if not callable(game_factory):
            raise ValueError(f"BoardGameEnv: game_factory must be a callable returning a BoardGame, "
                             f"got {game_factory!r}")
        if not (opponent == "random" or callable(opponent)):
            raise ValueError(f"BoardGameEnv: opponent must be 'random' or a callable(game) -> action, "
                             f"got {opponent!r}")
        if not is_int(agent_player) or agent_player not in (1, 2):
            raise ValueError(f"BoardGameEnv: agent_player must be 1 or 2, got {agent_player!r}")
        self.game_factory, self.opponent, self.agent_player = game_factory, opponent, int(agent_player)
        self.game = game_factory()
        size = self.game.size
        self.observation_space = Box(0.0, 1.0, (4, size, size), np.float32)
        self.action_space = Discrete(self.game.action_size)
        self.render_mode = "ansi"

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.action_space.seed(seed)
        self.game = self.game_factory()
        if self.agent_player == 2:
            self._opponent_moves()
        return self.game.observation(self.agent_player), self._info()

    def step(self, action):
        game = self.game
        if game.winner() is not None:
            raise RuntimeError(f"{type(self).__name__}: the game is over; call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"{type(self).__name__}: action {action!r} is not in {self.action_space}")
        action = int(action)
        if game.board.flat[action] != 0:  # an illegal move forfeits the game
            return game.observation(self.agent_player), -1.0, True, False, self._info(illegal_move=True)
        game.play(action)
        if game.winner() is None:
            self._opponent_moves()
        obs = game.observation(self.agent_player)
        return obs, game.outcome(self.agent_player), game.winner() is not None, False, self._info()

    def _opponent_moves(self) -> None:
        game = self.game
        if self.opponent == "random":
            legal = game.legal_actions()
            action = int(legal[self.np_random.integers(len(legal))])
        else:
            action = self.opponent(game.copy())
        game.play(action)

    def _info(self, illegal_move: bool = False) -> dict:
        mask = (self.game.board.ravel() == 0) & (self.game.winner() is None)
        return {"action_mask": mask, "illegal_move": illegal_move, "winner": self.game.winner()}

    def render(self) -> str:
        return self.game.render()


class TicTacToeEnv(BoardGameEnv):
    """``TicTacToe-v0``: tic-tac-toe against a fixed opponent."""

    def __init__(self, opponent="random", agent_player: int = 1):
        super().__init__(TicTacToe, opponent=opponent, agent_player=agent_player)


class GomokuEnv(BoardGameEnv):
    """``Gomoku-v0``: freestyle Gomoku on a size x size board against a fixed opponent."""

    def __init__(self, size: int = 8, n_in_row: int = 5, opponent="random", agent_player: int = 1):
        Gomoku(size, n_in_row)  # validates the board before anything else is built
        super().__init__(lambda: Gomoku(size, n_in_row), opponent=opponent, agent_player=agent_player)


register("TicTacToe-v0", "minirl.envs.board_games:TicTacToeEnv")
register("Gomoku-v0", "minirl.envs.board_games:GomokuEnv", size=8, n_in_row=5)
