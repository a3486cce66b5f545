"""A3C (book ch. 5.6, Algorithm 5.21; ch. 12.4.1, Algorithm 12.37): the shared update rule, one fast learning run
(the 5-seed target is in the slow suite), checkpoints and resume, and the ways a run of worker processes must end
cleanly: completion, a worker that raises, a killed main process, Ctrl-C. After each, no worker is left."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import autodiff as ad
from minirl.algos import A3C
from minirl.algos.a3c import WorkerError
from minirl.algos.base import TrainingHooks
from minirl.envs import make
from minirl.envs.wrappers import Wrapper
from minirl.io.logger import read_metrics
from minirl.optim.rmsprop import RMSprop
from minirl.runs import trainer


class ExplodingCartPole(Wrapper):
    """CartPole that raises on its 30th step: a worker that crashes."""

    def __init__(self):
        super().__init__(make("CartPole-v1"))
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps == 30:
            raise RuntimeError("the pole broke at step 30")
        return self.env.step(action)


def cartpole():
    return make("CartPole-v1")


def no_workers_left(agent):
    return mp.active_children() == [] and not any(w.is_alive() for w in agent.workers)


def test_a_worker_update_is_rmsprop_on_the_shared_arrays():
    rng = np.random.default_rng(0)
    theta, grad = rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    p = ad.tensor(theta.copy(), requires_grad=True)
    rule = RMSprop([p], lr=0.01, alpha=0.9, eps=1e-5)
    square_avg = np.full(6, 0.5, dtype=np.float32)
    rule.update_arrays(theta, grad, {"square_avg": square_avg})     # what a worker does to the shared arrays
    expected_avg = 0.9 * 0.5 + 0.1 * grad ** 2                       # g ← αg + (1 − α)dθ²
    np.testing.assert_allclose(square_avg, expected_avg, rtol=1e-6)
    np.testing.assert_allclose(theta, p.data - 0.01 * grad / (np.sqrt(expected_avg) + 1e-5), rtol=1e-5)
    p.grad = ad.tensor(grad)
    rule.step()                                                      # the same rule, stepping its own parameter
    rule.update_arrays(after := p.data.copy(), np.zeros(6, np.float32), {"square_avg": np.zeros(6, np.float32)})
    np.testing.assert_array_equal(after, p.data)                     # (a zero gradient moves nothing)
    np.testing.assert_allclose(rule.state[p]["square_avg"], 0.1 * grad ** 2, rtol=1e-6)


def test_a3c_learns_cartpole_with_two_workers_and_leaves_none_behind():
    agent = A3C("CartPole-v1", seed=0, num_workers=2).learn(40_000)
    assert no_workers_left(agent)
    assert 40_000 <= agent.num_timesteps < 40_000 + 2 * 4 * 5  # at most one rollout per worker past the end
    assert agent.num_episodes > 100
    # asynchronous: the seed fixes the start, not the run. Six runs of this test gave 171 to 500 (a greedy
    # untrained policy: about 9), so the threshold leaves room; the slow suite has the 300k-step target
    assert agent.evaluate(20)["mean_return"] >= 100


def test_lock_and_an_environment_factory():
    agent = A3C(cartpole, seed=1, num_workers=1, lock=True).learn(400)
    assert agent.num_timesteps >= 400 and agent.num_episodes > 0 and no_workers_left(agent)
    assert agent.evaluate(2)["episodes"] == 2


def test_a_gaussian_policy_on_pendulum():
    agent = A3C("Pendulum-v1", seed=0, num_workers=1, num_envs=2, num_steps=8).learn(320)
    assert agent.num_timesteps >= 320 and no_workers_left(agent)
    assert -2.0 <= float(agent.act(np.zeros(3, dtype=np.float32))[0]) <= 2.0


def test_a_worker_that_raises_stops_the_run_with_its_traceback():
    agent = A3C(ExplodingCartPole, seed=0, num_workers=2, num_envs=1)
    with pytest.raises(WorkerError, match="worker [01] raised") as error:
        agent.learn(10_000)
    message = str(error.value)
    assert "RuntimeError: the pole broke at step 30" in message and "Traceback" in message
    assert no_workers_left(agent)


def test_a_worker_killed_by_a_signal_stops_the_run():
    class KillWorkerOne(TrainingHooks):
        def on_step(self, agent):
            if agent.num_timesteps > 0 and agent.workers[1].is_alive():
                os.kill(agent.workers[1].pid, signal.SIGKILL)

    agent = A3C("CartPole-v1", seed=0, num_workers=2)
    with pytest.raises(WorkerError, match="worker 1 died with exit code -9 without a traceback"):
        agent.learn(1_000_000, KillWorkerOne())
    assert no_workers_left(agent)


class Killed(BaseException):
    """Stands for the process dying mid-run, as in the trainer's tests."""


