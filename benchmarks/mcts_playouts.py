"""Playouts per second of the tree searches of chapter 15, and where their time goes.

Measured on Gomoku 6x6 (four in a row) from a position after a few moves, one move's search each:

- AlphaZero's search with the policy-value network (2 residual blocks × 32 channels), one game: the core's
  `MCTS.run` (the visible, sequential search: one network call per playout) and `BatchedSearch` on that one game;
- `BatchedSearch` over 16 games at once (one network call per playout of all 16 trees), the way self-play runs;
- pure MCTS: `UCT` with random roll-outs (no network), the opponent of the Gomoku benchmark.

Where the time goes: the network's forward passes are timed directly (a timer around `predict`); the rest is
split between the tree (selection by PUCT, expansion, backup) and the game's logic (copying the board, playing a
move, the win check, legal moves, observation planes) in proportion to their own time under cProfile.

    OMP_NUM_THREADS=1 python benchmarks/mcts_playouts.py [--simulations 400] [--games 16]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from functools import partial
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import describe  # noqa: E402

from minirl.envs import Gomoku  # noqa: E402
from minirl.planning.alphazero import BatchedSearch  # noqa: E402
from minirl.planning.mcts import MCTS, UCT, puct_score  # noqa: E402
from minirl.planning.network import PolicyValueNet  # noqa: E402

GAME_FILES = ("board_games.py",)
TREE_FILES = ("mcts.py", "alphazero.py")


class TimedNetwork:
    """`predict` with a stopwatch: the seconds spent in the network's forward passes, and the calls."""

    def __init__(self, net):
        self.net, self.seconds, self.calls = net, 0.0, 0

    def __call__(self, planes):
        start = time.perf_counter()
        out = self.net.predict(planes)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def opening(moves=(14, 15, 21, 20)):
    game = Gomoku(6, 4)
    for a in moves:
        game.play(a)
    return game


def tree_and_game_shares(run) -> dict:
    """The own time (tottime) of the tree's and the game's functions under cProfile, as fractions of both."""
    profile = cProfile.Profile()
    profile.runcall(run)
    stats = pstats.Stats(profile).stats
    tree = sum(s[2] for (f, _, _), s in stats.items() if f.endswith(TREE_FILES))
    game = sum(s[2] for (f, _, _), s in stats.items() if f.endswith(GAME_FILES))
    return {"tree": tree / (tree + game), "game": game / (tree + game)}


def measure(name, make_run, playouts, network=None) -> dict:
    run = make_run()
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    row = {"search": name, "playouts": playouts, "seconds": round(seconds, 3),
           "playouts_per_second": round(playouts / seconds, 1)}
    if network is not None:
        row["network_calls"] = network.calls
        row["network_seconds"] = round(network.seconds, 3)
    net_share = network.seconds / seconds if network is not None else 0.0
    shares = tree_and_game_shares(make_run())  # a fresh search, profiled
    row["time_share"] = {"network forward": round(net_share, 3),
                         "tree (select, expand, backup)": round((1 - net_share) * shares["tree"], 3),
                         "game logic (copy, play, win check, planes)": round((1 - net_share) * shares["game"], 3)}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=400)
    parser.add_argument("--uct-simulations", type=int, default=1000)
    parser.add_argument("--games", type=int, default=16)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "mcts_playouts.json"))
    args = parser.parse_args()
    net = PolicyValueNet(6, blocks=2, channels=32, seed=0)
    n, rows = args.simulations, []

    def core_run():
        timed = TimedNetwork(net)
        evaluate = BatchedSearch(timed).evaluate_one
        search = MCTS(evaluate, partial(puct_score, c_puct=5.0), n)
        core_run.network = timed
        return lambda: search.run(opening())

    def batched_run(games):
        def make():
            timed = TimedNetwork(net)
            batched_run.network = timed
            search = BatchedSearch(timed, 5.0, n)
            return lambda: search.run([opening() for _ in range(games)])
        return make

    net.predict(opening().observation()[None])  # warm up
    run = core_run()
    rows.append(measure("AlphaZero, MCTS.run (core, one network call per playout)", lambda: run, n,
                        core_run.network))
    maker = batched_run(1)
    run = maker()
    rows.append(measure("AlphaZero, BatchedSearch, 1 game", lambda: run, n, batched_run.network))
    maker = batched_run(args.games)
    run = maker()
    rows.append(measure(f"AlphaZero, BatchedSearch, {args.games} games at once", lambda: run, n * args.games,
                        batched_run.network))
    uct = UCT(num_simulations=args.uct_simulations, c=1.0, seed=0)
    rows.append(measure("pure MCTS (UCT, random roll-outs)", lambda: (lambda: uct.search(opening())),
                        args.uct_simulations))
    record = {"machine": describe(), "board": "Gomoku 6x6, four in a row, after 4 moves",
              "network": "PolicyValueNet(6, blocks=2, channels=32), float32, NumPy", "rows": rows}
    Path(args.out).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
