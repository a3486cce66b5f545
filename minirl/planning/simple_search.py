"""Simple (naive) Monte Carlo search: Algorithm 9.31 of the book (ch. 9.4.1; B.73 in appendix B).

Given a fixed model M and a fixed rollout (simulation) policy π, evaluate every action of the current state S_t
by K simulated episodes that start with it and then follow π, and act greedily on the mean returns:

    for each a in A:
        for k = 1..K:   roll out S_t, a, R^k_{t+1}, S^k_{t+1}, A^k_{t+1}, ..., S^k_T in M with π
                        G^k_t = Σ_{j=t+1}^{T} R^k_j
        Q(S_t, a) = (1/K) Σ_k G^k_t
    A_t = argmax_a Q(S_t, a)

The rollout policy never changes during the search; MCTS (`minirl.planning.mcts`) improves it inside a tree.
The book's return is undiscounted; `gamma` < 1 discounts it, and `max_steps` cuts rollouts in a learned model
that might never end.

    action, Q = simple_mc_search(model, state, num_rollouts=50, rng=np.random.default_rng(0))
    SimpleMCSearch(num_rollouts=50, seed=0).search(game)    # a board game is its own model (GameModel)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from minirl.errors import check_integer
from minirl.planning.models import GameModel, Model
from minirl.tabular.experience import as_generator


def random_rollout_policy(model: Model, state, rng: np.random.Generator):
    """The default π: a uniformly random action among those the model allows."""
    actions = model.actions(state)
    return actions[rng.integers(len(actions))]


def rollout_return(model: Model, state, action, rollout_policy: Callable, rng: np.random.Generator,
                   gamma: float = 1.0, max_steps: int = 1000) -> float:
    """G_t of one simulated episode that takes `action` in `state` and then follows `rollout_policy`."""
    g, discount = 0.0, 1.0
    for _ in range(max_steps):
        state, reward, done = model.step(state, action)
        g += discount * reward  # G_t = Σ_j γ^{j-t-1} R_j (the book: γ = 1)
        discount *= gamma
        if done:
            break
        action = rollout_policy(model, state, rng)
    return g


def simple_mc_search(model: Model, state, num_rollouts: int, rng: np.random.Generator,
                     rollout_policy: Callable = random_rollout_policy, gamma: float = 1.0,
                     max_steps: int = 1000) -> tuple[int, dict]:
    """Algorithm 9.31: (argmax_a Q(S_t, a), {a: Q(S_t, a)}); ties go to the first action of `model.actions`."""
    check_integer("simple_mc_search: num_rollouts (K)", num_rollouts, 1)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"simple_mc_search: gamma must be in [0, 1], got {gamma!r}")
    actions = model.actions(state)
    if len(actions) == 0:
        raise ValueError("simple_mc_search: the model allows no action in this state (is it terminal?)")
    Q = {}
    for a in actions.tolist():
        returns = [rollout_return(model, state, a, rollout_policy, rng, gamma, max_steps) for _ in range(num_rollouts)]
        Q[a] = float(np.mean(returns))  # Q(S_t, a) = (1/K) Σ_k G^k_t
    return max(Q, key=Q.get), Q


class SimpleMCSearch:
    """A board-game player that runs Algorithm 9.31 with K uniformly random rollouts per legal move."""

    def __init__(self, num_rollouts: int = 100, seed=0):
        check_integer("SimpleMCSearch: num_rollouts (K)", num_rollouts, 1)
        self.num_rollouts = num_rollouts
        self.rng = as_generator(seed)
        self.Q: dict | None = None

    def search(self, game) -> int:
        """The move with the best mean outcome for the player to move; `self.Q` keeps every move's mean."""
        action, self.Q = simple_mc_search(GameModel(game.current_player), game, self.num_rollouts, self.rng)
        return action
