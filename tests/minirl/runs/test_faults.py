"""Runs never lose a user's work: every way a new user was found to break a run or mislead minirl, as a regression
test. Wherever nothing should change, the files on disk are compared byte for byte before and after."""

import json
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minirl import algos
from minirl.algos.base import Hyperparameter
from minirl.cli import main
from minirl.errors import CheckpointError, ConfigurationError, IncompatibleEnvironmentError, RunDirectoryError
from minirl.io import atomic
from minirl.io.checkpoint import load_checkpoint, save_checkpoint
from minirl.runs import trainer


def snapshot(directory) -> dict:
    """Every file under `directory` (relative path -> bytes): what must not change."""
    directory = os.fspath(directory)
    files = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, directory)] = f.read()
    return files


def cli(capsys, *argv):
    """Run the command; returns (exit code, stdout, stderr). Usage errors exit through argparse (SystemExit)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    assert err.startswith("minirl: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A small finished run (checkpoint, metrics, eval.json), copied by the tests that damage it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    trainer.train("random", "CartPole-v1", 600, seed=0, out=out, progress=False, evaluate_episodes=3)
    return out


@pytest.fixture
def run(finished_run, tmp_path):
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


# -- run directories ------------------------------------------------------------------------------------------
def test_train_into_a_run_directory_refuses_and_changes_nothing(run, capsys):
    before = snapshot(run)
    code, _, err = cli(capsys, "train", "random", "--env", "CartPole-v1", "--steps", "300", "--out", str(run),
                       "--quiet")
    assert_one_line_error(code, err, f"{run} is not empty", "--resume", "--force")
    assert snapshot(run) == before


def test_force_moves_the_old_run_aside_and_deletes_nothing(run, capsys):
    before = snapshot(run)
    code, _, err = cli(capsys, "train", "random", "--env", "CartPole-v1", "--steps", "300", "--out", str(run),
                       "--quiet", "--force")
    assert code == 0, err
    aside = [p for p in run.parent.iterdir() if p.name.startswith("run.old-")]
    assert len(aside) == 1 and snapshot(aside[0]) == before
    assert json.loads((run / "config.json").read_text())["steps"] == 300


def test_out_naming_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, _, err = cli(capsys, "train", "random", "--env", "CartPole-v1", "--steps", "100", "--out", str(target),
                       "--quiet")
    assert_one_line_error(code, err, "is a file")
    assert target.read_text() == "mine"


class Boom(Exception):
    pass


def test_a_run_that_fails_before_its_first_checkpoint_leaves_no_directory(tmp_path, monkeypatch):
    def failing(self, agent):
        raise Boom

    monkeypatch.setattr(trainer.RunHooks, "on_step", failing)
    with pytest.raises(Boom):
        trainer.train("random", "CartPole-v1", 500, out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_run_that_fails_after_a_checkpoint_stays_resumable(tmp_path, monkeypatch):
    on_step = trainer.RunHooks.on_step

    def failing(self, agent):
        if agent.num_timesteps >= 400:
            raise Boom
        return on_step(self, agent)

    monkeypatch.setattr(trainer.RunHooks, "on_step", failing)
    with pytest.raises(Boom):
        trainer.train("random", "CartPole-v1", 800, out=tmp_path / "run", progress=False, checkpoint_every=100)
    monkeypatch.undo()
    agent, _ = trainer.resume(tmp_path / "run", progress=False, evaluate_episodes=0)
    assert agent.num_timesteps == 800


def test_resume_without_a_checkpoint_says_how_to_start_again(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"algorithm": "random", "env_id": "CartPole-v1", "seed": 0,
                                                 "steps": 100, "hyperparameters": {}}))
    code, _, err = cli(capsys, "train", "--resume", str(run))
    assert_one_line_error(code, err, "has no checkpoint", "--force")


# -- eval -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("episodes", ["0", "-3", "two"])
def test_eval_refuses_a_bad_episode_count_and_keeps_eval_json(run, capsys, episodes):
    before = snapshot(run)
    code, _, err = cli(capsys, "eval", str(run), "--episodes", episodes)
    assert_one_line_error(code, err, "--episodes", "expected an integer ≥ 1")
    assert snapshot(run) == before
    with pytest.raises(ConfigurationError, match="episodes"):
        trainer.evaluate_run(run, episodes=0)
    assert snapshot(run) == before


def test_a_failed_evaluation_leaves_the_old_eval_json(run, monkeypatch):
    before = (run / "eval.json").read_bytes()

    def failing(*args, **kwargs):
        raise Boom

    monkeypatch.setattr(algos.get("random"), "evaluate", failing)
    with pytest.raises(Boom):
        trainer.evaluate_run(run, episodes=2)
    assert (run / "eval.json").read_bytes() == before
    assert not list(run.glob(".*.tmp"))


# -- settings, steps and seeds --------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,fragments", [
    (["--set", "target_kl=abc"], ["ppo.target_kl", "'abc'", "a number > 0.0 or None"]),
    (["--set", "gamma=nan"], ["ppo.gamma", "expected a finite number", "nan"]),
    (["--set", "gamma=1.5"], ["ppo.gamma", "[0.0, 1.0]", "1.5"]),
    (["--set", "learning_rate=-1e-3"], ["ppo.learning_rate", "> 0", "-0.001"]),
    (["--set", "hidden=abc"], ["ppo.hidden", "'abc'"]),
    (["--set", "num_envs=2.5"], ["ppo.num_envs", "an integer", "'2.5'"]),
    (["--set", "lr=0.1"], ["unknown hyperparameter(s) lr", "did you mean learning_rate"]),
    (["--set", "gamma"], ["--set", "key=value", "'gamma'"]),
    (["--set", "gamma=0.9", "gamma=0.8"], ["gamma is given twice"]),
    (["--steps", "0"], ["--steps", "expected an integer ≥ 1", "'0'"]),
    (["--steps", "-5"], ["--steps", "'-5'"]),
    (["--seed", "-1"], ["--seed", "expected an integer ≥ 0", "'-1'"]),
    (["--num-envs", "0"], ["--num-envs", "'0'"]),
])
def test_bad_settings_are_refused_by_name_before_anything_is_written(tmp_path, capsys, argv, fragments):
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train", "ppo", "--env", "CartPole-v1", "--out", str(out), "--quiet", *argv)
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


def test_an_incompatible_environment_is_one_line(tmp_path, capsys):
    code, _, err = cli(capsys, "train", "q_learning", "--env", "CartPole-v1", "--out", str(tmp_path / "r"), "--quiet")
    assert_one_line_error(code, err, "Discrete observation space")
    assert not (tmp_path / "r").exists()
    with pytest.raises(IncompatibleEnvironmentError):
        algos.get("q_learning")("CartPole-v1")
    with pytest.raises(TypeError):  # what a Python caller would catch
        algos.get("dqn")("Pendulum-v1")


def test_learn_and_evaluate_refuse_counts_below_one():
    agent = algos.get("random")("CartPole-v1")
    for bad in (-1, 0, 2.5, True):
        with pytest.raises(ConfigurationError, match="total_steps: expected an integer ≥ 1"):
            agent.learn(bad)
        with pytest.raises(ConfigurationError, match="episodes: expected an integer ≥ 1"):
            agent.evaluate(bad)
    assert agent.num_timesteps == 0
    with pytest.raises(ConfigurationError, match="seed: expected an integer ≥ 0, got -1"):
        algos.get("random")("CartPole-v1", seed=-1)


def test_several_settings_after_one_set(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train", "ppo", "--env", "CartPole-v1", "--steps", "256", "--out", str(out), "--quiet",
                       "--set", "num_envs=2", "num_steps=64", "--set", "gamma=0.95")
    assert code == 0, err
    hp = json.loads((out / "config.json").read_text())["hyperparameters"]
    assert (hp["num_envs"], hp["num_steps"], hp["gamma"]) == (2, 64, 0.95)


def test_every_agent_imports_by_its_class_name():
    from minirl.algos import DQN, PPO  # noqa: F401

    for path in algos.ALGORITHMS.values():
        class_name = path.partition(":")[2]
        assert getattr(algos, class_name) is algos.get(dict(zip(
            (p.partition(":")[2] for p in algos.ALGORITHMS.values()), algos.ALGORITHMS))[class_name])


def _every_hyperparameter():
    for name in algos.names():
        for key, h in algos.get(name).hyperparameters.items():
            yield name, key, h


# settings that take any finite number: their default documents what they mean
UNBOUNDED = {"log_std_init", "sde_log_std_init",  # a log standard deviation: any real number
             "v_min", "v_max",  # the distributional support's ends (their order is checked together)
             "target_entropy"}  # κ, an entropy: any real number (negative for continuous actions)


@pytest.mark.parametrize("algo,key,h", list(_every_hyperparameter()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_hyperparameter_declares_and_enforces_what_it_takes(algo, key, h):
    cls = algos.get(algo)
    assert h.doc.strip(), f"{algo}.{key} has no documentation"
    if h.type in (int, float):
        assert h.choices or h.low is not None or h.above is not None or h.high is not None or key in UNBOUNDED, \
            f"{algo}.{key}: a number without a declared range"
        env = next(iter(cls.env_defaults), "CartPole-v1")
        with pytest.raises(ConfigurationError, match=f"{algo}.{key}: expected"):
            cls.resolve_hyperparameters(env, {key: "nan"})
        with pytest.raises(ConfigurationError, match=f"{algo}.{key}: expected"):
            cls.resolve_hyperparameters(env, {key: "abc"})
        below = h.above if h.above is not None else (h.low - 1 if h.low is not None else None)
        if below is not None:
            with pytest.raises(ConfigurationError, match=f"{algo}.{key}: expected"):
                cls.resolve_hyperparameters(env, {key: h.type(below)})
        if h.high is not None:
            with pytest.raises(ConfigurationError, match=f"{algo}.{key}: expected"):
                cls.resolve_hyperparameters(env, {key: h.type(h.high + 1)})


def test_an_optional_setting_declares_its_type():
    with pytest.raises(TypeError, match="declares its type"):
        Hyperparameter(None, "off by default")
    h = Hyperparameter(None, "a clip", above=0.0, kind=float)
    assert h.parse("x.clip", "none") is None and h.parse("x.clip", "0.5") == 0.5
    with pytest.raises(ConfigurationError, match="x.clip: expected a number > 0.0 or None, got 'abc'"):
        h.parse("x.clip", "abc")


# -- resume ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv,fragments", [
    (["ppo"], ["algorithm is 'random', not 'ppo'"]),
    (["--env", "Acrobot-v1"], ["--env is 'CartPole-v1', not 'Acrobot-v1'"]),
    (["--seed", "4"], ["--seed is 0, not 4"]),
    (["--set", "gamma=0.5"], ["--set gamma", "only --steps may change"]),
    (["--num-envs", "2"], ["num_envs", "only --steps may change"]),
    (["--steps", "100"], ["already taken 600 steps", "--steps 600"]),
    (["--force"], ["--force applies to a new run"]),
])
def test_resume_refuses_to_change_what_the_run_is(run, capsys, argv, fragments):
    before = snapshot(run)
    algo = argv[:1] if argv[0] == "ppo" else []
    code, _, err = cli(capsys, "train", *algo, "--resume", str(run), "--quiet", *argv[len(algo):])
    assert_one_line_error(code, err, *fragments)
    assert snapshot(run) == before


def test_resume_records_what_changed_in_a_history(run, capsys):
    config = json.loads((run / "config.json").read_text())
    code, _, err = cli(capsys, "train", "random", "--env", "CartPole-v1", "--seed", "0", "--resume", str(run),
                       "--steps", "900", "--quiet")
    assert code == 0, err
    after = json.loads((run / "config.json").read_text())
    assert {k: v for k, v in after.items() if k != "history"} == {k: v for k, v in config.items() if k != "history"}
    (entry,) = after["history"]
    assert entry["from_step"] == 600 and entry["changed"] == {"steps": [600, 900]}
    assert trainer.target_steps(after) == 900


# -- the command's errors -------------------------------------------------------------------------------------
def test_checkpoint_errors_are_one_line_and_name_the_file(run, capsys):
    checkpoint = run / "checkpoint.npz"
    checkpoint.write_bytes(os.urandom(4000))  # random bytes
    code, _, err = cli(capsys, "eval", str(run))
    assert_one_line_error(code, err, str(checkpoint), "damaged or not a minirl checkpoint")
    assert "pickle" not in err
    checkpoint.unlink()
    code, _, err = cli(capsys, "eval", str(run))
    assert_one_line_error(code, err, f"checkpoint {checkpoint} does not exist")


def test_a_checkpoint_with_pickled_data_is_refused_without_advice_to_unpickle(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, __minirl_metadata__=np.array([{"a": 1}], dtype=object))  # an archive of a pickled entry
    with pytest.raises(CheckpointError, match="holds pickled objects, which minirl never writes") as exc:
        load_checkpoint(path)
    assert "allow_pickle" not in str(exc.value)
    with pytest.raises(TypeError, match="Python objects"):
        save_checkpoint(tmp_path / "d.npz", {"x": np.array([object()], dtype=object)})
    assert not (tmp_path / "d.npz").exists()


def test_a_checkpoint_missing_an_array_names_the_entry(tmp_path, capsys):
    run = tmp_path / "run"
    trainer.train("q_learning", "FrozenLake-v1", 200, out=run, progress=False, evaluate_episodes=0)
    checkpoint = run / "checkpoint.npz"
    with zipfile.ZipFile(checkpoint) as z:
        entries = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(checkpoint, "w") as z:
        for name, data in entries.items():
            if name != "a0.npy":
                z.writestr(name, data)
    code, _, err = cli(capsys, "eval", str(run))
    assert_one_line_error(code, err, str(checkpoint), "lacks the array 'a0'", "that holds /Q")


def test_a_checkpoint_missing_an_entry_names_it(tmp_path):
    agent = algos.get("random")("CartPole-v1")
    state = agent.state_dict()
    del state["env_rng"]
    path = save_checkpoint(tmp_path / "c.npz", state, agent.metadata())
    with pytest.raises(CheckpointError, match=f"checkpoint {path} lacks the entry 'env_rng'"):
        algos.get("random").load(path)


def test_a_checkpoint_of_another_algorithm_is_one_line(run, capsys):
    config = json.loads((run / "config.json").read_text())
    config["algorithm"] = "ppo"
    (run / "config.json").write_text(json.dumps(config))
    code, _, err = cli(capsys, "eval", str(run))
    assert_one_line_error(code, err, "written by algorithm 'random', not 'ppo'")


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(RunDirectoryError):
        main(["eval", str(tmp_path / "missing"), "--debug"])


def test_a_damaged_config_is_one_line(run, capsys):
    (run / "config.json").write_text("{not json")
    code, _, err = cli(capsys, "train", "--resume", str(run))
    assert_one_line_error(code, err, "config.json is damaged")


@given(st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_no_set_string_gives_a_traceback(items):
    """Random --set strings reach the parsing and checking of every setting, and never a traceback."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    def check_only(algo, env_id, steps, seed=0, overrides=None, **kwargs):  # validation, not training
        algos.get(algo).resolve_hyperparameters(env_id, overrides)
        raise Boom

    original, trainer.train = trainer.train, check_only
    err = io.StringIO()
    try:
        with redirect_stderr(err), redirect_stdout(io.StringIO()):
            try:
                code = main(["train", "ppo", "--env", "CartPole-v1", "--quiet", "--set", *items])
            except SystemExit as exc:  # argparse: an item that looks like an option
                code = exc.code
            except Boom:
                code = 0
    finally:
        trainer.train = original
    assert code in (0, 2)
    if code == 2:
        text = err.getvalue()
        assert text.startswith("minirl: ") and text.count("\n") == 1 and "Traceback" not in text, text


