"""The run directory, exact resumption after a kill, and the `minirl` command end to end."""

import json
import subprocess
import sys

import numpy as np
import pytest

from minirl import algos
from minirl.cli import main
from minirl.runs import trainer
from minirl.io.logger import read_metrics


def test_run_directory_has_every_file(tmp_path):
    _, run_dir = trainer.train("random", "CartPole-v1", 2000, seed=1, out=tmp_path / "run", progress=False,
                               evaluate_episodes=3)
    for name in ("config.json", "metrics.csv", "checkpoint.npz", "curve.png", "eval.json"):
        assert (run_dir / name).exists(), name
    config = json.loads((run_dir / "config.json").read_text())
    assert config["algorithm"] == "random" and config["env_id"] == "CartPole-v1" and config["steps"] == 2000
    rows = read_metrics(run_dir)
    assert rows and rows[-1]["step"] <= 2000
    assert all(r["episode_length"] >= 1 for r in rows)
    assert json.loads((run_dir / "eval.json").read_text())["episodes"] == 3


class Killed(BaseException):
    """Stands for the process dying mid-run (a BaseException, as KeyboardInterrupt is: nothing catches it)."""


def kill_at(monkeypatch, steps):
    """Make the next run die once `steps` environment steps are done, wherever the agent is."""
    on_step = trainer.RunHooks.on_step

    def dying(self, agent):
        if agent.num_timesteps >= steps:
            raise Killed
        return on_step(self, agent)

    monkeypatch.setattr(trainer.RunHooks, "on_step", dying)


@pytest.mark.parametrize("algo,env_id,steps,kill", [("random", "CartPole-v1", 3000, 1100),
                                                    ("q_learning", "FrozenLake-v1", 6000, 2500),
                                                    ("ppo", "CartPole-v1", 3072, 1300),
                                                    ("ppo_penalty", "CartPole-v1", 3072, 1300),
                                                    ("trpo", "CartPole-v1", 3072, 1300),
                                                    ("dqn", "CartPole-v1", 3000, 1700),
                                                    ("c51", "CartPole-v1", 2000, 1300),
                                                    ("qrdqn", "CartPole-v1", 2000, 1300),
                                                    ("rainbow", "CartPole-v1", 2000, 1300),
                                                    ("cem", "CartPole-v1", 6000, 3100),
                                                    ("reinforce", "CartPole-v1", 3000, 1700),
                                                    ("a2c", "CartPole-v1", 3000, 1700),
                                                    ("acktr", "CartPole-v1", 3200, 1700),
                                                    ("actor_critic", "CartPole-v1", 3000, 1700),
                                                    ("ddpg", "Pendulum-v1", 1500, 1300),
                                                    ("td3", "Pendulum-v1", 1500, 1300),
                                                    ("sac", "CartPole-v1", 1600, 1300),
                                                    pytest.param("alphazero", "TicTacToe-v0", 600, 530,
                                                                 marks=pytest.mark.slow)])
def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, monkeypatch, algo, env_id, steps, kill):
    whole, whole_dir = trainer.train(algo, env_id, steps, seed=3, out=tmp_path / "whole", progress=False,
                                     checkpoint_every=500, evaluate_episodes=0)
    kill_at(monkeypatch, kill)
    with pytest.raises(Killed):
        trainer.train(algo, env_id, steps, seed=3, out=tmp_path / "cut", progress=False, checkpoint_every=500,
                      evaluate_episodes=0)
    monkeypatch.undo()
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["steps"] == steps
    resumed, cut_dir = trainer.resume(tmp_path / "cut", progress=False, checkpoint_every=500, evaluate_episodes=0)
    assert resumed.num_timesteps == whole.num_timesteps == steps
    strip = lambda rows: [{k: v for k, v in r.items() if k != trainer.WALL_CLOCK} for r in rows]  # noqa: E731
    assert strip(read_metrics(whole_dir)) == strip(read_metrics(cut_dir))
    if hasattr(whole, "Q"):
        np.testing.assert_array_equal(whole.Q, resumed.Q)
    if hasattr(whole, "variance"):  # the search distribution of the cross-entropy method
        np.testing.assert_array_equal(whole.mean, resumed.mean)
        np.testing.assert_array_equal(whole.variance, resumed.variance)
    network = next((name for name in ("policy", "q_network", "actor")
                    if hasattr(getattr(whole, name, None), "state_dict")), None)
    if network:
        final, again = getattr(whole, network).state_dict(), getattr(resumed, network).state_dict()
        for (name, p), q in zip(final.items(), again.values()):
            np.testing.assert_array_equal(p, q, err_msg=name)


def test_q_learning_learns_frozen_lake(tmp_path):
    agent, _ = trainer.train("q_learning", "FrozenLake-v1", 60_000, seed=0, out=tmp_path / "run", progress=False,
                             evaluate_episodes=0)
    # the optimal policy of the slippery 4x4 lake succeeds about 74% of the time; random play about 1.5%
    assert agent.evaluate(200)["mean_return"] > 0.5


def test_cli_train_eval_plot_list(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "random", "--env", "CartPole-v1", "--steps", "1500", "--out", str(run), "--quiet"]) == 0
    assert main(["eval", str(run), "--episodes", "4"]) == 0
    record = json.loads((run / "eval.json").read_text())
    assert set(record) == {"mean_return", "std_return", "episodes"} and record["episodes"] == 4
    assert main(["plot", str(run), "--out", str(tmp_path / "curves.png")]) == 0
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "q_learning" in out and "CartPole-v1" in out
    assert main(["list", "ppo"]) == 0
    out = capsys.readouterr().out
    assert "clip_coef = 0.2: ε, the clip range" in out and "defaults for CartPole-v1" in out


@pytest.mark.parametrize("argv,message", [
    (["train", "nope", "--env", "CartPole-v1"], "unknown algorithm 'nope': choose one of "),
    (["train", "random", "--env", "Nope-v0"], "unknown environment 'Nope-v0': choose one of "),
    (["train", "q_learning", "--env", "FrozenLake-v1", "--set", "alpha=0.1"], "unknown hyperparameter(s) alpha"),
    (["train", "q_learning", "--env", "FrozenLake-v1", "--set", "gamma=high"], "expected a number in [0.0, 1.0], got 'high'"),
    (["eval", "/nonexistent/run"], "/nonexistent/run does not exist"),
])
def test_cli_errors_say_what_exists(argv, message, capsys):
    assert main(argv + ["--quiet"] if argv[0] == "train" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("minirl: ") and message in err and err.count("\n") == 1


def test_eval_render_is_refused_clearly_by_our_own_envs(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "random", "--env", "CartPole-v1", "--steps", "200", "--out", str(run), "--quiet"])
    assert main(["eval", str(run), "--episodes", "1", "--render"]) == 2
    assert "do not render" in capsys.readouterr().err


def test_console_entry_point_runs():
    proc = subprocess.run([sys.executable, "-m", "minirl", "list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("algorithms") and "CartPole-v1" in proc.stdout


def test_every_registered_algorithm_loads():
    for name in algos.names():
        assert algos.get(name).name == name


def test_set_gives_optional_hyperparameters_their_numbers():
    """A hyperparameter whose default is None (PPO's target_kl) takes a number from --set, and "none" back."""
    from minirl.algos import get

    ppo = get("ppo")
    assert ppo.resolve_hyperparameters("CartPole-v1", {"target_kl": "0.02"})["target_kl"] == 0.02
    assert ppo.resolve_hyperparameters("CartPole-v1", {"target_kl": "none"})["target_kl"] is None
