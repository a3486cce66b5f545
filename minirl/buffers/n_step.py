"""n-step transitions for multi-step learning (book §4.7, L18717–18777, one of Rainbow's components).

The truncated n-step return from S_t (4.17) and the Q-learning target built on it (4.18) are

    R_t^(n) = Σ_{k=0}^{n−1} γ^k R_{t+k},        target = R_t^(n) + γ^n max_a Q(S_{t+n}, a).

An environment hands out one 1-step transition (S_t, A_t, R_t, S_{t+1}) per step, so the n-step transition that starts
at t is known only n steps later. `NStepAccumulator` keeps, for every environment copy, a window of its last pending
1-step transitions and emits

    (S_t, A_t, R_t^(m), S_{t+m}, terminated_{t+m−1}, truncated_{t+m−1}, discount γ^m)

where m = n normally, and m < n when the episode ends first: the sum stops at the episode's last reward and the
transition keeps that last step's flags. After a termination the target must not bootstrap (the learner multiplies by
1 − terminated); after a truncation it bootstraps from S_{t+m}, the true final observation of the cut episode, with
discount γ^m. When an episode ends, every transition still pending in that environment's window is emitted at once,
so no window ever mixes two episodes.

Each window is a ring of n slots per environment: `start[e]` is the slot of the oldest pending transition and
`length[e]` how many are pending. Columns are reordered oldest-first only when returns are computed, so nothing is
shifted in memory.
"""

import numpy as np


class NStepAccumulator:
    """Per-environment windows that turn streams of 1-step transitions into n-step transitions (4.17)."""

    def __init__(self, n_step, gamma, num_envs, obs_shape, action_shape=(), obs_dtype=np.float32,
                 action_dtype=np.int64):
        if n_step < 1:
            raise ValueError(f"NStepAccumulator: n_step must be at least 1, got {n_step}")
        self.n_step, self.gamma, self.num_envs = int(n_step), float(gamma), int(num_envs)
        window = (self.num_envs, self.n_step)
        self.obs = np.zeros(window + tuple(obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(window + tuple(action_shape), dtype=action_dtype)
        self.rewards = np.zeros(window, dtype=np.float64)
        self.next_obs = np.zeros(window + tuple(obs_shape), dtype=obs_dtype)
        self.terminated = np.zeros(window, dtype=bool)
        self.truncated = np.zeros(window, dtype=bool)
        self.start = np.zeros(self.num_envs, dtype=np.int64)
        self.length = np.zeros(self.num_envs, dtype=np.int64)

    def push(self, obs, actions, rewards, next_obs, terminated, truncated):
        """Add one step of every environment (arrays with leading axis num_envs); return the finished n-step
        transitions as a dict of arrays with a common leading axis (possibly of length 0), grouped by environment and
        oldest first within one."""
        envs = np.arange(self.num_envs)
        newest = (self.start + self.length) % self.n_step
        for name, value in (("obs", obs), ("actions", actions), ("rewards", rewards), ("next_obs", next_obs),
                            ("terminated", terminated), ("truncated", truncated)):
            getattr(self, name)[envs, newest] = value
        self.length += 1

        # column j of `ring` is the ring slot of the j-th oldest pending transition
        columns = np.arange(self.n_step)
        ring = (self.start[:, None] + columns) % self.n_step
        pending = columns < self.length[:, None]
        rewards_in_order = np.where(pending, self.rewards[envs[:, None], ring], 0.0)

        # G_j = R_j + γ G_{j+1}, scanned from the newest pending reward back: G_j = Σ_{k<m_j} γ^k R_{j+k}  (4.17)
        returns = np.zeros_like(rewards_in_order)
        running = np.zeros(self.num_envs)
        for j in reversed(range(self.n_step)):
            running = rewards_in_order[:, j] + self.gamma * running
            returns[:, j] = running

        # the oldest transition is finished once it has n rewards; all of them are when the episode ends
        episode_over = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        window_full = self.length == self.n_step
        emit = pending & (episode_over[:, None] | ((columns == 0) & window_full[:, None]))
        env_of, column_of = np.nonzero(emit)
        slot_of = ring[env_of, column_of]
        last_slot = newest[env_of]
        steps = self.length[env_of] - column_of  # m: how many rewards the transition sums
        transitions = {
            "obs": self.obs[env_of, slot_of],
            "actions": self.actions[env_of, slot_of],
            "rewards": returns[env_of, column_of],
            "next_obs": self.next_obs[env_of, last_slot],
            "terminated": self.terminated[env_of, last_slot],
            "truncated": self.truncated[env_of, last_slot],
            "discounts": self.gamma ** steps,  # γ^m multiplies the bootstrap value in (4.18)
        }

        advance = window_full & ~episode_over
        self.start[advance] = (self.start[advance] + 1) % self.n_step
        self.length[advance] -= 1
        self.start[episode_over] = 0
        self.length[episode_over] = 0
        return transitions

    def state_dict(self):
        names = ("obs", "actions", "rewards", "next_obs", "terminated", "truncated", "start", "length")
        return {name: getattr(self, name).copy() for name in names}

    def load_state_dict(self, state):
        for name, value in state.items():
            target = getattr(self, name)
            if np.shape(value) != target.shape:
                raise ValueError(f"NStepAccumulator.load_state_dict: {name} has shape {np.shape(value)}, "
                                 f"expected {target.shape}")
            target[...] = value
