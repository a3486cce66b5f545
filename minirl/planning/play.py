"""`minirl play RUN_DIR`: a game in the terminal against a trained AlphaZero agent (book ch. 15).

The board is drawn as `BoardGame.render` draws it (row numbers on the left, row 0 at the bottom as in the book's
figures; column numbers below; X moves first). A move is typed as `row,col` with the numbers drawn (``2,0``) or
as a column letter and a row number (``a2``: column a = 0). An illegal or unreadable move is refused with the
reason and asked again; ``q`` ends the game. `--first human|agent` chooses who plays X.

`play_game` takes its input and output streams as arguments, so a test can type the moves.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from minirl.errors import ConfigurationError, RunDirectoryError


def parse_move(text: str, game) -> int:
    """The action of a typed move, `row,col` or a column letter and a row (``a2``); ValueError says why not."""
    text = text.strip().lower()
    numbers = re.fullmatch(r"(\d+)\s*[, ]\s*(\d+)", text)
    lettered = re.fullmatch(r"([a-z])\s*(\d+)", text)
    if numbers:
        row, col = int(numbers.group(1)), int(numbers.group(2))
    elif lettered:
        row, col = int(lettered.group(2)), ord(lettered.group(1)) - ord("a")
    else:
        raise ValueError(f"expected a move such as 1,2 (row,col) or b1 (column letter, row), got {text!r}")
    if not (0 <= row < game.size and 0 <= col < game.size):
        raise ValueError(f"({row}, {col}) is off the board: rows and columns go from 0 to {game.size - 1}")
    return game.coords_to_action(row, col)


def load_agent(run_dir):
    """The agent of a run directory; a RunDirectoryError or CheckpointError (one line in the CLI) says what is
    wrong with it."""
    from minirl import algos
    from minirl.runs.trainer import read_config

    run_dir = Path(run_dir)
    config = read_config(run_dir)
    agent = algos.get(config["algorithm"]).load(run_dir / "checkpoint.npz")
    if not hasattr(agent, "move") or not hasattr(agent, "new_game"):
        raise RunDirectoryError(f"{run_dir} holds a {config['algorithm']} agent, which does not play board games",
                                "give the run directory of an alphazero run")
    return agent


def play_game(agent, first: str = "human", stdin=None, stdout=None) -> int | None:
    """One game between the person at `stdin` and `agent`; returns the winner (0 a draw), None if abandoned."""
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout
    if first not in ("human", "agent"):
        raise ValueError(f"play: expected first 'human' or 'agent', got {first!r}")
    say = lambda text: print(text, file=stdout, flush=True)  # noqa: E731
    game = agent.new_game()
    human = 1 if first == "human" else 2
    mark = {1: "X", 2: "O"}
    say(f"{game.size}x{game.size} board, {game.n_in_row} in a row wins. You play {mark[human]}; "
        f"{'you move' if human == 1 else 'the agent moves'} first. Type row,col (e.g. 0,1) or a letter and a row "
        f"(e.g. b0); q quits.")
    while game.winner() is None:
        say(game.render())
        if game.current_player == human:
            stdout.write(f"your move ({mark[human]}): ")
            stdout.flush()
            line = stdin.readline()
            if not line or line.strip().lower() in ("q", "quit", "exit"):
                say("\ngame abandoned")
                return None
            try:
                game.play(parse_move(line, game))
            except ValueError as exc:
                say(f"illegal move: {exc}; try again")
        else:
            action = agent.move(game)
            game.play(action)
            say(f"the agent plays {game.action_to_coords(action)[0]},{game.action_to_coords(action)[1]}")
    say(game.render())
    winner = game.winner()
    say("a draw" if winner == 0 else ("you win" if winner == human else "the agent wins"))
    return winner


def main(run_dir, first: str = "human", num_simulations: int | None = None, stdin=None, stdout=None) -> int:
    """`minirl play`: 0 after a game; a run that cannot be played raises the error the CLI prints as one line."""
    if num_simulations is not None and num_simulations < 1:
        raise ConfigurationError(f"--simulations: expected an integer ≥ 1, got {num_simulations}")
    agent = load_agent(run_dir)
    if num_simulations is not None:
        agent.best_search.num_simulations = int(num_simulations)
    play_game(agent, first, stdin, stdout)
    return 0


__all__ = ["load_agent", "main", "parse_move", "play_game"]
