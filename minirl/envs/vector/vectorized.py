"""`VectorizedEnv`: N copies of an environment kept in arrays and stepped by one array operation.

An environment's physics is written once, for a batch of copies, as an object with

    observation_space, action_space      one copy's spaces
    draws_per_reset                      how many uniform numbers in [0, 1) one reset takes from a copy's generator
    initial_state(uniforms, options)     (M, draws_per_reset) uniforms -> state (d, M): row j is variable j of
                                            every copy (copies run along the last axis: (draws,) -> (d,) for one)
    step(state, actions, elapsed)        -> (next state (d, M), rewards (M,), terminated (M,)); `elapsed` counts the
                                            steps each copy took since its reset
    observe(state)                       (d, M) -> observations (M, *obs_shape)

and the same physics object drives both the single env (`minirl.envs.classic_control.base.ClassicControlEnv`,
which passes one state of shape (d,) and one action) and this vector env, so the two cannot drift apart.

Seeding matches N single envs exactly: copy i has its own generator (seeded with seed + i), and its resets use
the numbers that generator would give a single env, in the same order. Drawing them one copy at a time would
need a Python loop over the copies that reset at every step, so each copy keeps a reserve: one call draws the
numbers of its next `resets_per_refill` resets, which is the same stream, only fetched ahead.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.core import non_finite_action_message
from minirl.envs.spaces import Discrete, batch_space
from minirl.envs.spaces.space import np_random
from minirl.envs.vector.vector_env import VectorEnv
from minirl.errors import UnsupportedError


class VectorizedEnv(VectorEnv):
    """Steps `num_envs` copies of `physics` at once, with same-step autoreset and a per-copy time limit."""

    resets_per_refill = 64

    def __init__(self, physics, num_envs: int = 1, max_episode_steps: int | None = None, render_mode=None):
        if render_mode is not None:
            raise UnsupportedError(
                f"{type(self).__name__}: minirl's own environments do not render (render_mode={render_mode!r}); "
                "use minirl.envs.from_gymnasium(...) to watch Gymnasium's version"
            )
        if int(num_envs) <= 0:
            raise ValueError(f"{type(self).__name__}: num_envs must be positive, got {num_envs}")
        self.physics = physics
        self.num_envs = int(num_envs)
        self.max_episode_steps = None if max_episode_steps is None else int(max_episode_steps)
        self.single_observation_space = physics.observation_space
        self.single_action_space = physics.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._discrete = isinstance(self.single_action_space, Discrete)
        if self._discrete:  # the smallest and largest action, as Python ints
            start, n = int(self.single_action_space.start), int(self.single_action_space.n)
            self._action_bounds = start, start + n - 1
        self._generators: list[np.random.Generator | None] = [None] * self.num_envs
        # _reserve[i, r] holds the uniforms of copy i's r-th reset to come; _next[i] is the next unused r
        self._reserve = np.zeros((self.num_envs, self.resets_per_refill, physics.draws_per_reset))
        self._next = np.full(self.num_envs, self.resets_per_refill)
        self.state = None
        self.elapsed = np.zeros(self.num_envs, dtype=np.int64)

    def reset(self, *, seed=None, options=None):
        for i, copy_seed in enumerate(self.copy_seeds(seed)):
            if copy_seed is not None or self._generators[i] is None:
                self._generators[i], _ = np_random(copy_seed)
                self._next[i] = self.resets_per_refill  # numbers fetched from the old generator no longer apply
        self.state = self.physics.initial_state(self._uniforms(np.arange(self.num_envs)), options)
        self.elapsed[:] = 0
        return self.physics.observe(self.state), {}

    def step(self, actions):
        if self.state is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        actions = self._check_actions(actions)
        if self.num_envs == 1:  # a discrete action as a Python int, as a single env is given it
            return self._step_one_copy(int(actions[0]) if self._discrete else actions[0])
        self.state, rewards, terminated = self.physics.step(self.state, actions, self.elapsed)
        self.elapsed += 1
        if self.max_episode_steps is None:
            truncated = np.zeros(self.num_envs, dtype=bool)
        else:
            truncated = self.elapsed >= self.max_episode_steps
        observations = self.physics.observe(self.state)
        info = {}
        done = terminated | truncated
        if done.any():
            self._autoreset(done.nonzero()[0], done, observations, info)
        return observations, rewards, terminated, truncated, info

    def _step_one_copy(self, action):
        """`step` for one copy: the physics on the copy's state of shape (d,), NumPy scalars inside, as the single
        env runs it, and the step count and the end of the episode as Python numbers. A NumPy call costs the same
        for 1 element as for 100, and an operation on a number a tenth of that."""
        elapsed = int(self.elapsed[0])
        state, reward, terminated = self.physics.step(self.state[:, 0], action, elapsed)
        self.state = state.reshape(-1, 1)
        self.elapsed[0] = elapsed = elapsed + 1
        truncated = self.max_episode_steps is not None and elapsed >= self.max_episode_steps
        rewards, terminated, truncated = np.array([reward]), np.array([terminated]), np.array([truncated])
        observations = self.physics.observe(self.state)
        info = {}
        if terminated[0] or truncated[0]:
            self._autoreset(np.zeros(1, dtype=np.int64), terminated | truncated, observations, info)
        return observations, rewards, terminated, truncated, info

    def _autoreset(self, ended, done, observations, info):
        """Same-step autoreset of the copies `ended`: the finished episode's last observation goes to info, the new
        one's first is returned (written into `observations`)."""
        info["final_obs"], info["_final_obs"] = observations.copy(), done
        self.state[:, ended] = self.physics.initial_state(self._uniforms(ended), None)
        self.elapsed[ended] = 0
        observations[ended] = self.physics.observe(self.state[:, ended])

    def _uniforms(self, copies: np.ndarray) -> np.ndarray:
        """The next `draws_per_reset` uniforms of each copy in `copies`, shape (len(copies), draws_per_reset)."""
        for i in copies[self._next[copies] == self.resets_per_refill]:  # only copies whose reserve ran out
            # row after row: the same stream as drawing draws_per_reset numbers at each reset
            self._reserve[i] = self._generators[i].random(self._reserve.shape[1:])
            self._next[i] = 0
        uniforms = self._reserve[copies, self._next[copies]]
        self._next[copies] += 1
        return uniforms

    def state_dict(self) -> dict:
        """Everything that determines the copies' future: physics state, step counters, each copy's generator
        and its reserve of drawn numbers (a checkpoint taken mid-episode resumes exactly)."""
        if self.state is None:
            raise RuntimeError(f"{type(self).__name__}.state_dict: call reset() first")
        return {"state": self.state.copy(), "elapsed": self.elapsed.copy(), "reserve": self._reserve.copy(),
                "next": self._next.copy(), "generators": [g.bit_generator.state for g in self._generators]}

    def load_state_dict(self, state: dict) -> None:
        if np.shape(state["state"])[1:] != (self.num_envs,) or len(state["generators"]) != self.num_envs:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state holds "
                             f"{len(state['generators'])} copies, this env has {self.num_envs}")
        self.state = np.array(state["state"])
        self.elapsed = np.array(state["elapsed"], dtype=np.int64)
        self._reserve = np.array(state["reserve"])
        self._next = np.array(state["next"])
        self._generators = [np_random(None)[0] for _ in range(self.num_envs)]
        for generator, generator_state in zip(self._generators, state["generators"]):
            generator.bit_generator.state = generator_state

    def _check_actions(self, actions) -> np.ndarray:
        space, n = self.single_action_space, self.num_envs
        actions = np.asarray(actions)
        if self._discrete:
            low, high = self._action_bounds
            if (
                actions.shape != (n,)
                or actions.dtype.kind not in "iu"
                # one copy: its action itself (its min and max would be two NumPy calls)
                or not (low <= actions[0] <= high if n == 1 else low <= actions.min() and actions.max() <= high)
            ):
                raise ValueError(
                    f"{type(self).__name__}.step: expected {n} integer actions in [{low}, {high}], shape ({n},); "
                    f"got shape {actions.shape}, dtype {actions.dtype}: {np.array2string(actions, threshold=8)}"
                )
        elif actions.shape != (n, *space.shape):
            raise ValueError(
                f"{type(self).__name__}.step: expected actions of shape {(n, *space.shape)} (one {space} per copy), "
                f"got shape {actions.shape}"
            )
        elif not np.isfinite(actions).all():
            raise ValueError(non_finite_action_message(type(self).__name__, actions))
        return actions
