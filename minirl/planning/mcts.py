"""Monte Carlo tree search: the tree, its four phases, UCT and the scores AlphaZero uses (book ch. 9.4.2 and 15.3).

Algorithm 9.32 (B.74) keeps a tree of the (state, action) pairs a search has visited, estimates Q(s, a) by the
mean return of the simulations through them, improves the simulation (tree) policy from those Q values and, where
the tree ends, falls back to a default policy (uniform random rollouts), adding the first new state of each
simulation to the tree. Chapter 15.3 names the four phases of one simulation:

    select     from the root, follow a = argmax_a score(s, a) while the node is expanded
    expand     add the leaf's children (with prior probabilities P)
    evaluate   the leaf's value: a random rollout to the end of the game (UCT) or a network's v (AlphaZero);
               a finished game is scored exactly: win +1, loss -1, draw 0
    backup     N <- N + 1, W <- W + v, Q = W / N on every edge of the path, the sign of v flipping at each ply

Scores for the select phase:

    UCT (15.3)     Q(s, a) + c * sqrt(2 ln N(s) / N(s, a))                 (infinite for an unvisited child)
    PUCT (§15.3)   Q(s, a) + U(s, a),  U = c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))

The book writes PUCT's square root over Σ_b N(s, b); here, as in implementations of it, N(s) is the parent's own
visit count, which is 1 + Σ_b N(s, b) because a node's expansion counts as its first visit.

Bookkeeping (fig. 15.3): each `Node` is the edge into a state, holding N (visit_count), W (value_sum), Q = W / N
and the prior P. **Values are stored from the view of the player who moved into the node**, so a parent picks
the child with the largest score and `backup` flips the sign at each step towards the root. `evaluate(game)`
returns the value for the player to move in `game`; the leaf therefore backs up its negation. This matches the
book's walkthrough (§15.4): a leaf worth -0.1 to black, reached by white's move 2, gives that edge N=1, W=0.1,
Q=0.1; a finished game that white lost, reached by black's move 9, gives that edge W=1.

`MCTS.new_root` expands the root and backs up its own evaluation, so the root has N=1 before any simulation and
N = 1 + the number of simulations after them (the book's 400 simulations end with a root count of 401).
Children are kept in ascending action order and ties in the score go to the lowest action, so a search with a
fixed seed is reproducible.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

import numpy as np

from minirl.errors import check_integer
from minirl.tabular.experience import as_generator


class Node:
    """One edge/state of the search tree (fig. 15.3): P, N, W, Q = W / N and the children by action."""

    __slots__ = ("parent", "prior", "visit_count", "value_sum", "children")

    def __init__(self, parent: "Node | None" = None, prior: float = 1.0):
        self.parent = parent
        self.prior = float(prior)  # P(s, a)
        self.visit_count = 0  # N(s, a)
        self.value_sum = 0.0  # W(s, a), from the view of the player who moved into this node
        self.children: dict[int, Node] = {}

    @property
    def q(self) -> float:
        """Q(s, a) = W / N, 0 before the first visit."""
        return self.value_sum / self.visit_count if self.visit_count else 0.0

    def expanded(self) -> bool:
        return bool(self.children)

    def expand(self, actions, priors) -> None:
        """Add one child per action with its prior P(s, a)."""
        actions, priors = np.asarray(actions), np.asarray(priors, dtype=np.float64)
        if actions.shape != priors.shape or actions.ndim != 1:
            raise ValueError(f"Node.expand: expected one prior per action, got actions of shape {actions.shape} "
                             f"and priors of shape {priors.shape}")
        for action, prior in zip(actions.tolist(), priors.tolist()):
            self.children[action] = Node(self, prior)

    def backup(self, value: float) -> None:
        """N += 1, W += value here, then the same with -value at the parent, and so on up to the root."""
        node, value = self, float(value)
        while node is not None:
            node.visit_count += 1
            node.value_sum += value
            value = -value  # the parent's mover is the other player
            node = node.parent

    def __repr__(self) -> str:
        return (f"Node(N={self.visit_count}, W={self.value_sum:.3f}, Q={self.q:.3f}, P={self.prior:.3f}, "
                f"children={len(self.children)})")


def uct_score(parent: Node, child: Node, c: float) -> float:
    """UCT (15.3): X̄_j + c * sqrt(2 ln n / n_j), infinite for a child never visited."""
    if child.visit_count == 0:
        return math.inf
    return child.q + c * math.sqrt(2.0 * math.log(parent.visit_count) / child.visit_count)  # (15.3)


def puct_score(parent: Node, child: Node, c_puct: float) -> float:
    """PUCT (§15.3): Q(s, a) + U(s, a), U = c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))."""
    u = c_puct * child.prior * math.sqrt(parent.visit_count) / (1 + child.visit_count)  # U(s, a)
    return child.q + u  # Q(s, a) + U(s, a)


def dirichlet_noise(root: Node, alpha: float, weight: float, rng: np.random.Generator) -> None:
    """Exploration noise at the root (§15.3, self-play): P <- (1 - weight) * P + weight * η, η ~ Dir(alpha)."""
    if not root.children:
        raise ValueError("dirichlet_noise: the root has no children; expand it first (MCTS.new_root)")
    if not (alpha > 0 and 0 <= weight <= 1):
        raise ValueError(f"dirichlet_noise: expected alpha > 0 and weight in [0, 1], got alpha={alpha}, "
                         f"weight={weight}")
    eta = rng.dirichlet(np.full(len(root.children), float(alpha)))
    for child, noise in zip(root.children.values(), eta.tolist()):
        child.prior = (1.0 - weight) * child.prior + weight * noise


def terminal_value(game) -> float:
    """The exact value of a finished game for the player to move: 0 for a draw, -1 otherwise (the player who
    just moved has won)."""
    return game.outcome(game.current_player)


class MCTS:
    """Tree search with a pluggable leaf evaluator and selection score.

    evaluate(game) -> (priors over game.legal_actions(), value for game.current_player)
    score(parent, child) -> float, e.g. ``partial(uct_score, c=1.0)`` or ``partial(puct_score, c_puct=5.0)``
    """

    def __init__(self, evaluate: Callable, score: Callable[[Node, Node], float], num_simulations: int):
        check_integer("MCTS: num_simulations", num_simulations, 1)
        self.evaluate, self.score, self.num_simulations = evaluate, score, int(num_simulations)

    def new_root(self, game) -> Node:
        """A root for `game`, expanded with `evaluate`, its own value backed up (root N = 1)."""
        if game.winner() is not None:
            raise ValueError(f"MCTS: cannot search a finished game ({game!r})")
        root = Node()
        priors, value = self.evaluate(game)
        root.expand(game.legal_actions(), priors)
        root.backup(-value)
        return root

    def run(self, game, root: Node | None = None, num_simulations: int | None = None) -> Node:
        """Run simulations from `game` (into `root` if given, e.g. a reused subtree) and return the root."""
        if root is None:
            root = self.new_root(game)
        n = self.num_simulations if num_simulations is None else num_simulations
        check_integer("MCTS.run: num_simulations", n, 1)
        score = self.score
        for _ in range(n):
            node, state = root, game.copy()
            while node.children:  # select
                best_action, best, best_score = -1, None, -math.inf
                for action, child in node.children.items():  # ascending actions: ties go to the lowest
                    s = score(node, child)
                    if s > best_score:
                        best_action, best, best_score = action, child, s
                if best is None:  # every score was -inf or nan
                    raise ValueError(f"MCTS: the score gave no finite or +inf value at a node {node!r}")
                state.play(best_action)
                node = best
            if state.winner() is not None:
                value = terminal_value(state)  # a finished game is scored exactly
            else:
                priors, value = self.evaluate(state)  # evaluate
                node.expand(state.legal_actions(), priors)  # expand
            node.backup(-value)  # backup: the leaf's value is for the player to move there
        return root

    @staticmethod
    def visit_counts(root: Node, action_size: int) -> np.ndarray:
        """N(s, a) of the root's children as a dense array over all `action_size` actions."""
        counts = np.zeros(action_size, dtype=np.int64)
        for action, child in root.children.items():
            counts[action] = child.visit_count
        return counts