def test_killed_run_leaves_no_workers_and_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    on_step = trainer.RunHooks.on_step

    def dying(self, agent):
        if agent.num_timesteps >= 6000:
            raise Killed
        return on_step(self, agent)

    monkeypatch.setattr(trainer.RunHooks, "on_step", dying)
    with pytest.raises(Killed):
        trainer.train("a3c", "CartPole-v1", 12_000, seed=0, out=tmp_path / "run", progress=False,
                      checkpoint_every=2000, evaluate_episodes=0)
    assert mp.active_children() == []
    monkeypatch.undo()
    saved = A3C.load(tmp_path / "run" / "checkpoint.npz")
    assert 2000 <= saved.num_timesteps < 6000 + 40
    resumed, _ = trainer.resume(tmp_path / "run", progress=False, evaluate_episodes=0)
    assert resumed.num_timesteps >= 12_000 and mp.active_children() == []
    steps = [row["step"] for row in read_metrics(tmp_path / "run")]
    assert steps == sorted(steps) and steps[-1] > 6000
    changed = [not np.array_equal(a, b) for a, b in zip(saved.policy.state_dict().values(),
                                                        resumed.policy.state_dict().values())]
    assert any(changed)  # it trained on from the checkpoint
    assert np.any(resumed.square_avg > 0)  # with the shared statistics


def test_ctrl_c_stops_every_worker(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        from minirl.algos import A3C
        from minirl.algos.base import TrainingHooks

        class Announce(TrainingHooks):
            said = False
            def on_step(self, agent):
                if not self.said and agent.num_timesteps > 0:
                    print(" ".join(str(w.pid) for w in agent.workers), flush=True)
                    self.said = True

        # no `if __name__ == "__main__":` guard: the workers do not run this script again
        A3C("CartPole-v1", seed=0, num_workers=2).learn(10_000_000, Announce())
    """))
    # Ctrl-C's default action in the child, whatever this process was started with: a shell that starts a
    # command in the background makes it ignore SIGINT, and a child would inherit that, then never stop
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    pids = [int(pid) for pid in process.stdout.readline().split()]
    assert len(pids) == 2
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode != 0 and "KeyboardInterrupt" in stderr
    assert stderr.count("Traceback") == 1  # the main process's; the workers ignore Ctrl-C and stop quietly
    time.sleep(0.2)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_bad_input_is_refused_by_name_before_any_process_starts():
    with pytest.raises(TypeError, match="cannot be sent to the worker processes"):
        A3C(lambda: make("CartPole-v1"))
    with pytest.raises(ValueError, match=r"a3c.num_workers: expected at most \d+, the CPU cores of this machine"):
        A3C("CartPole-v1", num_workers=(os.cpu_count() or 1) + 1)
    with pytest.raises(TypeError, match="needs a registered id or a function that makes one, got CartPoleEnv"):
        A3C(make("CartPole-v1").unwrapped)
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        A3C("CartPole-v1", normalize_obs=True)  # each worker would keep its own statistics
    assert mp.active_children() == []
