"""`minirl play`: a game against a trained AlphaZero agent in the terminal, with typed moves, refused illegal
moves, either player first, and a one-line error for a run that cannot be loaded."""

import io
import subprocess
import sys

import pytest

from minirl.envs import TicTacToe
from minirl.planning.play import parse_move, play_game
from minirl.runs import trainer

TINY = {"num_simulations": 8, "parallel_games": 4, "gate": "none", "batch_size": 16, "channels": 8}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    _, path = trainer.train("alphazero", "TicTacToe-v0", 4, seed=0, overrides=TINY,
                            out=tmp_path_factory.mktemp("play") / "run", progress=False, evaluate_episodes=0)
    return path


def test_moves_are_read_as_row_col_or_letter_row():
    game = TicTacToe()
    assert parse_move("2,0", game) == 6 and parse_move(" 1 , 2 ", game) == 5 and parse_move("1 2", game) == 5
    assert parse_move("c1", game) == 5 and parse_move("A0", game) == 0
    with pytest.raises(ValueError, match="off the board"):
        parse_move("3,0", game)
    with pytest.raises(ValueError, match="expected a move such as"):
        parse_move("middle", game)


def test_a_game_refuses_illegal_moves_and_announces_the_result(run_dir):
    from minirl.planning.play import load_agent

    agent = load_agent(run_dir)
    typed = "hello\n9,9\n" + "".join(f"{r},{c}\n" for r in range(3) for c in range(3))  # occupied cells too
    out = io.StringIO()
    winner = play_game(agent, "human", io.StringIO(typed), out)
    text = out.getvalue()
    assert "illegal move: expected a move such as" in text and "illegal move: (9, 9) is off the board" in text
    assert winner in (0, 1, 2)
    assert text.rstrip().endswith({0: "a draw", 1: "you win", 2: "the agent wins"}[winner])
    assert text.count("the agent plays") >= 3


def test_the_agent_can_move_first_and_the_human_can_quit(run_dir):
    out = io.StringIO()
    from minirl.planning import play

    assert play.main(run_dir, first="agent", stdin=io.StringIO("q\n"), stdout=out) == 0
    text = out.getvalue()
    assert "You play O; the agent moves first" in text and "the agent plays" in text
    assert text.rstrip().endswith("game abandoned")


def test_a_corrupted_or_missing_checkpoint_is_one_line_and_exit_code_2(run_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((run_dir / "config.json").read_text())
    (broken / "checkpoint.npz").write_bytes(b"not a checkpoint")
    for target in (broken, tmp_path / "nowhere"):
        proc = subprocess.run([sys.executable, "-m", "minirl", "play", str(target)], capture_output=True, text=True,
                              input="", timeout=120)
        assert proc.returncode == 2
        assert proc.stderr.startswith("minirl: ") and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert proc.stdout == ""
