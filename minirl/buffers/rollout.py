"""The rollout buffer of on-policy methods: A2C (book §5.5, Algorithm 5.20), PPO (§5.8, Algorithms 5.23–5.24),
TRPO (§5.7); the book's `GAE_Buffer` (§5.10.5, L23627–23740) plays this role for one environment.

`num_envs` environments run the current policy for `num_steps` steps; every step stores, per environment, the
observation, action, log π(a|s), reward, V(s), and the two end-of-episode flags. Then
`compute_returns_and_advantages` fills the GAE(γ, λ) advantages (gae.py) and the value targets
returns = advantages + values, and `minibatches` hands the flattened num_steps·num_envs samples out in shuffled
minibatches for the epochs of a PPO update. The buffer is then `reset` for the next rollout.

Truncated steps: a vector environment resets a truncated copy in the same step, so the next stored observation
belongs to the next episode. To bootstrap through the cut, pass `final_values` = V(info["final_obs"]) to `add`;
it is used only where `truncated` is set.
"""

from typing import NamedTuple

import numpy as np

from minirl.buffers.gae import gae
from minirl.buffers.replay import as_shape


class RolloutBatch(NamedTuple):
    """A minibatch of flattened rollout samples."""
    obs: np.ndarray
    actions: np.ndarray
    log_probs: np.ndarray
    values: np.ndarray
    advantages: np.ndarray
    returns: np.ndarray
    index: np.ndarray  # where each sample sits in `batch()`'s order (to look up what was computed for all of them)


class RolloutBuffer:
    """Fixed-size storage of one on-policy rollout, arrays of shape (num_steps, num_envs, ...)."""

    def __init__(self, num_steps, num_envs, obs_shape, action_shape=(), obs_dtype=np.float32,
                 action_dtype=np.int64):
        self.num_steps, self.num_envs = int(num_steps), int(num_envs)
        self.obs_shape, self.action_shape = as_shape(obs_shape), as_shape(action_shape)
        grid = (self.num_steps, self.num_envs)
        self.obs = np.zeros(grid + self.obs_shape, dtype=obs_dtype)
        self.actions = np.zeros(grid + self.action_shape, dtype=action_dtype)
        self.log_probs = np.zeros(grid, dtype=np.float32)
        self.rewards = np.zeros(grid, dtype=np.float32)
        self.values = np.zeros(grid, dtype=np.float32)
        self.terminated = np.zeros(grid, dtype=bool)
        self.truncated = np.zeros(grid, dtype=bool)
        self.final_values = np.zeros(grid, dtype=np.float32)  # V(final observation) on truncated steps
        self.advantages = np.zeros(grid, dtype=np.float32)
        self.returns = np.zeros(grid, dtype=np.float32)
        self.index = np.arange(self.num_steps * self.num_envs).reshape(grid)
        self.step = 0  # how many steps are stored
        self.ready = False  # advantages and returns are computed

    @property
    def full(self):
        return self.step == self.num_steps

    def reset(self):
        self.step, self.ready = 0, False

    def add(self, obs, actions, log_probs, rewards, values, terminated, truncated, final_values=None):
        """Store one step of all environments; every argument has leading axis num_envs. `final_values` (num_envs,)
        is V of the true final observation, read where `truncated` is set (may be None when nothing is truncated)."""
        if self.full:
            raise ValueError(f"RolloutBuffer.add: the buffer already holds {self.num_steps} steps; call reset() "
                             "after the update")
        truncated = np.asarray(truncated, dtype=bool)
        if final_values is None:
            if truncated.any():
                raise ValueError("RolloutBuffer.add: some environments are truncated, so final_values "
                                 "(V of info['final_obs']) is needed to bootstrap through the time limit")
            final_values = np.zeros(self.num_envs)
        step = {}
        for name, value, shape in (("obs", obs, self.obs_shape), ("actions", actions, self.action_shape),
                                   ("log_probs", log_probs, ()), ("rewards", rewards, ()), ("values", values, ()),
                                   ("terminated", terminated, ()), ("truncated", truncated, ()),
                                   ("final_values", final_values, ())):
            step[name] = np.asarray(value)
            if step[name].shape != (self.num_envs, *shape):
                raise ValueError(f"RolloutBuffer.add: {name} should have shape {(self.num_envs, *shape)}, "
                                 f"got {step[name].shape}")
        t = self.step
        for name, value in step.items():
            getattr(self, name)[t] = value
        self.final_values[t] = np.where(truncated, self.final_values[t], 0.0)
        self.step += 1
        self.ready = False

    def compute_returns_and_advantages(self, last_values, gamma, gae_lambda):
        """GAE(γ, λ) advantages and value targets returns = advantages + values.

        `last_values` (num_envs,) is V of the observation after the last stored step (it is read only where that
        step did not end an episode: after a termination it is masked, after a truncation `final_values` is used).
        """
        if not self.full:
            raise ValueError(f"RolloutBuffer.compute_returns_and_advantages: only {self.step} of "
                             f"{self.num_steps} steps are stored")
        last_values = np.asarray(last_values, dtype=np.float64).reshape(self.num_envs)
        # V(s_{t+1}): the next stored value, V(last observation) after the last step ...
        next_values = np.concatenate([self.values[1:], last_values[None]]).astype(np.float64)
        # ... except where a time limit cut the episode: then the true final observation's value
        next_values = np.where(self.truncated, self.final_values, next_values)
        self.advantages[...] = gae(self.rewards, self.values, next_values, self.terminated, self.truncated,
                                   gamma, gae_lambda)
        self.returns[...] = self.advantages + self.values  # the λ-return, target of the value function
        self.ready = True
        return self.advantages, self.returns

    def batch(self) -> RolloutBatch:
        """The whole rollout as one `RolloutBatch` of num_steps·num_envs samples, time-major (one gradient step on
        all of it: A2C)."""
        if not self.ready:
            raise ValueError("RolloutBuffer.batch: call compute_returns_and_advantages first")
        total = self.num_steps * self.num_envs
        return RolloutBatch(*(getattr(self, name).reshape(total, *getattr(self, name).shape[2:])
                              for name in RolloutBatch._fields))

    def minibatches(self, batch_size, rng=None):
        """Yield `RolloutBatch`es over a random permutation of the num_steps·num_envs samples; the last one holds
        the remainder when batch_size does not divide the total. `rng` is a Generator, a seed or None."""
        if not self.ready:
            raise ValueError("RolloutBuffer.minibatches: call compute_returns_and_advantages first")
        total = self.num_steps * self.num_envs
        flat = {name: getattr(self, name).reshape(total, *getattr(self, name).shape[2:])
                for name in RolloutBatch._fields}
        order = np.random.default_rng(rng).permutation(total)
        for start in range(0, total, batch_size):
            chosen = order[start:start + batch_size]
            yield RolloutBatch(*(flat[name][chosen] for name in RolloutBatch._fields))
