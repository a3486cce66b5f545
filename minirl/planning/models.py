"""Models of the environment for planning (book ch. 9.2, eqs. 9.1-9.2) and the small interface searches use.

Model-based RL learns from real transitions a **transition model** and a **reward model**

    S_{t+1} ~ F_s(S_t, A_t)        (9.1)
    R_{t+1} = F_r(S_t, A_t)        (9.2)

and then plans in them: simulated experience instead of, or besides, real experience (Dyna, ch. 9.3) and
simulation-based search from the current state (ch. 9.4). Every search in `minirl.planning` talks to a model
through two methods:

    model.actions(state) -> np.ndarray                  # the actions allowed in `state`
    model.step(state, action) -> (next_state, reward, done)

Three models:

- `TabularModel`: the learned model of a discrete environment, by counting. F_s(s, a) samples s' with the
  empirical frequencies N(s, a, s') / N(s, a) ("direct model learning", maximum likelihood); F_r(s, a) is the
  mean of the rewards seen after (s, a). A pair never tried ends the simulation with reward 0: the model knows
  nothing beyond what it has seen.
- `MDPModel`: the true model of a `minirl.tabular.MDP` (the "fixed model M" that Algorithms 9.31 and 9.32 assume).
- `GameModel`: a board game is its own perfect model; the reward is the final outcome (+1 win, -1 loss, 0 draw)
  for one fixed player, so the return of any rollout is that player's result.
"""

from __future__ import annotations

import numpy as np

from minirl.envs.board_games import is_int
from minirl.errors import check_integer
from minirl.envs.toy_text.discrete import categorical_sample
from minirl.tabular.experience import as_generator


class Model:
    """The interface: `actions(state)` and `step(state, action) -> (next_state, reward, done)`."""

    def actions(self, state) -> np.ndarray:
        raise NotImplementedError

    def step(self, state, action) -> tuple:
        raise NotImplementedError


class TabularModel(Model):
    """Count-based F_s and mean-reward F_r (9.1)-(9.2) for `num_states` x `num_actions` discrete environments.

        model = TabularModel(env.observation_space.n, env.action_space.n, seed=0)
        model.update(s, a, r, s_next, terminated)      # after every real step
        s_next, r, done = model.step(s, a)              # a simulated step
    """

    def __init__(self, num_states: int, num_actions: int, seed=0):
        check_integer("TabularModel: num_states", num_states, 1)
        check_integer("TabularModel: num_actions", num_actions, 1)
        self.num_states, self.num_actions = int(num_states), int(num_actions)
        self.counts = np.zeros((num_states, num_actions, num_states), dtype=np.int64)  # N(s, a, s')
        self.pair_counts = np.zeros((num_states, num_actions), dtype=np.int64)  # N(s, a) = Σ_s' N(s, a, s')
        self.reward_sum = np.zeros((num_states, num_actions))
        self.terminal = np.zeros(num_states, dtype=bool)  # states seen to end an episode
        self.rng = as_generator(seed)

    def update(self, state, action, reward, next_state, terminal: bool) -> None:
        """Learn from one real transition (UpdateModel of Algorithm 9.33)."""
        s, a, s_next = self._check(state, action, "update"), int(action), int(next_state)
        if not 0 <= s_next < self.num_states:
            raise ValueError(f"TabularModel.update: next_state must be in 0..{self.num_states - 1}, got {next_state!r}")
        self.counts[s, a, s_next] += 1
        self.pair_counts[s, a] += 1
        self.reward_sum[s, a] += float(reward)
        if terminal:
            self.terminal[s_next] = True

    def visits(self, state, action) -> int:
        """N(s, a): how often the pair has been tried."""
        return int(self.pair_counts[int(state), int(action)])

    def transition_probs(self, state, action) -> np.ndarray:
        """F_s(s, a) as a distribution over next states, N(s, a, ·) / N(s, a) (zeros for an untried pair)."""
        n = self.counts[int(state), int(action)]
        total = n.sum()
        return n / total if total else np.zeros(self.num_states)

    def expected_reward(self, state, action) -> float:
        """F_r(s, a): the mean reward seen after (s, a), 0 for an untried pair."""
        n = self.visits(state, action)
        return float(self.reward_sum[int(state), int(action)] / n) if n else 0.0

    def actions(self, state) -> np.ndarray:
        return np.arange(self.num_actions)

    def step(self, state, action) -> tuple[int, float, bool]:
        s, a = self._check(state, action, "step"), int(action)
        n = self.pair_counts[s, a]
        if n == 0:
            return s, 0.0, True  # an untried pair: the model cannot say what follows
        s_next = categorical_sample(self.counts[s, a] / n, self.rng)  # S' ~ F_s(s, a) = N(s, a, ·) / N(s, a)   (9.1)
        return s_next, float(self.reward_sum[s, a] / n), bool(self.terminal[s_next])  # R = F_r(s, a)   (9.2)

    def _check(self, state, action, where: str) -> int:
        if not 0 <= int(state) < self.num_states or not 0 <= int(action) < self.num_actions:
            raise ValueError(f"TabularModel.{where}: expected a state in 0..{self.num_states - 1} and an action in "
                             f"0..{self.num_actions - 1}, got state={state!r}, action={action!r}")
        return int(state)


class MDPModel(Model):
    """The true model of a finite `minirl.tabular.MDP`: S' ~ P(·|s, a), R = R(s, a, S')."""

    def __init__(self, mdp, seed=0):
        self.mdp = mdp
        self.rng = as_generator(seed)

    def actions(self, state) -> np.ndarray:
        return np.arange(self.mdp.num_actions)

    def step(self, state, action) -> tuple[int, float, bool]:
        s, a = int(state), int(action)
        s_next = categorical_sample(self.mdp.P[s, a], self.rng)  # S' ~ P(·|s, a)
        return s_next, float(self.mdp.reward(s, a, s_next)), bool(self.mdp.terminal[s_next])


class GameModel(Model):
    """A two-player board game as a perfect model seen by `player` (1 or 2): states are `BoardGame` objects
    (never changed: `step` plays on a copy), actions both players' moves, and the reward is `player`'s outcome
    when the game ends (+1 win, -1 loss, 0 draw), 0 before."""

    def __init__(self, player: int):
        if not is_int(player) or player not in (1, 2):
            raise ValueError(f"GameModel: player must be 1 or 2, got {player!r}")
        self.player = int(player)

    def actions(self, game) -> np.ndarray:
        return game.legal_actions()

    def step(self, game, action) -> tuple:
        game = game.copy()
        game.play(action)
        return game, game.outcome(self.player), game.winner() is not None
