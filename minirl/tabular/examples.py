"""Finite MDPs with known models: the book's student MRP/MDP (ch. 2.3) and the classic examples of Sutton &
Barto (2018) that the book's chapter 2 builds on. Each function returns a `minirl.tabular.MRP` or `MDP`;
the environments of `minirl.envs.toy_text` are built from the same functions, so ``env.unwrapped.mdp`` is
exactly the model here.

Grid worlds number their cells row-major from the top-left corner (state = row * columns + column) and,
unless a Gymnasium environment fixes another order, use the actions 0 up, 1 right, 2 down, 3 left.
"""

from __future__ import annotations

import numpy as np

from minirl.tabular.mdp import MDP, MRP

UP, RIGHT, DOWN, LEFT = 0, 1, 2, 3
COMPASS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # (Δrow, Δcolumn) of up, right, down, left
KING = np.array([(-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1)])  # + the diagonals


def grid_step(shape, deltas, blocked=None, push=None):
    """Where every move lands: (next_state (S, D), bumped (S, D)) for the moves `deltas` (D, 2).

    A move that would leave the grid is clipped to its edge, coordinate by coordinate; a move into a
    `blocked` cell (boolean grid) does not happen. push[c] is added to the row of a move made from column c
    (the upward wind of the windy gridworld is push = -strength). bumped marks moves clipped or blocked.
    """
    rows, cols = shape
    r, c = (x.reshape(-1, 1) for x in np.indices(shape))
    r_to = r + deltas[:, 0] + (0 if push is None else np.asarray(push)[c])
    c_to = c + deltas[:, 1]
    r_new, c_new = np.clip(r_to, 0, rows - 1), np.clip(c_to, 0, cols - 1)
    bumped = (r_new != r_to) | (c_new != c_to)
    if blocked is not None:
        into_wall = np.asarray(blocked)[r_new, c_new]
        r_new, c_new, bumped = np.where(into_wall, r, r_new), np.where(into_wall, c, c_new), bumped | into_wall
    return r_new * cols + c_new, bumped


def _deterministic(next_states, rewards, gamma, **kwargs) -> MDP:
    """An MDP whose every (s, a) has one outcome: next_states[s, a] with rewards[s, a]."""
    next_states = np.asarray(next_states)
    return MDP.from_outcomes(np.ones(next_states.shape + (1,)), next_states[..., None],
                             np.asarray(rewards, dtype=np.float64)[..., None], gamma, **kwargs)


def _one_hot(index: int, n: int) -> np.ndarray:
    return np.eye(n)[index]


# ---------------------------------------------------------------------------------------------------------------
# The book's example (ch. 2.3, figs 2.4-2.9)

STUDENT_STATES = ["g", "t1", "t2", "r", "p", "b"]  # Game, Task1, Task2, Rest, Pass, Bed


