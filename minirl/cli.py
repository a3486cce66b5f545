"""The `minirl` command: train, evaluate, plot and list.

    minirl train ALGO --env ID [--steps N] [--seed S] [--num-envs N]
                 [--set key=value [key=value ...]] [--out DIR] [--force] [--resume DIR]
    minirl eval RUN_DIR [--episodes N]
    minirl plot RUN_DIR... [--out FILE] [--metric NAME]
    minirl list [ALGO]
    minirl play RUN_DIR [--first human|agent] [--simulations N]

An error the user can fix (a bad setting, a directory that holds another run, a damaged checkpoint) is one line on
stderr, ``minirl: <what went wrong>: <what to do>``, and exit code 2; a traceback means a bug in minirl, or that
``--debug`` asked for one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from minirl.errors import ConfigurationError, MinirlError

EXIT_USAGE = 2  # a mistake in what was asked (as argparse exits): the message says what to do
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


def _parse_sets(items) -> dict:
    """``--set a=1 b=2 --set c=3`` as {"a": "1", "b": "2", "c": "3"} (strings: the agent parses each as its type)."""
    overrides = {}
    for item in (pair for group in items or [] for pair in group):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not key.isidentifier():
            raise ConfigurationError(f"--set: expected key=value with a hyperparameter's name as key, got {item!r}",
                                     "write e.g. --set gamma=0.99 learning_rate=3e-4")
        if key in overrides:
            raise ConfigurationError(f"--set: {key} is given twice ({overrides[key]!r} and {value.strip()!r})",
                                     "give each setting once")
        overrides[key] = value.strip()
    return overrides


def cmd_train(args) -> int:
    from minirl.runs import trainer

    overrides = _parse_sets(args.set)
    if args.resume:
        if args.algo:
            _check_names(args.algo, None)
        if args.force:
            raise ConfigurationError("--force applies to a new run, not to --resume", "drop --force")
        if args.num_envs is not None:
            overrides["num_envs"] = args.num_envs
        args.run = args.resume  # where Ctrl-C's message points
        agent, run_dir = trainer.resume(args.resume, steps=args.steps, progress=not args.quiet, algo=args.algo,
                                        env_id=args.env, seed=args.seed, overrides=overrides)
    else:
        if not args.env:
            raise ConfigurationError("train: --env is required", "name an environment (see `minirl list`)")
        _check_names(args.algo, args.env)
        seed = 0 if args.seed is None else args.seed
        args.run = args.out if args.out is not None else trainer.default_run_dir(args.algo, args.env, seed)
        agent, run_dir = trainer.train(args.algo, args.env, args.steps, seed=seed, overrides=overrides, out=args.run,
                                       progress=not args.quiet, num_envs=args.num_envs, force=args.force)
    summary = json.loads((Path(run_dir) / "eval.json").read_text()) if (Path(run_dir) / "eval.json").exists() else {}
    print(f"run directory: {run_dir}")
    if summary:
        print(f"evaluation: mean return {summary['mean_return']:.2f} ± {summary['std_return']:.2f} "
              f"over {summary['episodes']} episodes; learning curve: {Path(run_dir) / 'curve.png'}")
    return 0


def _check_names(algo: str, env_id: str | None) -> None:
    from minirl import algos, envs

    if algo not in algos.names():
        raise ConfigurationError(f"unknown algorithm {algo!r}", f"choose one of {', '.join(algos.names())}")
    if env_id is not None and env_id not in envs.registry:
        raise ConfigurationError(f"unknown environment {env_id!r}", f"choose one of {', '.join(envs.list())}")


def cmd_eval(args) -> int:
    from minirl.runs import trainer

    result = trainer.evaluate_run(args.run_dir, episodes=args.episodes, seed=args.seed, render=args.render)
    print(json.dumps(result, indent=2))
    return 0


def cmd_plot(args) -> int:
    from minirl.io.logger import plot_runs
    from minirl.runs.trainer import read_config

    groups: dict[str, list] = {}
    for run_dir in args.run_dirs:
        config = read_config(run_dir)
        groups.setdefault(f"{config['algorithm']} on {config['env_id']}", []).append(run_dir)
    out = plot_runs(groups, args.out, metric=args.metric)
    print(f"wrote {out}")
    return 0


def cmd_list(args) -> int:
    from minirl import algos, envs

    if args.algo:
        _check_names(args.algo, None)
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


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors as one line like every other error (``minirl: ...: see --help``)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"minirl: {message}: see `{self.prog} --help`\n")


def _integer(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show a full traceback on any error")
    parser = _Parser(prog="minirl", description="Train, evaluate and plot minirl agents.", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser("train", help="train an agent into a run directory", parents=[common])
    train.add_argument("algo", nargs="?", help="algorithm name (see `minirl list`)")
    train.add_argument("--env", help="environment id, e.g. CartPole-v1")
    train.add_argument("--steps", type=_integer(1),
                       help="total environment steps (default: the algorithm's for the env); on --resume, the new "
                            "total (the only setting a resumed run may change)")
    train.add_argument("--seed", type=_integer(0), default=None, help="random seed (default 0)")
    train.add_argument("--num-envs", type=_integer(1), default=None,
                       help="parallel environment copies (deep agents)")
    train.add_argument("--set", action="append", nargs="+", metavar="KEY=VALUE",
                       help="override hyperparameters: --set gamma=0.99 learning_rate=3e-4 (see `minirl list ALGO`)")
    train.add_argument("--out", help="run directory (default runs/ALGO-ENV-seedS); it must be empty or absent")
    train.add_argument("--force", action="store_true",
                       help="if --out holds anything, move it to DIR.old-<time> first (nothing is deleted)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its checkpoint")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)
    ev = sub.add_parser("eval", help="evaluate a run's checkpoint; writes eval.json", parents=[common])
    ev.add_argument("run_dir")
    ev.add_argument("--episodes", type=_integer(1), default=20)
    ev.add_argument("--seed", type=_integer(0), default=None)
    ev.add_argument("--render", action="store_true", help="render episodes where the environment supports it")
    ev.set_defaults(func=cmd_eval)
    plot = sub.add_parser("plot", help="overlay learning curves (mean ± std across seeds)", parents=[common])
    plot.add_argument("run_dirs", nargs="+")
    plot.add_argument("--out", default="curves.png")
    plot.add_argument("--metric", default="episode_return")
    plot.set_defaults(func=cmd_plot)
    lst = sub.add_parser("list", help="show algorithms and environments, or one algorithm's hyperparameters",
                         parents=[common])
    lst.add_argument("algo", nargs="?", help="an algorithm whose hyperparameters to show")
    lst.set_defaults(func=cmd_list)
    game = sub.add_parser("play", help="play a board game in the terminal against a trained agent (alphazero)",
                          parents=[common])
    game.add_argument("run_dir")
    game.add_argument("--first", choices=("human", "agent"), default="human", help="who moves first")
    game.add_argument("--simulations", type=_integer(1), default=None, help="the agent's searches per move")
    game.set_defaults(func=cmd_play)
    return parser


# what the user can fix, besides minirl's own errors: a value refused by a library below (ValueError), a name not
# found (KeyError), a path that cannot be used (OSError: missing, not a directory, no permission, disk full)
EXPECTED = (MinirlError, ValueError, KeyError, OSError)


def main(argv=None) -> int:
    """Run the command; an expected error becomes one line on stderr and exit code 2 (`--debug`: a traceback)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train" and not args.algo and not args.resume:
            raise ConfigurationError("train: no algorithm given",
                                     "name one (see `minirl list`) or pass --resume RUN_DIR")
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"minirl: interrupted{_resume_hint(args)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EXPECTED as exc:
        if args.debug:
            raise
        print(f"minirl: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, MinirlError):
        text = str(exc)
    elif isinstance(exc, KeyError):
        text = str(exc.args[0]) if exc.args else "a key is missing"
    elif isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())  # one line, whatever the message held


def _resume_hint(args) -> str:
    """After Ctrl-C in training: how to continue, when a checkpoint was written."""
    run = getattr(args, "run", None)
    if run is not None and (Path(run) / "checkpoint.npz").exists():
        return f": continue with `minirl train --resume {run}`"
    return ""


if __name__ == "__main__":
    sys.exit(main())