# -- atomic files ---------------------------------------------------------------------------------------------
def test_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = save_checkpoint(tmp_path / "c.npz", {"w": np.ones(2)})
        atomic.atomic_write_text(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o640


def test_a_write_is_synced_before_and_after_its_rename(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(("fsync", os.path.isdir(f"/proc/self/fd/{fd}")))
                        or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: calls.append(("replace", None)) or real_replace(a, b))
    atomic.atomic_write_text(tmp_path / "x.json", "{}")
    assert calls == [("fsync", False), ("replace", None), ("fsync", True)]


def test_stale_temporaries_are_removed_at_the_next_start(run):
    stale = run / ".checkpoint.npz.k1ll3d.tmp"
    stale.write_bytes(b"half a checkpoint")
    trainer.resume(run, steps=700, progress=False, evaluate_episodes=0)
    assert not stale.exists()
    history = json.loads((run / "config.json").read_text())["history"]
    assert history[-1]["removed_stale_temporaries"] == [stale.name]


def test_metrics_name_the_wall_clock_column(run):
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert trainer.WALL_CLOCK in header and "time" not in header


# -- environments and optimizers ------------------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ["Pendulum-v1", "MountainCarContinuous-v0"])
def test_continuous_envs_refuse_non_finite_actions(env_id):
    from minirl.envs import make, make_vec

    env = make(env_id)
    env.reset(seed=0)
    state = np.array(env.unwrapped.state, copy=True)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="expected finite actions"):
            env.step(np.array([bad], dtype=np.float32))
    np.testing.assert_array_equal(env.unwrapped.state, state)  # the state is untouched
    envs = make_vec(env_id, 2, seed=0)
    envs.reset()
    with pytest.raises(ValueError, match="expected finite actions"):
        envs.step(np.array([[0.0], [np.nan]]))


def test_optimizers_refuse_a_non_finite_rate_and_name_what_a_state_lacks():
    from autodiff import Tensor
    from minirl.optim import SGD, Adam, RMSprop

    w = Tensor(np.zeros(3), requires_grad=True)
    for make in (Adam, SGD, RMSprop):
        for bad in (float("nan"), float("inf"), -1.0):
            with pytest.raises(ValueError, match="invalid lr"):
                make([w], lr=bad)
    opt = Adam([w], lr=1e-3)
    with pytest.raises(ValueError, match="lacks 'state'"):
        opt.load_state_dict({"param_groups": opt.state_dict()["param_groups"]})
