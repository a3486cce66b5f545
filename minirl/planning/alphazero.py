"""AlphaZero: tree search guided by a policy-value network, trained on its own games (book ch. 15.3–15.4).

The book's loop (fig. 15.5): the tree search, helped by the network, plays games against itself; the games'
positions become training data; the trained network makes the next searches better.

Tree search with PUCT (ch. 15.3, L37129–37271), on the MCTS core of `minirl.planning.mcts` (`Node`, `puct_score`):

    select     a = argmax_a Q(s, a) + U(s, a),  U = c_puct P(s, a) √(Σ_b N(s, b)) / (1 + N(s, a)),  c_puct = 5
    expand     at a leaf s_L: (p, v) = f_θ(s_L); every legal move gets a child with prior P = p (illegal: 0)
    evaluate   a finished game is scored exactly instead: +1 for the player who made the winning move, 0 a draw
    backup     N ← N + 1,  W ← W + v,  Q = W / N  on every edge of the path, v changing sign at every ply

Self-play (ch. 15.4, L37529–37600, Table 15.1):

    at the root, P ← 0.75 P + 0.25 η,  η ~ Dir(0.3)                 (exploration; self-play only)
    after `num_simulations` searches, play a ~ π(a|s) = N(s, a)^{1/τ} / Σ_b N(s, b)^{1/τ}
        with τ = 1 for the first `temperature_moves` moves (12 in the book) and τ → 0 (the most visited) after
    keep the subtree under the move played as the next root (its counts are reused)
    store (s, π, z) for every position: z = +1 if the player to move in s won, −1 if it lost, 0 for a draw;
        the target π is N / Σ N (τ = 1, as in figs. 15.17-15.18): the temperature shapes the move played only
    each (s, π) enters the data eight times, under the eight symmetries of the square board

Training: minibatches of (s, π, z) minimise l = (z − v)² − πᵀ log p + c ‖θ‖² with Adam (lr 10⁻³); the loss is
`minirl.planning.network.alphazero_loss`.

Speed. A network call costs about the same for one position as for sixteen (NumPy's overhead dominates), so
`BatchedSearch` grows the trees of several games at once: each simulation descends every tree to a leaf, and
all the leaves are evaluated in one call. With one game it is exactly `MCTS.run` of the core with the
PUCT score (a test checks this), just faster for many.
"""

from __future__ import annotations

import math

import numpy as np

from minirl.planning.mcts import MCTS, Node, dirichlet_noise, most_visited, terminal_value
from minirl.planning.network import legal_priors


# -- the eight symmetries of the square board (augmentation) ------------------------------------------------
def symmetry(array: np.ndarray, k: int) -> np.ndarray:
    """The k-th symmetry (k = 0..7) of the square board on the last two axes of `array`: k % 4 quarter turns
    counter-clockwise, then, for k >= 4, a left-right flip. k = 0 is the identity."""
    if not 0 <= k < 8:
        raise ValueError(f"symmetry: expected k in 0..7, got {k!r}")
    out = np.rot90(array, k % 4, axes=(-2, -1))
    return np.ascontiguousarray(np.flip(out, axis=-1) if k >= 4 else out)