def most_visited(root: Node) -> int:
    """The root's most visited action (ties to the lowest action): the move a search plays."""
    return max(root.children.items(), key=lambda item: (item[1].visit_count, -item[0]))[0]


class UCT:
    """Algorithm 9.32 with the UCT score (15.3): uniform priors, random rollouts evaluate the leaves.

        uct = UCT(num_simulations=1000, c=1.0, seed=0)
        action = uct.search(game)          # the most visited action; uct.root keeps the tree
    """

    def __init__(self, num_simulations: int = 1000, c: float = 1.0, seed=0):
        if not (isinstance(c, (int, float)) and math.isfinite(c) and c >= 0):
            raise ValueError(f"UCT: c must be a finite number >= 0, got {c!r}")
        self.rng = as_generator(seed)
        self.mcts = MCTS(self.rollout_evaluate, partial(uct_score, c=float(c)), num_simulations)
        self.root: Node | None = None

    def rollout_evaluate(self, game) -> tuple[np.ndarray, float]:
        """Uniform priors and the outcome of one uniformly random game from here, for the player to move.

        Uniformly random play fills the empty cells in a uniformly random order, so one permutation of them
        is a whole rollout."""
        legal = game.legal_actions()
        player, rollout = game.current_player, game.copy()
        for action in self.rng.permutation(legal).tolist():
            rollout.play(action)
            if rollout.winner() is not None:
                break
        return np.full(len(legal), 1.0 / len(legal)), rollout.outcome(player)

    def search(self, game) -> int:
        """Search from `game` and return the most visited action."""
        self.root = self.mcts.run(game)
        return most_visited(self.root)

