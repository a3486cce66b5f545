"""Small MDPs from the book (ch. 2.3) and from Sutton & Barto (2018) as environments. Each model is
`env.unwrapped.mdp`, built by the function of `minirl.tabular.examples` named in the class's docstring.
"""

from __future__ import annotations

from minirl.envs.spaces import Discrete
from minirl.envs.toy_text.discrete import DiscreteMDPEnv
from minirl.tabular import examples


class StudentMRPEnv(DiscreteMDPEnv):
    """The book's MRP of figs 2.4-2.6 (`examples.student_mrp`) with a single action: the reward of leaving S_t
    is R(S_t), so an episode's return is (2.13). Episodes start in a random non-terminal state and end in Bed."""

    def __init__(self, gamma: float = 0.9):
        super().__init__(examples.student_mrp(gamma).as_mdp())


class StudentMDPEnv(DiscreteMDPEnv):
    """The book's MDP of fig 2.9 as we read it (`examples.student_mdp`): start in Game, end in Bed."""

    def __init__(self, gamma: float = 0.9):
        super().__init__(examples.student_mdp(gamma))


class RandomWalkEnv(DiscreteMDPEnv):
    """Sutton & Barto Examples 6.2 / 7.1 (`examples.random_walk`): states 0..n+1 with both ends terminal,
    start in the middle; the single action 0 steps left or right with probability 1/2."""

    def __init__(self, n_states: int = 5, left_reward: float = 0.0, right_reward: float = 1.0, gamma: float = 1.0):
        super().__init__(examples.random_walk(n_states, left_reward, right_reward, gamma))


class GamblersProblemEnv(DiscreteMDPEnv):
    """Sutton & Barto Example 4.3 (`examples.gamblers_problem`): the state is the capital, action i stakes
    i + 1 (cut down to what can be staked); +1 on reaching `goal`. Episodes start from a uniform capital."""

    def __init__(self, p_h: float = 0.4, goal: int = 100, gamma: float = 1.0):
        super().__init__(examples.gamblers_problem(p_h, goal, gamma))


class JacksCarRentalEnv(DiscreteMDPEnv):
    """Sutton & Barto Example 4.2 (`examples.jacks_car_rental`), a continuing task: the state n1 * 21 + n2
    counts the cars at the two locations, action i moves i - 5 cars from the first to the second. The reward
    of a step is the *expected* income of the day minus the moving cost (the model keeps only r(s, a))."""

    def __init__(self, gamma: float = 0.9, **kwargs):
        super().__init__(examples.jacks_car_rental(gamma, **kwargs))


class MaximizationBiasEnv(DiscreteMDPEnv):
    """Sutton & Barto Example 6.7 (`examples.maximization_bias`): in A (state 0) an even action goes left to
    B, an odd one right to the end; every action in B ends the episode with a reward ~ N(mean, 1)."""

    def __init__(self, n_actions: int = 10, mean: float = -0.1, std: float = 1.0):
        super().__init__(examples.maximization_bias(n_actions, mean))
        self.std = std

    def sample_transition(self, s: int, a: int):
        s_next, reward, prob = super().sample_transition(s, a)
        if s == 1:  # B: the model holds the mean; the noise is what makes max_a Q(B, a) biased upwards
            reward += self.std * self.np_random.standard_normal()
        return s_next, reward, prob


class ShortCorridorEnv(DiscreteMDPEnv):
    """Sutton & Barto Example 13.1 (`examples.short_corridor`): reward -1 per step, actions 0 left, 1 right,
    switched in the second state. The agent cannot tell the states apart: every observation is 0 (set
    observe_state=True to see the state); ``info["state"]`` holds the true one."""

    def __init__(self, observe_state: bool = False):
        super().__init__(examples.short_corridor())
        self.observe_state = observe_state
        if not observe_state:
            self.observation_space = Discrete(1)

    def reset(self, *, seed=None, options=None):
        s, info = super().reset(seed=seed, options=options)
        return self._observe(s), {**info, "state": s}

    def step(self, action):
        s, reward, terminated, truncated, info = super().step(action)
        return self._observe(s), reward, terminated, truncated, {**info, "state": s}

    def _observe(self, s: int) -> int:
        return s if self.observe_state else 0
