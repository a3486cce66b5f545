"""Uniform experience replay (book §4.3, L18201–18235; Algorithm 4.17 DQN, L18289–18355).

DQN stores every transition (φ_t, A_t, R_t, D_t, φ_{t+1}) in a replay buffer D that keeps the last N of them (first
in, first out) and learns from minibatches drawn uniformly from D, which breaks the correlation between consecutive
samples and reuses each one many times.

Design choices of this buffer:

- Arrays are allocated once, at full capacity, and written in a circle: slot `position` holds the next transition,
  so once the buffer is full the oldest transition is the one overwritten.
- The book's single done flag D_t is split in two, as Gymnasium does: `terminated` (the MDP reached a terminal
  state: the target is R_t alone) and `truncated` (a time limit cut the episode: the target still bootstraps from
  the next state). Mixing them up teaches the agent that time-outs are terminal.
- `next_obs` is stored explicitly rather than read from the next slot: with vector environments that reset a finished
  copy in the same step, the observation returned is already the next episode's first one, and the true last
  observation (`info["final_obs"]`) is what the transition needs.
- `add` takes one step of `num_envs` parallel environments at once.
- `n_step > 1` turns each environment's stream into n-step transitions (4.17) before storing them (see n_step.py);
  every stored transition carries its bootstrap discount γ^m, so a learner writes one target for both cases:
      Y = rewards + discounts · (1 − terminated) · max_a Q̂(next_obs, a)        (4.18; (4.9) when n = 1)
- Sampling is with replacement, as in the book's DQN code (L19283).
"""

from typing import NamedTuple

import numpy as np

from minirl.buffers.n_step import NStepAccumulator


def as_shape(shape):
    """A shape tuple from a tuple, list or a bare int (obs_shape=4 means (4,))."""
    return (int(shape),) if np.isscalar(shape) else tuple(int(d) for d in shape)


class Batch(NamedTuple):
    """A minibatch of transitions. `discounts` is γ^m for the bootstrap term (m = n, or fewer steps at an episode's
    end); `indices` are the buffer slots (to update priorities); `weights` are the importance-sampling weights (4.16)
    of prioritized replay, all ones for uniform replay."""
    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    discounts: np.ndarray
    indices: np.ndarray
    weights: np.ndarray


