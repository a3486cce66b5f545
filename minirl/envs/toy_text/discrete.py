"""An environment built from a known finite MDP (book ch. 2.3): the bridge between planning and learning.

Dynamic programming (`minirl.tabular.dp`) reads the model `env.mdp` directly; model-free learners
(MC, TD, Q-learning) only see samples of it through `reset` and `step`. The same object serves both, so a
learner's estimate can be checked against the exact answer of the model it samples from.

    env = DiscreteMDPEnv(random_mdp(5, 2, seed=0))
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)   # S' ~ p(·|s, a), reward R(s, a, S')

`terminated` is True on entering a terminal state of the MDP. Nothing here truncates: `make` adds a
`TimeLimit` when the registered spec sets `max_episode_steps`.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.core import Env
from minirl.envs.spaces import Discrete


def categorical_sample(probs: np.ndarray, rng: np.random.Generator) -> int:
    """Inverse-CDF sampling with one uniform draw: the first index whose cumulative probability exceeds u.

    Gymnasium's toy-text environments draw the same way, so equal seeds give equal trajectories.
    """
    return int(np.argmax(np.cumsum(probs) > rng.random()))


class DiscreteMDPEnv(Env):
    """Gymnasium-style environment whose dynamics are `mdp` (a `minirl.tabular.MDP`).

    initial_state_distribution: (S,) probabilities of S_0 (ρ0 of eq. 2.18); default uniform over the
    non-terminal states. ``reset(options={"state": s})`` starts in `s` instead (exploring starts, Alg 2.9).
    """

    metadata = {"render_modes": []}

    def __init__(self, mdp, initial_state_distribution=None):
        self.mdp = mdp
        S = mdp.num_states
        if initial_state_distribution is None:
            if mdp.terminal.all():
                raise ValueError("DiscreteMDPEnv: every state is terminal; give initial_state_distribution")
            rho0 = (~mdp.terminal).astype(np.float64)
        else:
            rho0 = np.asarray(initial_state_distribution, dtype=np.float64)
            if rho0.shape != (S,):
                raise ValueError(f"initial_state_distribution must have shape (S,) = ({S},), got {rho0.shape}")
            if np.any(rho0 < 0) or rho0.sum() <= 0:
                raise ValueError("initial_state_distribution must be non-negative and not all zero")
        self.initial_state_distribution = rho0 / rho0.sum()
        self.observation_space = Discrete(S)
        self.action_space = Discrete(mdp.num_actions)
        self.s: int | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options and "state" in options:
            self.s = int(options["state"])
            if not 0 <= self.s < self.mdp.num_states:
                raise ValueError(f"reset: options['state'] must be in 0..{self.mdp.num_states - 1}, got {self.s}")
        else:
            self.s = categorical_sample(self.initial_state_distribution, self.np_random)
        return self.s, {"prob": 1.0}

    def step(self, action):
        if self.s is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"{type(self).__name__}: action {action!r} is not in {self.action_space}")
        s, a = self.s, int(action)
        s_next = self.sample_next_state(s, a)
        self.s = s_next
        reward = self.mdp.reward(s, a, s_next)
        return s_next, reward, bool(self.mdp.terminal[s_next]), False, {"prob": float(self.mdp.P[s, a, s_next])}

    def sample_next_state(self, s: int, a: int) -> int:
        """S' ~ p(·|s, a). Subclasses that mirror a Gymnasium environment draw in its order of outcomes."""
        return categorical_sample(self.mdp.P[s, a], self.np_random)
