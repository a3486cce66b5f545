"""AlphaZero learns tic-tac-toe: trained within ten minutes on a CPU, the network with its tree search never loses
to perfect play (memoised negamax), in 20 games, 10 as each player."""

import time

import numpy as np
import pytest

from minirl.algos.alphazero import AlphaZero
from minirl.envs import TicTacToe
from minirl.planning import minimax_action
from minirl.planning.alphazero import play_match


@pytest.mark.slow
def test_alphazero_never_loses_tic_tac_toe_to_perfect_play():
    start = time.perf_counter()
    agent = AlphaZero("TicTacToe-v0", seed=0).learn(AlphaZero.steps_for("TicTacToe-v0"))
    minutes = (time.perf_counter() - start) / 60
    rng = np.random.default_rng(0)
    perfect = lambda game: minimax_action(game, rng)  # noqa: E731  (a random one among the best moves)
    result = play_match(agent.move, perfect, TicTacToe, 20)  # the first player alternates: 10 games each
    print(f"trained in {minutes:.1f} min on {agent.num_timesteps} self-play games: {result}")
    assert minutes < 10
    assert result["losses"] == 0, result