def student_mrp(gamma: float = 0.9) -> MRP:
    """The MRP of figs 2.4-2.6: transition matrix of L11063-11073, state rewards of fig 2.6 (R_t = R(S_t));
    Bed is absorbing with reward 0. With γ = 0.9, (2.29) gives V = (-5.84, -1.21, 3.75, 3.93, 10, 0).
    Erratum (BOOK_MAP §5.1): the book's sample return of (t2, r, t1, t2, b) is -4.178, not -0.178, so its
    Monte-Carlo estimate of V(t2) from four samples is 1.348, not 2.348."""
    P = [[0.9, 0.1, 0.0, 0.0, 0.0, 0.0],
         [0.3, 0.0, 0.7, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.1, 0.6, 0.3],
         [0.0, 0.1, 0.9, 0.0, 0.0, 0.0],
         [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
         [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]
    R = [-1.0, -2.0, -2.0, 1.0, 10.0, 0.0]
    return MRP(P, R, gamma, terminal_states=[5], states=STUDENT_STATES)


def student_mdp(gamma: float = 0.9, unavailable_reward: float = -1.0) -> MDP:
    """The MDP of fig 2.9 (states g, t1, t2, p, b; actions play, sleep, work, rest).

    The book's text fixes p(t2|t1, work) = 1 and p(·|t2, rest) = (t1: 0.2, t2: 0.8); the figure's eight
    edges are labelled play, play, sleep, sleep, work, work, rest, work, but its rewards are not in the text.
    Our reading, the MRP of fig 2.6 with Rest turned into an action:
        g:  play -> g (-1),   work -> t1 (0)
        t1: play -> g (-1),   work -> t2 (-2)
        t2: work -> p (-2),   sleep -> b (0),   rest -> t1 (0.2) / t2 (0.8) (+1)
        p:  sleep -> b (+10)
    An action a state has no edge for leaves it where it is with reward `unavailable_reward`.
    With the book's γ = 0.9: V* = (3.87, 4.3, 7, 10, 0) by working through to the exam and sleeping. With
    γ = 1 the values are unbounded: resting in t2 earns +1 and costs on average only 0.2 · 2 to get back.
    """
    g, t1, t2, p, b = range(5)
    play, sleep, work, rest = range(4)
    P = np.zeros((5, 4, 5))
    R = np.full((5, 4), float(unavailable_reward))
    P[np.arange(5), :, np.arange(5)] = 1.0  # unavailable actions: stay
    edges = {(g, play): ({g: 1.0}, -1.0), (g, work): ({t1: 1.0}, 0.0),
             (t1, play): ({g: 1.0}, -1.0), (t1, work): ({t2: 1.0}, -2.0),
             (t2, work): ({p: 1.0}, -2.0), (t2, sleep): ({b: 1.0}, 0.0), (t2, rest): ({t1: 0.2, t2: 0.8}, 1.0),
             (p, sleep): ({b: 1.0}, 10.0)}
    for (s, a), (to, reward) in edges.items():
        P[s, a] = 0.0
        for s_next, prob in to.items():
            P[s, a, s_next] = prob
        R[s, a] = reward
    return MDP(P, R, gamma, terminal_states=[b], initial_distribution=_one_hot(g, 5),
               states=["g", "t1", "t2", "p", "b"], actions=["play", "sleep", "work", "rest"])


# ---------------------------------------------------------------------------------------------------------------
# Sutton & Barto's dynamic-programming examples


def gridworld_4x4(gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 4.1: a 4x4 grid, the corners 0 and 15 terminal, reward -1 on every step,
    moves off the grid leave the state unchanged. The random policy's values are Fig 4.1's
    (0, -14, -20, -22 / -14, -18, -20, -20 / ...)."""
    next_states, _ = grid_step((4, 4), COMPASS)
    return _deterministic(next_states, np.full(next_states.shape, -1.0), gamma, terminal_states=[0, 15],
                          actions=["up", "right", "down", "left"])


def gridworld_5x5(gamma: float = 0.9) -> MDP:
    """Sutton & Barto Example 3.5 (continuing): every action in A = (0, 1) jumps to A' = (4, 1) with
    reward +10, in B = (0, 3) to B' = (2, 3) with +5; bumping into the edge costs -1; all else 0.
    V* is Fig 3.5's (22.0, 24.4, 22.0, 19.4, 17.5 / ...)."""
    next_states, bumped = grid_step((5, 5), COMPASS)
    rewards = np.where(bumped, -1.0, 0.0)
    for special, landing, bonus in [((0, 1), (4, 1), 10.0), ((0, 3), (2, 3), 5.0)]:
        s = np.ravel_multi_index(special, (5, 5))
        next_states[s], rewards[s] = np.ravel_multi_index(landing, (5, 5)), bonus
    return _deterministic(next_states, rewards, gamma, actions=["up", "right", "down", "left"])


def gamblers_problem(p_h: float = 0.4, goal: int = 100, gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 4.3. State: the capital 0..goal (0 and goal terminal); reward +1 on reaching
    the goal. Action i stakes i + 1 (see `mdp.actions`); a stake above min(s, goal - s) is cut down to it,
    so every action is legal everywhere and the smallest optimal stake has the lowest index."""
    S, stakes = goal + 1, np.arange(1, goal // 2 + 1)
    s = np.arange(S)[:, None]
    stake = np.minimum(stakes, np.minimum(s, goal - s))
    probs = np.stack([np.full(stake.shape, p_h), np.full(stake.shape, 1.0 - p_h)], axis=-1)
    next_states = np.stack([s + stake, s - stake], axis=-1)  # win / lose the stake
    rewards = (next_states == goal).astype(float)
    return MDP.from_outcomes(probs, next_states, rewards, gamma, terminal_states=[0, goal],
                             actions=list(stakes))


def _poisson_pmf(lam: float, n: int) -> np.ndarray:
    """P(X = k) for k = 0..n-1, X ~ Poisson(lam), by p_k = p_{k-1} lam / k."""
    return np.exp(-lam) * np.cumprod(np.r_[1.0, lam / np.arange(1, n)])


def _rental_location(requests: float, returns: float, max_cars: int, rent: float):
    """One location of Jack's car rental: T[m, n] = P(n cars at night | m cars in the morning) and the
    expected income of m morning cars. Both Poisson tails are summed exactly (no truncation)."""
    cars = np.arange(max_cars + 1)
    # rented[m, k] = P(k cars rented | m available): k < m when fewer are requested, all m when m or more are
    pmf = _poisson_pmf(requests, max_cars + 1)
    rented = np.where(cars[None, :] < cars[:, None], pmf[None, :], 0.0)
    rented[cars, cars] = 1.0 - (np.cumsum(pmf) - pmf)  # P(requests >= m)
    income = rent * rented @ cars
    # back[l, n] = P(n cars at night | l left after renting): returns are added, beyond max_cars they vanish
    pmf = _poisson_pmf(returns, max_cars + 1)
    back = np.where(cars[None, :] >= cars[:, None], pmf[np.abs(cars[None, :] - cars[:, None])], 0.0)
    back[:, -1] = 1.0 - back[:, :-1].sum(axis=1)
    # T[m] = Σ_k P(k rented | m) back[m - k]: rows back[m], back[m - 1], ..., back[0] for k = 0..m
    T = np.stack([rented[m, :m + 1] @ back[m::-1] for m in cars])
    return T, income


def jacks_car_rental(gamma: float = 0.9, max_cars: int = 20, max_move: int = 5, rent: float = 10.0,
                     move_cost: float = 2.0, requests=(3.0, 4.0), returns=(3.0, 2.0)) -> MDP:
    """Sutton & Barto Example 4.2. State (n1, n2) cars at the two locations at night, index n1 * 21 + n2.
    Action i moves a = i - max_move cars from location 1 to 2 (negative: 2 to 1) at move_cost each; then
    each location rents min(requests, cars) at `rent` each and gets its returns back, capped at max_cars.

    Moving more cars than a location has moves all it has but costs the full |a|, so such actions are
    strictly worse than the legal one with the same effect. The two locations are independent given the
    morning counts, so P[s, a] is the outer product of two 21x21 tables; R(s, a) is the expected income.
    """
    n = max_cars + 1
    T1, income1 = _rental_location(requests[0], returns[0], max_cars, rent)
    T2, income2 = _rental_location(requests[1], returns[1], max_cars, rent)
    n1, n2 = (x.reshape(-1, 1) for x in np.indices((n, n)))
    moves = np.arange(-max_move, max_move + 1)
    moved = np.clip(moves, -n2, n1)  # cannot move cars a location does not have
    m1, m2 = np.minimum(n1 - moved, max_cars), np.minimum(n2 + moved, max_cars)  # morning counts (S, A)
    P = (T1[m1][..., :, None] * T2[m2][..., None, :]).reshape(n * n, len(moves), n * n)
    R = income1[m1] + income2[m2] - move_cost * np.abs(moves)
    return MDP(P, R, gamma, states=[(i, j) for i in range(n) for j in range(n)], actions=list(moves))


# ---------------------------------------------------------------------------------------------------------------
# The models of the toy-text environments (minirl.envs.toy_text)


def windy_gridworld(king_moves: bool = False, gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 6.5: 7x10 grid, start (3, 0), goal (3, 7), reward -1 per step; the wind of the
    column moved from, (0 0 0 1 1 1 2 2 1 0), pushes the agent up. The shortest path takes 15 steps.
    king_moves adds the four diagonal moves (Exercise 6.9) as actions 4..7 (up-right, down-right,
    down-left, up-left)."""
    shape, start, goal = (7, 10), (3, 0), (3, 7)
    wind = np.array([0, 0, 0, 1, 1, 1, 2, 2, 1, 0])
    next_states, _ = grid_step(shape, KING if king_moves else COMPASS, push=-wind)
    return _deterministic(next_states, np.full(next_states.shape, -1.0), gamma,
                          terminal_states=[np.ravel_multi_index(goal, shape)],
                          initial_distribution=_one_hot(np.ravel_multi_index(start, shape), 70))


def random_walk(n_states: int = 5, left_reward: float = 0.0, right_reward: float = 1.0,
                gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 6.2 (n_states=5) and 7.1 (n_states=19, left_reward=-1): states 0..n+1, the two
    ends terminal, start in the middle; one action, after which the walk moves left or right with
    probability 1/2 each. True values: 1/6..5/6 for 5 states; (k - 10) / 10 for the 19 of Example 7.1."""
    S = n_states + 2
    s = np.arange(S)[:, None, None]
    next_states = np.concatenate([s - 1, s + 1], axis=-1).clip(0, S - 1)
    rewards = np.where(next_states == 0, left_reward, np.where(next_states == S - 1, right_reward, 0.0))
    return MDP.from_outcomes(np.full((S, 1, 2), 0.5), next_states, rewards, gamma, terminal_states=[0, S - 1],
                             initial_distribution=_one_hot(S // 2, S))


DYNA_MAZE = ["       #G",
             "  #    # ",
             "S #    # ",
             "  #      ",
             "     #   ",
             "         "]


def dyna_maze(layout=DYNA_MAZE, gamma: float = 0.95) -> MDP:
    """Sutton & Barto Example 8.1 (Fig 8.2): a 6x9 maze, S start, G goal, # obstacles; reward +1 on reaching
    G, 0 otherwise. Obstacle cells are states that cannot be reached. The shortest path takes 14 steps."""
    grid = np.array([list(row) for row in layout])
    next_states, _ = grid_step(grid.shape, COMPASS, blocked=grid == "#")
    goal = np.flatnonzero(grid.ravel() == "G")
    rewards = np.isin(next_states, goal).astype(float)
    return _deterministic(next_states, rewards, gamma, terminal_states=goal,
                          initial_distribution=(grid.ravel() == "S").astype(float))


def maximization_bias(n_actions: int = 10, mean: float = -0.1, gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 6.7 (Fig 6.5): start in A (state 0); from A 'right' ends the episode with
    reward 0 and 'left' leads to B (state 1) with reward 0; every one of B's `n_actions` actions ends it with
    a reward ~ N(mean, 1) (the model keeps the mean; the environment adds the noise). State 2 is terminal.

    All states share one action space of size n_actions: in A an even action means left and an odd one
    right, so a uniformly random action goes left with probability 1/2 as in the book."""
    A, B, end = 0, 1, 2
    next_states = np.full((3, n_actions), end)
    next_states[A, ::2] = B
    rewards = np.zeros((3, n_actions))
    rewards[B] = mean
    return _deterministic(next_states, rewards, gamma, terminal_states=[end], initial_distribution=_one_hot(A, 3),
                          states=["A", "B", "terminal"])


def short_corridor(gamma: float = 1.0) -> MDP:
    """Sutton & Barto Example 13.1: states 0, 1, 2 and the goal 3, reward -1 per step, actions 0 left and
    1 right; in state 1 they are switched. Left in state 0 stays there. The best policy that cannot tell the
    states apart goes right with probability 2 - √2 ≈ 0.586 and has value -(6 + 4√2) ≈ -11.66."""
    next_states = np.array([[0, 1], [2, 0], [1, 3], [3, 3]])
    return _deterministic(next_states, np.full((4, 2), -1.0), gamma, terminal_states=[3],
                          initial_distribution=_one_hot(0, 4), actions=["left", "right"])


FROZEN_LAKE_MAPS = {
    "4x4": ["SFFF", "FHFH", "FFFH", "HFFG"],
    "8x8": ["SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG"],
}
FROZEN_LAKE_MOVES = np.array([(0, -1), (1, 0), (0, 1), (-1, 0)])  # Gymnasium's order: left, down, right, up


def _slippery(next_by_direction, reward_by_direction, slip_probs):
    """Outcome tables (S, A, K) of a grid where action a moves in direction a - 1, a, a + 1 (mod 4, in
    Gymnasium's order) with the probabilities `slip_probs`, or always in direction a when slip_probs is None."""
    a = np.arange(4)
    if slip_probs is None:
        directions, slip_probs = a[:, None], [1.0]
    else:
        directions = np.stack([(a - 1) % 4, a, (a + 1) % 4], axis=-1)
    probs = np.broadcast_to(np.asarray(slip_probs, dtype=np.float64), directions.shape)
    probs = np.broadcast_to(probs, (next_by_direction.shape[0],) + directions.shape)
    return probs, next_by_direction[:, directions], reward_by_direction[:, directions]


def frozen_lake(map_name: str = "4x4", desc=None, is_slippery: bool = True, success_rate: float = 1.0 / 3.0,
                reward_schedule=(1.0, 0.0, 0.0), gamma: float = 1.0) -> MDP:
    """Gymnasium's FrozenLake-v1 (same maps, state numbering, actions 0 left, 1 down, 2 right, 3 up, and
    transition probabilities): holes H and the goal G are terminal; entering G pays reward_schedule[0],
    H [1], any other tile [2]. Slippery ice moves in the intended direction with `success_rate`."""
    grid = np.array([list(row) for row in (desc if desc is not None else FROZEN_LAKE_MAPS[map_name])])
    next_states, _ = grid_step(grid.shape, FROZEN_LAKE_MOVES)
    tile = grid.ravel()[next_states]
    rewards = np.where(tile == "G", reward_schedule[0], np.where(tile == "H", reward_schedule[1], reward_schedule[2]))
    fail_rate = (1.0 - success_rate) / 2.0
    probs, next_states, rewards = _slippery(next_states, rewards, [fail_rate, success_rate, fail_rate]
                                            if is_slippery else None)
    start = (grid.ravel() == "S").astype(float)
    return MDP.from_outcomes(probs, next_states, rewards, gamma, terminal_states=np.isin(grid.ravel(), ["H", "G"]),
                             initial_distribution=start / start.sum(), actions=["left", "down", "right", "up"])


def cliff_walking(is_slippery: bool = False, gamma: float = 1.0) -> MDP:
    """Gymnasium's CliffWalking (Sutton & Barto Example 6.6): a 4x12 grid, start (3, 0), goal (3, 11), the
    cliff (3, 1..10). Every step costs -1; stepping into the cliff costs -100 and returns the agent to the
    start *without* ending the episode (Gymnasium 1.x's semantics); reaching the goal ends it. Actions
    0 up, 1 right, 2 down, 3 left; slippery moves go to each of a - 1, a, a + 1 with probability 1/3."""
    shape, start, goal = (4, 12), 36, 47
    next_states, _ = grid_step(shape, COMPASS)
    cliff = np.zeros(shape, dtype=bool)
    cliff[3, 1:-1] = True
    into_cliff = cliff.ravel()[next_states]
    rewards = np.where(into_cliff, -100.0, -1.0)
    next_states = np.where(into_cliff, start, next_states)
    probs, next_states, rewards = _slippery(next_states, rewards, [1.0 / 3.0] * 3 if is_slippery else None)
    return MDP.from_outcomes(probs, next_states, rewards, gamma, terminal_states=[goal],
                             initial_distribution=_one_hot(start, 48), actions=["up", "right", "down", "left"])