class ReplayBuffer:
    """A circular buffer of the last `capacity` transitions, sampled uniformly.

    Parameters: `capacity` transitions in total (over all environments); `obs_shape`, `action_shape` and their dtypes
    describe one environment's observation and action; `num_envs` is how many environments each `add` carries;
    `n_step` and `gamma` define the stored returns and discounts (γ^m, so γ itself when n_step is 1); `seed` is an
    int, None or a `np.random.Generator`.
    """

    FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated", "discounts")

    def __init__(self, capacity, obs_shape, action_shape=(), obs_dtype=np.float32, action_dtype=np.int64,
                 num_envs=1, n_step=1, gamma=0.99, seed=None):
        if capacity < 1:
            raise ValueError(f"{type(self).__name__}: capacity must be at least 1, got {capacity}")
        self.capacity, self.num_envs = int(capacity), int(num_envs)
        self.obs_shape, self.action_shape = as_shape(obs_shape), as_shape(action_shape)
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((self.capacity, *self.action_shape), dtype=action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.truncated = np.zeros(self.capacity, dtype=bool)
        self.discounts = np.zeros(self.capacity, dtype=np.float32)
        self.position = 0  # the slot the next transition goes to
        self.size = 0      # how many slots hold a transition
        self.n_step_accumulator = NStepAccumulator(n_step, gamma, self.num_envs, self.obs_shape, self.action_shape,
                                                   obs_dtype, action_dtype)
        self.rng = np.random.default_rng(seed)
        # what `add` accepts, per argument: the name, the shape of one step of all environments and the dtype
        self._columns = tuple((name, (self.num_envs, *shape), np.dtype(dtype)) for name, shape, dtype in (
            ("obs", self.obs_shape, obs_dtype), ("action", self.action_shape, action_dtype),
            ("reward", (), np.float64), ("next_obs", self.obs_shape, obs_dtype), ("terminated", (), bool),
            ("truncated", (), bool)))
        self._arrays = tuple(getattr(self, name) for name in self.FIELDS[:-1])  # where those columns go

    @property
    def n_step(self):
        return self.n_step_accumulator.n_step

    @property
    def gamma(self):
        return self.n_step_accumulator.gamma

    def __len__(self):
        return self.size

    def _one_step_of_all_envs(self, value, name, shape, dtype):
        """`value` as an array of `shape`, (num_envs, ...); one unbatched item is accepted when num_envs is 1."""
        if type(value) is np.ndarray and value.dtype is dtype and value.shape == shape:  # as the env returns it
            return value
        value = np.asarray(value, dtype=dtype)
        if value.shape == shape:
            return value
        if self.num_envs == 1 and value.shape == shape[1:]:
            return value[None]
        raise ValueError(f"{type(self).__name__}.add: {name} should have shape {shape} (num_envs, ...), got "
                         f"{value.shape}")

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        """Store one step of all `num_envs` environments; return the slots written (with n-step returns, the
        transitions finished by this step, which may be none or several per environment)."""
        step = self._one_step_of_all_envs  # every argument is checked before anything is written
        columns = [step(value, *column) for value, column in
                   zip((obs, action, reward, next_obs, terminated, truncated), self._columns)]
        if self.n_step_accumulator.n_step == 1 and self.num_envs <= self.capacity:
            # one-step transitions are finished at once: each column goes straight into its slots, and every
            # one of them bootstraps with γ
            start, count = self.position, self.num_envs
            slots = self._advance(count)
            if count == 1:  # one environment: its slot by index, a cheaper write than a slice of one
                for array, column in zip(self._arrays, columns):
                    array[start] = column[0]
                self.discounts[start] = self.n_step_accumulator.gamma
                return slots
            where = slice(start, start + count) if start + count <= self.capacity else slots  # a slice, unless it wraps
            for array, column in zip(self._arrays, columns):
                array[where] = column
            self.discounts[where] = self.n_step_accumulator.gamma
            return slots
        return self._write(self.n_step_accumulator.push(*columns))

    def _advance(self, count):
        """The `count` slots the next transitions go to, oldest first; moves `position` and `size` past them."""
        start = self.position
        slots = np.arange(start, start + count)
        if start + count > self.capacity:
            slots %= self.capacity
        self.position = (start + count) % self.capacity
        self.size = min(self.size + count, self.capacity)
        return slots

    def _write(self, transitions):
        count = len(transitions["rewards"])
        if count > self.capacity:  # only the newest `capacity` would survive anyway
            transitions = {name: column[-self.capacity:] for name, column in transitions.items()}
            count = self.capacity
        slots = self._advance(count)
        # the usual case, one run of slots that does not wrap around: a slice writes faster than an index array
        where = slice(slots[0], slots[0] + count) if count and slots[-1] - slots[0] == count - 1 else slots
        for name in self.FIELDS:
            getattr(self, name)[where] = transitions[name]
        return slots

    def _batch(self, indices, weights):
        # `take` along the first axis gathers rows as indexing does, several times faster for (N, d) arrays
        return Batch(self.obs.take(indices, axis=0), self.actions.take(indices, axis=0), self.rewards[indices],
                     self.next_obs.take(indices, axis=0), self.terminated[indices], self.truncated[indices],
                     self.discounts[indices], indices, weights.astype(np.float32, copy=False))

    def sample(self, batch_size):
        """`batch_size` transitions drawn uniformly, with replacement, from the filled slots."""
        if self.size == 0:
            raise ValueError(f"{type(self).__name__}.sample: the buffer is empty; add transitions first")
        indices = self.rng.integers(0, self.size, size=batch_size)
        return self._batch(indices, np.ones(batch_size, dtype=np.float32))

    def state_dict(self):
        """Everything needed to resume: stored arrays, write position, pending n-step windows, generator state."""
        state = {name: getattr(self, name).copy() for name in self.FIELDS}
        state.update(position=self.position, size=self.size, rng=self.rng.bit_generator.state,
                     n_step=self.n_step_accumulator.state_dict())
        return state

    def load_state_dict(self, state):
        for name in self.FIELDS:
            target = getattr(self, name)
            if np.shape(state[name]) != target.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name} has shape "
                                 f"{np.shape(state[name])}, expected {target.shape}")
            target[...] = state[name]
        self.position, self.size = int(state["position"]), int(state["size"])
        self.rng.bit_generator.state = state["rng"]
        self.n_step_accumulator.load_state_dict(state["n_step"])
