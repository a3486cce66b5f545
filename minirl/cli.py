"""The `minirl` command: train, evaluate, plot and list.

    minirl train ALGO --env ID [--steps N] [--seed S] [--num-envs N]
                 [--set key=value ...] [--out DIR] [--resume DIR]
    minirl eval RUN_DIR [--episodes N]
    minirl plot RUN_DIR... [--out FILE] [--metric NAME]
    minirl list [ALGO]
    minirl play RUN_DIR [--first human|agent] [--simulations N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parse_sets(items) -> dict:
    overrides = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"minirl: --set expects key=value, got {item!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def cmd_train(args) -> int:
    from minirl.runs import trainer

    if args.resume:
        agent, run_dir = trainer.resume(args.resume, steps=args.steps, progress=not args.quiet)
    else:
        if not args.env:
            raise SystemExit("minirl train: --env is required (see `minirl list`)")
        _check_names(args.algo, args.env)
        agent, run_dir = trainer.train(args.algo, args.env, args.steps, seed=args.seed,
                                       overrides=_parse_sets(args.set), out=args.out, progress=not args.quiet,
                                       num_envs=args.num_envs)
    summary = json.loads((Path(run_dir) / "eval.json").read_text()) if (Path(run_dir) / "eval.json").exists() else {}
    print(f"run directory: {run_dir}")
    if summary:
        print(f"evaluation: mean return {summary['mean_return']:.2f} ± {summary['std_return']:.2f} "
              f"over {summary['episodes']} episodes; learning curve: {Path(run_dir) / 'curve.png'}")
    return 0


def _check_names(algo: str, env_id: str) -> None:
    from minirl import algos, envs

    if algo not in algos.names():
        raise SystemExit(f"minirl: unknown algorithm {algo!r}; available: {', '.join(algos.names())}")
    if env_id not in envs.registry:
        raise SystemExit(f"minirl: unknown environment {env_id!r}; available: {', '.join(envs.list())}")


def cmd_eval(args) -> int:
    from minirl.runs import trainer

    result = trainer.evaluate_run(args.run_dir, episodes=args.episodes, seed=args.seed, render=args.render)
    print(json.dumps(result, indent=2))
    return 0


def cmd_plot(args) -> int:
    from minirl.io.logger import plot_runs

    groups: dict[str, list] = {}
    for run_dir in args.run_dirs:
        config_path = Path(run_dir) / "config.json"
        if not config_path.exists():
            raise SystemExit(f"minirl plot: {run_dir} is not a run directory (no config.json)")
        config = json.loads(config_path.read_text())
        groups.setdefault(f"{config['algorithm']} on {config['env_id']}", []).append(run_dir)
    out = plot_runs(groups, args.out, metric=args.metric)
    print(f"wrote {out}")
    return 0


def cmd_list(args) -> int:
    from minirl import algos, envs

    if args.algo:
        if args.algo not in algos.names():
            raise SystemExit(f"minirl: unknown algorithm {args.algo!r}; available: {', '.join(algos.names())}")
        cls = algos.get(args.algo)
        print(cls.describe())
        for env_id, values in cls.env_defaults.items():
            print(f"  defaults for {env_id}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        return 0
    print("algorithms (minirl list ALGO shows one's hyperparameters):")
    for name in algos.names():
        doc = (algos.get(name).__doc__ or "").strip().splitlines()[0]
        print(f"  {name:<14} {doc}")
    print("environments:")
    for env_id in envs.list():
        print(f"  {env_id}")
    return 0


def cmd_play(args) -> int:
    from minirl.planning import play

    return play.main(args.run_dir, first=args.first, num_simulations=args.simulations)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minirl", description="Train, evaluate and plot minirl agents.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train an agent into a run directory")
    train.add_argument("algo", nargs="?", help="algorithm name (see `minirl list`)")
    train.add_argument("--env", help="environment id, e.g. CartPole-v1")
    train.add_argument("--steps", type=int, help="total environment steps (default: the algorithm's for the env)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--num-envs", type=int, default=None, help="parallel environment copies (deep agents)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a hyperparameter")
    train.add_argument("--out", help="run directory (default runs/ALGO-ENV-seedS)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help="evaluate a run's checkpoint; writes eval.json")
    ev.add_argument("run_dir")
    ev.add_argument("--episodes", type=int, default=20)
    ev.add_argument("--seed", type=int, default=None)
    ev.add_argument("--render", action="store_true", help="render episodes where the environment supports it")
    ev.set_defaults(func=cmd_eval)
    plot = sub.add_parser("plot", help="overlay learning curves (mean ± std across seeds)")
    plot.add_argument("run_dirs", nargs="+")
    plot.add_argument("--out", default="curves.png")
    plot.add_argument("--metric", default="episode_return")
    plot.set_defaults(func=cmd_plot)
    lst = sub.add_parser("list", help="show algorithms and environments, or one algorithm's hyperparameters")
    lst.add_argument("algo", nargs="?", help="an algorithm whose hyperparameters to show")
    lst.set_defaults(func=cmd_list)
    game = sub.add_parser("play", help="play a board game in the terminal against a trained agent (alphazero)")
    game.add_argument("run_dir")
    game.add_argument("--first", choices=("human", "agent"), default="human", help="who moves first")
    game.add_argument("--simulations", type=int, default=None, help="the agent's searches per move")
    game.set_defaults(func=cmd_play)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train" and not args.algo and not args.resume:
        raise SystemExit("minirl train: name an algorithm (see `minirl list`) or pass --resume RUN_DIR")
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError, NotImplementedError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise SystemExit(f"minirl: {message}") from None


if __name__ == "__main__":
    sys.exit(main())