def augment(planes: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eight (planes, π) pairs of one position: the planes (C, n, n) and π (n²,) reshaped as the board
    (π[row·n + col] belongs to the square (row, col)) go through the same symmetry."""
    n = planes.shape[-1]
    if planes.ndim != 3 or planes.shape[-2] != n or np.shape(pi) != (n * n,):
        raise ValueError(f"augment: expected planes (C, n, n) and π (n²,), got {planes.shape} and {np.shape(pi)}")
    board_pi = np.asarray(pi).reshape(n, n)
    return (np.stack([symmetry(planes, k) for k in range(8)]),
            np.stack([symmetry(board_pi, k).ravel() for k in range(8)]))


# -- move probabilities from visit counts -------------------------------------------------------------------
def move_probabilities(visits: np.ndarray, tau: float) -> np.ndarray:
    """π(a|s) = N(s, a)^{1/τ} / Σ_b N(s, b)^{1/τ} (book L37577); τ = 0 is the limit τ → 0, all the probability
    on the most visited move (the lowest action among equals)."""
    visits = np.asarray(visits, dtype=np.float64)
    if visits.sum() <= 0:
        raise ValueError("move_probabilities: expected some visits, got none")
    if tau < 0:
        raise ValueError(f"move_probabilities: expected a temperature τ >= 0, got {tau!r}")
    if tau == 0:
        pi = np.zeros_like(visits)
        pi[int(np.argmax(visits))] = 1.0
        return pi
    powered = (visits / visits.max()) ** (1.0 / tau)  # scaled first so that N^{1/τ} cannot overflow
    return powered / powered.sum()


# -- the search -----------------------------------------------------------------------------------------------
class BatchedSearch:
    """PUCT tree search with f_θ for several games at once: leaves of all the trees go through the network together.

    `predict` maps planes (B, 4, n, n) to (log p, v) arrays (`PolicyValueNet.predict`); values are from the view
    of the player to move. Trees are `Node`s of the MCTS core."""

    def __init__(self, predict, c_puct: float = 5.0, num_simulations: int = 400):
        if num_simulations < 1:
            raise ValueError(f"BatchedSearch: expected num_simulations >= 1, got {num_simulations!r}")
        self.predict, self.c_puct, self.num_simulations = predict, float(c_puct), int(num_simulations)
        self.network_calls = 0

    def evaluate(self, games) -> list[tuple[np.ndarray, float]]:
        """(priors over `legal_actions()`, v) of each game, from one network call."""
        log_p, v = self.predict(np.stack([g.observation() for g in games]))
        self.network_calls += 1
        return [(legal_priors(log_p[i], g.legal_actions()), float(v[i])) for i, g in enumerate(games)]

    def evaluate_one(self, game) -> tuple[np.ndarray, float]:
        """The evaluator of `MCTS` (the core's sequential search): one position at a time."""
        return self.evaluate([game])[0]

    def expand_roots(self, games, roots: list[Node | None]) -> list[Node]:
        """A root for every game (a reused subtree, or a new node), each expanded: new ones are evaluated in one
        batch and their value backed up, so a fresh root has N = 1 (the book's first search)."""
        roots = [root if root is not None else Node(None, 1.0) for root in roots]
        fresh = [i for i, root in enumerate(roots) if not root.expanded()]
        if fresh:
            for i, (priors, value) in zip(fresh, self.evaluate([games[i] for i in fresh])):
                roots[i].expand(games[i].legal_actions(), priors)
                roots[i].backup(-value)  # backup takes the view of the player who moved into the node
        return roots

    def select_child(self, node: Node) -> tuple[int, Node]:
        """argmax_a Q(s, a) + U(s, a); `max` keeps the first of equal scores, and children are in ascending
        action order, so ties go to the lowest action (as in `MCTS.run`).

        The score is `puct_score` written inline, with the same operations in the same order (so the same
        bits: a test compares this search with the core's): a function call per child made the selection
        twice as slow, a quarter of a self-play move's time."""
        c_puct, sqrt_n = self.c_puct, math.sqrt(node.visit_count)
        # Q(s, a) + c_puct P(s, a) √(Σ_b N(s, b)) / (1 + N(s, a))
        return max(node.children.items(),
                   key=lambda item: item[1].q + c_puct * item[1].prior * sqrt_n / (1 + item[1].visit_count))

    def run(self, games, roots: list[Node | None] | None = None, num_simulations: int | None = None) -> list[Node]:
        """`num_simulations` simulations in each game's tree; returns the roots (expanded first if needed)."""
        roots = self.expand_roots(games, roots if roots is not None else [None] * len(games))
        for _ in range(self.num_simulations if num_simulations is None else num_simulations):
            leaves, positions = [], []
            for game, root in zip(games, roots):
                node, position = root, game.copy()
                while node.expanded():                                        # select
                    action, node = self.select_child(node)
                    position.play(action)
                if position.winner() is not None:                             # a finished game: exact value
                    node.backup(-terminal_value(position))                    # for the player who moved in
                else:
                    leaves.append(node)
                    positions.append(position)
            if positions:
                for node, position, (priors, value) in zip(leaves, positions, self.evaluate(positions)):
                    node.expand(position.legal_actions(), priors)             # expand, with P = p
                    node.backup(-value)                                       # backup, sign flipping each ply
        return roots

    def best_move(self, game, root: Node | None = None) -> tuple[int, Node]:
        """τ → 0: the most visited move after a search from `game` (no noise), and the root."""
        root = self.run([game], [root])[0]
        return most_visited(root), root


def reuse_subtree(root: Node, action: int) -> Node | None:
    """The child of the move played as the next root, cut from its parent (the rest of the tree is dropped)."""
    child = root.children.get(int(action))
    if child is not None:
        child.parent = None
    return child


# -- self-play -------------------------------------------------------------------------------------------------
def self_play(search: BatchedSearch, games: list, rng: np.random.Generator, temperature_moves: int = 12,
              dirichlet_alpha: float = 0.3, noise_weight: float = 0.25) -> list[tuple]:
    """Play `games` (fresh BoardGames) to their ends against themselves, all at once; returns one record per game:
    (planes (T, 4, n, n), π (T, n²), z (T,), winner)."""
    n_games = len(games)
    roots: list[Node | None] = [None] * n_games
    history = [([], [], []) for _ in range(n_games)]  # planes, π, player to move
    records: list = [None] * n_games
    active = list(range(n_games))
    while active:
        roots_active = search.expand_roots([games[i] for i in active], [roots[i] for i in active])
        for i, root in zip(active, roots_active):
            roots[i] = root
            dirichlet_noise(root, dirichlet_alpha, noise_weight, rng)         # P ← 0.75 P + 0.25 Dir(0.3)
        search.run([games[i] for i in active], roots_active)
        still = []
        for i in active:
            game, root = games[i], roots[i]
            visits = MCTS.visit_counts(root, game.action_size)
            tau = 1.0 if game.move_count < temperature_moves else 0.0
            action = int(rng.choice(game.action_size, p=move_probabilities(visits, tau))) if tau else \
                most_visited(root)
            planes, pis, players = history[i]
            planes.append(game.observation())
            pis.append(move_probabilities(visits, 1.0))
            players.append(game.current_player)
            game.play(action)
            roots[i] = reuse_subtree(root, action)
            if game.winner() is None:
                still.append(i)
                continue
            winner = game.winner()
            # z from each position's player-to-move view: +1 won, −1 lost, 0 draw
            z = np.array([0.0 if winner == 0 else (1.0 if p == winner else -1.0) for p in players], np.float32)
            records[i] = (np.stack(planes).astype(np.float32), np.stack(pis).astype(np.float32), z, winner)
        active = still
    return records


# -- the evaluator: matches between players -------------------------------------------------------------------
def play_match(first, second, game_factory, games: int, alternate: bool = True) -> dict:
    """`games` games between two players (callables game -> action), `first` moving first in the even games
    (and in all of them when `alternate` is False). Returns wins/draws/losses from `first`'s view and its
    score (wins + draws / 2) / games."""
    wins = draws = losses = 0
    for g in range(games):
        game = game_factory()
        swap = alternate and g % 2 == 1
        players = {1: second, 2: first} if swap else {1: first, 2: second}
        while game.winner() is None:
            game.play(int(players[game.current_player](game)))
        result = game.winner()
        if result == 0:
            draws += 1
        elif (result == 1) != swap:
            wins += 1
        else:
            losses += 1
    return {"wins": wins, "draws": draws, "losses": losses, "games": games,
            "score": (wins + 0.5 * draws) / games if games else 0.0}


def game_from_observation(planes: np.ndarray, template):
    """The position the planes show, replayed on a copy of `template` (an empty board of the right size): the
    stones of player 1 and player 2 are placed alternately, the last move (plane 2) last. Any order reaches
    the same board, and none passes through a finished game when the position itself is unfinished (a line in
    a part of the stones is a line of them all)."""
    planes = np.asarray(planes)
    n = template.size
    if planes.shape != (4, n, n):
        raise ValueError(f"game_from_observation: expected planes (4, {n}, {n}), got {planes.shape}")
    to_move = 1 if planes[3].any() else 2
    stones = {to_move: list(np.flatnonzero(planes[0].ravel() > 0.5)),
              3 - to_move: list(np.flatnonzero(planes[1].ravel() > 0.5))}
    last = np.flatnonzero(planes[2].ravel() > 0.5)
    if last.size:
        mover = 3 - to_move
        stones[mover].remove(int(last[0]))
        stones[mover].append(int(last[0]))
    if len(stones[1]) - len(stones[2]) != (0 if to_move == 1 else 1):
        raise ValueError(f"game_from_observation: {len(stones[1])} stones of player 1 and {len(stones[2])} of "
                         f"player 2 cannot have player {to_move} to move")
    game = template.copy()
    for i in range(len(stones[1]) + len(stones[2])):
        game.play(int(stones[1 + i % 2][i // 2]))
    return game


__all__ = ["BatchedSearch", "augment", "game_from_observation", "move_probabilities", "play_match",
           "reuse_subtree", "self_play", "symmetry"]
