"""A3C: the asynchronous advantage actor-critic (book ch. 5.6, Algorithm 5.21, L20779–20888; ch. 12.4.1,
Algorithm 12.37, L34531–34665; appendix B.63 and B.79; Mnih et al. 2016). A3C is A2C without the barrier: each
worker sends its gradient to the global parameters as soon as it has it, and carries on with whatever the
parameters are then. The box, as this file runs it:

    global θ, ψ and RMSprop's statistics g, in shared memory; the step counter T   `_train`: RawArrays, a Value
    worker k (a process with its own copies and its own network θ', ψ'):           `_work`, an A2C learner
        repeat until T ≥ T_max:
            θ' ← θ,  ψ' ← ψ                                                         vector_to_parameters
            run π_θ' for t_max steps in each copy, keeping (S_i, A_i, R_i)          A2C._collect_rollout
            R = 0 at a terminal state, else V_ψ'(S_t)
            for i = t−1, …, t_start:  R ← R_i + γR                                  GAE with λ = 1 (the default)
                dθ += ∇_θ' log π_θ'(A_i|S_i) (R − V_ψ'(S_i))                       A2C.compute_gradients
                dψ += ∂(R − V_ψ'(S_i))² / ∂ψ'                                      (a2c_losses, then backward)
            g ← α g + (1 − α) dθ²;  θ ← θ − η dθ / (√g + ε)    (and ψ alike)         Optimizer.update_arrays
            T ← T + t_max · copies

Lock-free by default (Hogwild, Recht et al. 2011): two workers may write the same parameter at once, and one
write can be lost; with small, sparse-enough steps this costs little, and no worker waits. `lock=True` applies
each update under a lock instead. The statistics g are shared as well, as in the book's A3C code and Mnih et al.'s
shared RMSprop: every worker scales its step by the same running average of squared gradients.

What asynchrony means for a seed: the seed fixes the start (the network, every worker's copies and sampling),
not the run. Which worker's gradient lands first, and on which parameters, depends on the operating system's
scheduling, so two runs with one seed differ, and a resumed run continues from the checkpoint's parameters,
statistics and step count rather than repeating the run it interrupts.

The workers are processes (`multiprocessing`, started by "spawn"): the environment must reach them by pickling,
so pass a registered id, or a function defined at the top level of a module (a script that starts training
must then guard it with ``if __name__ == "__main__":``). The main process only watches: it logs the episodes
the workers report, checkpoints the shared parameters, and stops every worker when training ends, on Ctrl-C,
or when one of them raises (its traceback is shown).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import multiprocessing as mp
import os
import pickle
import queue
import signal
import sys
import time
import traceback

import numpy as np

from minirl.algos.a2c import A2C
from minirl.algos.base import Agent, Hyperparameter, TrainingHooks, is_env_factory
from minirl.optim.conjugate_gradient import parameters_to_vector, vector_to_parameters

# A2C's settings that A3C leaves out: one optimizer (RMSprop, whose statistics are shared), and no running
# normalizers (each worker would keep its own, and the global network would match none of them)
NOT_SHARED = ("optimizer", "normalize_obs", "normalize_reward")


class WorkerError(RuntimeError):
    """A worker process raised, or died; every other worker has been stopped."""


class A3C(A2C):
    """Asynchronous advantage actor-critic: workers apply their gradients to shared parameters (Algorithm 5.21).

    In this process, the A2C parts hold the global network, act with it, and give the spaces."""

    name = "a3c"
    hyperparameters = {
        **{key: h for key, h in A2C.hyperparameters.items() if key not in NOT_SHARED},
        "num_workers": Hyperparameter(2, "worker processes, each with its own copies and network", low=1),
        "num_envs": Hyperparameter(4, "environment copies in each worker", low=1),
        "num_steps": Hyperparameter(5, "t_max: steps per copy before a worker sends its gradient", low=1),
        "lock": Hyperparameter(False, "apply each gradient under a lock (default: lock-free, Hogwild)"),
        "rms_eps": Hyperparameter(1e-5, "RMSprop's ε", low=0.0),
    }
    default_steps = {"CartPole-v1": 300_000}
    env_defaults: dict = {}  # (not A2C's tables: they use settings A3C does not have)

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        super().check_hyperparameters(values)
        cores = os.cpu_count() or 1
        if values["num_workers"] > cores:
            raise ValueError(f"a3c.num_workers: expected at most {cores}, the CPU cores of this machine (each worker "
                             f"is a busy process: more only take turns on the same cores), got {values['num_workers']}")

    def __init__(self, env, seed: int = 0, **overrides):
        if is_env_factory(env):
            _check_picklable(env)
        elif not isinstance(env, str):
            raise TypeError(f"a3c: its workers build their own copies of the environment, so it needs a registered "
                            f"id or a function that makes one, got {type(env).__name__}")
        super().__init__(env, seed, **overrides)
        # RMSprop's running average of squared gradients: shared by the workers while they train
        self.square_avg = np.zeros(parameters_to_vector(self.policy.parameters()).size, dtype=np.float32)
        self.workers: list = []
        self._lock = None

    def make_optimizer(self, parameters):
        return None  # each worker's own RMSprop applies its gradients to the shared arrays

    # -- the global network and its workers ---------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        if self.num_timesteps >= total_steps:
            return
        hp, context = self.hp, mp.get_context("spawn")
        parameters = list(self.policy.parameters())
        theta = _shared_copy(context, parameters_to_vector(parameters))   # θ and ψ, in one flat array
        square_avg = _shared_copy(context, self.square_avg)                # g
        self._share(parameters, theta, square_avg)
        counter = context.Value("q", self.num_timesteps)                   # T
        stop, messages = context.Event(), context.Queue()
        self._lock = context.Lock() if hp["lock"] else None
        settings = {key: value for key, value in hp.items() if key in A2C.hyperparameters}
        environment = self.env_id if self.env_id is not None else self.env_factory
        self.workers = [context.Process(target=_work, name=f"a3c-worker-{k}", daemon=True,
                                        args=(k, environment, self._worker_seed(k), settings, total_steps, theta,
                                              square_avg, counter, stop, messages, self._lock))
                        for k in range(hp["num_workers"])]
        try:
            with _sigint_ignored(), _main_script_kept_out(unless=environment):
                for worker in self.workers:
                    worker.start()
            self._watch(counter, messages, hooks)
        finally:
            stop.set()
            _shut_down(self.workers, messages)
            self.num_timesteps = counter.value

    def _watch(self, counter, messages, hooks) -> None:
        """Report the workers' episodes and progress to the hooks until every worker is done; raise WorkerError
        when one raises or dies."""
        done: set[int] = set()
        while len(done) < len(self.workers):
            try:
                message = messages.get(timeout=0.1)
            except queue.Empty:
                message = None
            self.num_timesteps = counter.value
            if message is not None:
                self._receive(message, done, hooks)
            for k, worker in enumerate(self.workers):
                if k not in done and worker.exitcode not in (None, 0):  # died: its last words may still be queued
                    for message in _drain(messages):
                        self._receive(message, done, hooks)
                    raise WorkerError(f"a3c: worker {k} died with exit code {worker.exitcode} without a traceback "
                                      f"(killed by a signal, or out of memory?); the other workers were stopped")
            if hooks.on_step(self) is False:
                return
            hooks.on_boundary(self)

    def _receive(self, message, done: set, hooks) -> None:
        kind, k, *payload = message
        if kind == "episode":
            self.num_episodes += 1
            hooks.on_episode(self, *payload)
        elif kind == "done":
            done.add(k)
        elif kind == "error":
            raise WorkerError(f"a3c: worker {k} raised, and the other workers were stopped. Its traceback:\n"
                              f"{payload[0]}")

    def _worker_seed(self, k: int) -> int:
        """Worker k's seed, from the agent's seed, k, and the step the run starts from (a resumed run's workers
        do not replay the first run's episodes)."""
        return int(np.random.SeedSequence([self.seed, k, self.num_timesteps]).generate_state(1)[0])

    def _share(self, parameters, theta, square_avg) -> None:
        """Make this process's network and statistics views of the shared arrays, so that acting, evaluating
        and checkpointing here read the global parameters as the workers write them."""
        flat, offset = _view(theta), 0
        for p in parameters:
            p.data = flat[offset:offset + p.data.size].reshape(p.shape)
            offset += p.data.size
        self.square_avg = _view(square_avg)

    # -- checkpoints ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        with self._lock if self._lock is not None else contextlib.nullcontext():  # lock-free: a snapshot in flight
            return {**Agent.state_dict(self), "policy": {k: np.array(v) for k, v in self.policy.state_dict().items()},
                    "square_avg": self.square_avg.copy()}

    def load_state_dict(self, state: dict) -> None:
        Agent.load_state_dict(self, state)
        self.policy.load_state_dict(state["policy"])
        self.square_avg[...] = state["square_avg"]


class _WorkerHooks(TrainingHooks):
    """What a worker's rollout reports: finished episodes go to the main process; a stop request ends it."""

    def __init__(self, k: int, messages, stop):
        self.k, self.messages, self.stop = k, messages, stop

    def on_episode(self, agent, episode_return, episode_length):
        self.messages.put(("episode", self.k, float(episode_return), int(episode_length)))

    def on_step(self, agent):
        return False if self.stop.is_set() else None


def _work(k, environment, seed, settings, total_steps, theta, square_avg, counter, stop, messages, lock) -> None:
    """Worker k of the box: pull θ, run t_max steps, push dθ; until T reaches `total_steps` or `stop` is set."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        learner = A2C(environment, seed=seed, **settings)  # θ', ψ': this worker's network, copies and rollout
        learner._begin()
        parameters = list(learner.policy.parameters())
        theta, square_avg = _view(theta), _view(square_avg)
        hooks, rollout = _WorkerHooks(k, messages, stop), settings["num_envs"] * settings["num_steps"]
        rule, learning_rate = learner.optimizer, settings["learning_rate"]
        while not stop.is_set():
            with counter.get_lock():  # claim the steps of one rollout: T ← T + t_max · copies
                if counter.value >= total_steps:
                    break
                progress = counter.value / total_steps
                counter.value += rollout
            vector_to_parameters(theta, parameters)                                             # θ' ← θ, ψ' ← ψ
            if learner._collect_rollout(hooks):  # stopped mid-rollout
                break
            learner.compute_gradients()                                                         # dθ, dψ
            gradient = np.concatenate([p.grad.numpy().reshape(-1) for p in parameters])
            if settings["anneal_lr"]:
                rule.param_groups[0]["lr"] = learning_rate * (1.0 - progress)
            with lock if lock is not None else contextlib.nullcontext():
                rule.update_arrays(theta, gradient, {"square_avg": square_avg})     # g, θ ← RMSprop on the shared
        messages.put(("done", k))
    except BaseException:  # noqa: BLE001  (whatever it is, the main process must hear of it)
        messages.put(("error", k, traceback.format_exc()))
        raise SystemExit(1) from None


# -- processes and shared memory -------------------------------------------------------------------------------
def _shared_copy(context, array: np.ndarray):
    """A float32 array in shared memory (a RawArray: no lock of its own), holding a copy of `array`."""
    shared = context.RawArray("f", int(array.size))
    _view(shared)[...] = array.reshape(-1)
    return shared


def _view(shared) -> np.ndarray:
    return np.frombuffer(shared, dtype=np.float32)


def _check_picklable(factory) -> None:
    advice = ("pass a registered environment id, or a function defined at the top level of a module file (not a "
              "lambda or a function inside another)")
    try:
        pickle.dumps(factory)
    except Exception as error:  # noqa: BLE001  (pickling raises several kinds)
        raise TypeError(f"a3c: the environment factory {factory!r} cannot be sent to the worker processes "
                        f"({type(error).__name__}: {error}); {advice}") from None
    if factory.__module__ == "__main__" and not hasattr(sys.modules["__main__"], "__file__"):
        raise TypeError(f"a3c: the environment factory {factory!r} is defined in an interactive session (a notebook "
                        f"or the interpreter), where the worker processes cannot find it; {advice}")


@contextlib.contextmanager
def _main_script_kept_out(unless):
    """A spawned process first runs the main script again (as "__mp_main__"), to find what was defined there.
    The workers need nothing from it unless the environment factory lives there, so spawn is told not to: a
    script or tutorial that trains A3C at its top level does not then run again in every worker. (A factory
    defined in the main script needs the script's training under ``if __name__ == "__main__":``.)"""
    main = sys.modules["__main__"]
    if getattr(unless, "__module__", None) == "__main__":
        yield
        return
    spec = getattr(main, "__spec__", None)
    main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)  # spawn skips a main module of this name
    try:
        yield
    finally:
        main.__spec__ = spec


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore Ctrl-C while the workers start (they inherit it); the main thread only can change it."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _drain(messages) -> list:
    out = []
    with contextlib.suppress(queue.Empty, OSError, ValueError):
        while True:
            out.append(messages.get_nowait())
    return out


def _shut_down(workers, messages, timeout: float = 5.0) -> None:
    """Wait for the workers to see the stop request (at their next step), then end those that do not; the
    queue is emptied meanwhile, since a worker cannot exit while its last messages are unsent."""
    deadline = time.monotonic() + timeout
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        _drain(messages)
        for worker in workers:
            worker.join(0.02)
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
            worker.join(1.0)
        if worker.is_alive():
            worker.kill()
            worker.join()
    messages.close()
    messages.join_thread()


__all__ = ["A3C", "WorkerError"]
