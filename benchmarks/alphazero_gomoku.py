"""AlphaZero on Gomoku 6x6, four in a row, against pure MCTS: how strong does M minutes of self-play make it?

Training: `minirl.algos.AlphaZero` on Gomoku-v0 (size 6, n_in_row 4) with 400 searches per move (the book's Table
15.1), for at most `--minutes` of wall-clock time, in rounds of `parallel_games` self-play games; a checkpoint is
written after every round, so a run cut short still has its network. The gate is off during training (AlphaZero's
choice: the latest network plays), which leaves the time to self-play.

Match: the trained network with 400 searches per move (τ → 0, no noise) plays `--games` games against pure MCTS
(UCT with random roll-outs, `--uct-simulations` per move, the book's code's yardstick), the first player
alternating. Recorded: wins, draws, losses, win rate, games of self-play, gradient steps, times, the loss along
the way and the machine.

    OMP_NUM_THREADS=1 python benchmarks/alphazero_gomoku.py --minutes 60
    OMP_NUM_THREADS=1 python benchmarks/alphazero_gomoku.py --minutes 20 --resume CHECKPOINT --previous-seconds S

`--resume` continues the training of a checkpoint this script wrote (exactly as if it had not stopped) for
`--minutes` more; `--previous-seconds` is the training time already spent, added to the record.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from machine import describe  # noqa: E402

from minirl.algos.alphazero import AlphaZero  # noqa: E402
from minirl.algos.base import TrainingHooks  # noqa: E402
from minirl.planning.alphazero import play_match  # noqa: E402
from minirl.planning.mcts import UCT  # noqa: E402


class Curve(TrainingHooks):
    """The loss and the self-play games' lengths as training goes."""

    def __init__(self, start):
        self.start, self.rows = start, []

    def on_episode(self, agent, episode_return, episode_length):
        if agent.num_timesteps % 16 == 0:
            self.rows.append({"games": agent.num_timesteps, "seconds": round(time.perf_counter() - self.start, 1),
                              "length": episode_length, **{k: round(v, 4) for k, v in agent.last_losses.items()}})
            print(json.dumps(self.rows[-1]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="the training budget (wall clock)")
    parser.add_argument("--size", type=int, default=6)
    parser.add_argument("--n-in-row", type=int, default=4)
    parser.add_argument("--simulations", type=int, default=400, help="AlphaZero's searches per move")
    parser.add_argument("--uct-simulations", type=int, default=1000, help="pure MCTS's roll-outs per move")
    parser.add_argument("--games", type=int, default=20, help="games of the final match")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="other hyperparameters")
    parser.add_argument("--checkpoint", default="/tmp/alphazero_gomoku.npz")
    parser.add_argument("--resume", default=None, help="a checkpoint of this script to continue training from")
    parser.add_argument("--previous-seconds", type=float, default=0.0, help="training time before --resume")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "alphazero_gomoku.json"))
    args = parser.parse_args()

    overrides = dict(item.split("=", 1) for item in args.set)
    if args.resume:
        agent = AlphaZero.load(args.resume)
    else:
        agent = AlphaZero("Gomoku-v0", seed=args.seed, size=args.size, n_in_row=args.n_in_row,
                          num_simulations=args.simulations, gate="none", **overrides)
    start = time.perf_counter()
    curve = Curve(start)
    budget = args.minutes * 60.0
    rounds = []
    while True:
        round_start = time.perf_counter()
        agent.learn(agent.num_timesteps + agent.hp["parallel_games"], curve)
        agent.save(args.checkpoint)
        rounds.append(time.perf_counter() - round_start)
        elapsed = time.perf_counter() - start
        if elapsed + max(rounds[-3:]) > budget:  # the next round would not end within the budget
            break
    train_seconds = time.perf_counter() - start + args.previous_seconds

    match_start = time.perf_counter()
    uct = UCT(num_simulations=args.uct_simulations, c=1.0, seed=args.seed + 1)
    factory = agent.new_game
    result = play_match(agent.move, uct.search, factory, args.games)
    match_seconds = time.perf_counter() - match_start

    record = {
        "machine": describe(),
        "board": {"size": args.size, "n_in_row": args.n_in_row},
        "budget_minutes": args.minutes + args.previous_seconds / 60,
        "hyperparameters": agent.hp,
        "self_play_games": agent.num_timesteps,
        "gradient_steps": agent.num_updates,
        "train_seconds": round(train_seconds, 1),
        "seconds_per_round_of_games": round(float(np.mean(rounds)), 2),
        "match": {"opponent": f"pure MCTS (UCT, c=1, {args.uct_simulations} roll-outs per move)",
                  "alphazero_simulations": args.simulations, **result,
                  "win_rate": result["wins"] / result["games"], "seconds": round(match_seconds, 1)},
        "goal": "win rate >= 0.8",
        "curve": curve.rows,
    }
    Path(args.out).write_text(json.dumps(record, indent=2, default=str) + "\n")
    print(json.dumps({k: record[k] for k in ("self_play_games", "gradient_steps", "train_seconds", "match")},
                     indent=2))


if __name__ == "__main__":
    main()
