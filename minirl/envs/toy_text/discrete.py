"""An environment built from a known finite MDP (book ch. 2.3): the bridge between planning and learning.

Dynamic programming (`minirl.tabular.dp`) reads the model `env.mdp` directly; model-free learners
(MC, TD, Q-learning) only see samples of it through `reset` and `step`. The same object serves both, so a
learner's estimate can be checked against the exact answer of the model it samples from.

    env = DiscreteMDPEnv(random_mdp(5, 2, seed=0))
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(1)   # S' ~ p(·|s, a), reward R(s, a, S')
    env.mdp                                                  # the model, for minirl.tabular.dp

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

    Episodes start in S_0 ~ `mdp.initial_distribution` (ρ0 of eq. 2.18); ``reset(options={"state": s})``
    starts in `s` instead (exploring starts, Algorithm 2.9).
    """

    metadata = {"render_modes": []}

    def __init__(self, mdp):
        self.mdp = mdp
        self.observation_space = Discrete(mdp.num_states)
        self.action_space = Discrete(mdp.num_actions)
        self.s: int | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options and "state" in options:
            self.s = int(options["state"])
            if not 0 <= self.s < self.mdp.num_states:
                raise ValueError(f"reset: options['state'] must be in 0..{self.mdp.num_states - 1}, got {self.s}")
        else:
            self.s = categorical_sample(self.mdp.initial_distribution, self.np_random)
        return self.s, {"prob": 1.0}

    def step(self, action):
        if self.s is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"{type(self).__name__}: action {action!r} is not in {self.action_space}")
        s, a = self.s, int(action)
        s_next, reward, prob = self.sample_transition(s, a)
        self.s = s_next
        return s_next, reward, bool(self.mdp.terminal[s_next]), False, {"prob": prob}

    def sample_transition(self, s: int, a: int) -> tuple[int, float, float]:
        """(S', R, probability of this outcome) for taking `a` in `s`.

        An MDP built by `MDP.from_outcomes` is sampled outcome by outcome in its listed order (Gymnasium's
        way: the same seed gives the same trajectory); any other MDP by S' ~ P(·|s, a), R = R(s, a, S').
        """
        if self.mdp.outcomes is not None:
            probs, next_states, rewards = (table[s, a] for table in self.mdp.outcomes)
            k = categorical_sample(probs, self.np_random)
            return int(next_states[k]), float(rewards[k]), float(probs[k])
        s_next = categorical_sample(self.mdp.P[s, a], self.np_random)
        return s_next, self.mdp.reward(s, a, s_next), float(self.mdp.P[s, a, s_next])
