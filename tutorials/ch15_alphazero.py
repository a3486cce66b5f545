# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 15: AlphaZero, from the book's 3×3 tree to Gomoku
#
# Chapter 15 builds a Gomoku player that learns from nothing but the rules. A tree search (MCTS with the PUCT
# rule) decides every move; a network f_θ(s) = (p, v) guides the search with its move probabilities p and its
# position value v; the games the search plays against itself teach the network. This tutorial follows the
# book's walkthrough of the tree's bookkeeping number by number, checks the pieces (move probabilities, the
# board's symmetries, the network's gradient, the loss), trains AlphaZero on tic-tac-toe until it plays
# perfectly, and shows how the same code runs Gomoku.
#
# | book | equation or figure | minirl |
# |---|---|---|
# | 15.3 node statistics N, W, Q = W/N, P | fig. 15.3 | `minirl.planning.mcts.Node` |
# | 15.3 PUCT: a = argmax Q + U, U = c_puct P √(Σ_b N) / (1 + N), c_puct = 5 | L37129 | `puct_score`, `BatchedSearch` |
# | 15.4 the walkthrough: searches 1-3, 400 searches | figs. 15.6-15.15 | section 1 below |
# | 15.4 π(a\|s) = N^{1/τ} / Σ N^{1/τ}, τ = 1 for 12 moves | L37577 | `move_probabilities` |
# | 15.4 data (s, π, z), rotations and flips | figs. 15.17-15.18 | `self_play`, `augment` |
# | 15.4 ResNet with a policy and a value head | fig. 15.19 | `minirl.planning.network.PolicyValueNet` |
# | 15.4 l = (z − v)² − πᵀ log p + c ‖θ‖² | L37665 | `alphazero_loss` |
# | 15.4 the best network, gated at 55 % | L37671 | `AlphaZero(gate="best")` |
# | Table 15.1 | c_puct 5, 400 searches, Dir(0.3), 0.25, Adam 10⁻³ | `AlphaZero.hyperparameters` |
#
# With `MINIRL_FAST=1` the training run shrinks so that the whole file runs in about a minute.

# %%
import json
import time
from functools import partial
from pathlib import Path

import numpy as np

import autodiff as ad
from minirl.algos.alphazero import AlphaZero
from minirl.algos.base import TrainingHooks
from minirl.envs import Gomoku, TicTacToe
from minirl.planning import MCTS, decided_positions, minimax_action, puct_score
from minirl.planning.alphazero import (BatchedSearch, augment, game_from_observation, move_probabilities,
                                       play_match, symmetry)
from minirl.planning.network import PolicyValueNet, alphazero_loss
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch15_alphazero")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)

# %% [markdown]
# ## 1. The book's walkthrough, one search at a time
#
# The book starts from the 3×3 position of fig. 15.6: black has stones on 1 and 5, white on 4, and white is to
# move (black threatens the diagonal 1-5-9). The book numbers the cells 1-9 from the bottom left; our actions are
# `row * 3 + col` with row 0 at the bottom, so the book's cell k is our action k − 1.
#
# Each `Node` is an edge into a state and keeps N (visits), W (total value), Q = W/N and the prior P, all from
# the view of the player who made the move into it. A search has four phases: select by argmax Q + U down to a
# leaf, expand it with the network's priors, evaluate it (the network's v, or the exact result of a finished
# game), and back up: N += 1, W += v along the path, the sign of v flipping at every ply.
#
# Instead of a network we use a scripted evaluator that returns the book's numbers: at the root white's priors
# favour 2; after white's 2, the position is worth v = −0.1 to black and black's priors favour 9.

# %%
cell = lambda k: k - 1  # noqa: E731  (the book's cell k is our action k - 1)
root_game = TicTacToe()
for k in (5, 4, 1):  # black 5, white 4, black 1: white to move
    root_game.play(cell(k))
print(root_game.render())
after_w2 = root_game.copy()
after_w2.play(cell(2))


def book_evaluator(game):
    """The book's numbers: (priors over game.legal_actions(), v for the player to move)."""
    legal = game.legal_actions()
    priors = np.full(len(legal), 0.1)
    if np.array_equal(game.board, root_game.board):
        priors[list(legal).index(cell(2))] = 0.5
        return priors / priors.sum(), 0.0
    if np.array_equal(game.board, after_w2.board):
        priors[list(legal).index(cell(9))] = 0.5
        return priors / priors.sum(), -0.1
    return np.full(len(legal), 1 / len(legal)), 0.0


mcts = MCTS(book_evaluator, partial(puct_score, c_puct=5.0), num_simulations=1)

# search 1: the root is a leaf: expand and evaluate it; only its visit count changes
root = mcts.new_root(root_game)
print("search 1: root", root)
assert root.visit_count == 1 and all(child.visit_count == 0 for child in root.children.values())

# search 2: white selects (w, 2), a new leaf: black's v = −0.1 becomes +0.1 on white's edge
mcts.run(root_game, root)
w2 = root.children[cell(2)]
print("search 2: edge (w, 2)", w2, "- root N =", root.visit_count)
assert (w2.visit_count, round(w2.value_sum, 12), round(w2.q, 12)) == (1, 0.1, 0.1) and root.visit_count == 2

# %% [markdown]
# Why does search 3 pick (w, 2) again? With P = 0.5, N = 1 and Σ_b N = 2 its score is
# Q + U = 0.1 + 5 · 0.5 · √2 / 2 ≈ 1.87, while an unvisited move with P = 0.1 scores 5 · 0.1 · √2 / 1 ≈ 0.71.
# (The book's derived example: P = 0.5, Σ_b N = 4, N = 1 gives U = 5 · 0.5 · 2 / 2 = 2.5 and, with Q = 0.1,
# a score of 2.6.) Then black, at a node visited once, picks its most likely move 9, which completes the
# diagonal 1-5-9: the game is over, so no network is asked. White has lost, v_white = −1, so black's edge into
# this state gets +1, white's edge −1, and so on up.

# %%
assert abs(puct_score(root, w2, 5.0) - (0.1 + 5 * 0.5 * np.sqrt(2) / 2)) < 1e-12
probe = type(w2)(parent=None, prior=0.5)
probe.visit_count, probe.value_sum = 1, 0.1
parent = type(w2)()
parent.visit_count = 4
assert abs(puct_score(parent, probe, 5.0) - 2.6) < 1e-12  # the book's U = 2.5, plus Q = 0.1

mcts.run(root_game, root)  # search 3
b9 = w2.children[cell(9)]
print("search 3: edge (b, 9)", b9, "\n          edge (w, 2)", w2, "- root N =", root.visit_count)
assert (b9.visit_count, b9.value_sum, b9.q) == (1, 1.0, 1.0) and not b9.expanded()
assert (w2.visit_count, round(w2.value_sum, 12)) == (2, -0.9) and root.visit_count == 3

# %% [markdown]
# ### 400 searches, and the root's count of 401
#
# After 400 searches the book's root has been visited 401 times while its children add up to 400 (fig. 15.14).
# Both numbers are right: the first "search" only expanded and evaluated the root. It passed through the root,
# so N(root) counts it, but it chose no move, so no child counts it. Here `new_root` is that first search and
# every simulation of `run` adds one visit to the root and one to exactly one child. With 3 searches done, 398
# more make 400 simulations in all after the expansion.

# %%
mcts.run(root_game, root, num_simulations=398)
visits = MCTS.visit_counts(root, 9)
print("root N =", root.visit_count, "- children's N:", {a + 1: int(visits[a]) for a in root.children})
assert root.visit_count == 401 and visits.sum() == 400
assert int(np.argmax(visits)) == cell(9)  # white blocks on 9, as in fig. 15.15

# %% [markdown]
# The search that AlphaZero trains with, `BatchedSearch`, grows the trees of several games at once so that their
# leaves go through the network in one call (a NumPy network costs about as much for 16 positions as for one).
# With one game it is the same search: same visits, same values.

# %%
def scripted_predict(planes):
    """`book_evaluator` as a network on observation planes: log p over all 9 cells (illegal ones −30), v."""
    log_p, v = np.full((len(planes), 9), -30.0), np.zeros(len(planes))
    for i, s in enumerate(planes):
        game = game_from_observation(s, TicTacToe())  # the planes hold the whole position
        priors, v[i] = book_evaluator(game)
        log_p[i, game.legal_actions()] = np.log(priors)
    return log_p, v


batched = BatchedSearch(scripted_predict, c_puct=5.0, num_simulations=400).run([root_game])[0]
assert batched.visit_count == 401
np.testing.assert_array_equal(MCTS.visit_counts(batched, 9), visits)
print("BatchedSearch: the same 400 visits")

# %% [markdown]
# ## 2. From visit counts to a move: the temperature τ
#
# After the searches, the move is drawn from π(a|s) = N(s, a)^{1/τ} / Σ_b N(s, b)^{1/τ}. With τ = 1 the moves
# are proportional to their visits (exploration, the first 12 moves of a self-play game in the book); as τ → 0
# all the mass goes to the most visited move (the rest of the game, and every game against an opponent).

# %%
for tau in (1.0, 0.5, 0.1, 0.0):
    print(f"τ = {tau}:", np.round(move_probabilities(visits, tau)[root_game.legal_actions()], 3))
assert move_probabilities(visits, 0.0)[cell(9)] == 1.0

# %% [markdown]
# ## 3. Eight boards for one: rotations and flips
#
# Gomoku's rules do not change when the board turns or flips, so each position (s, π) of a self-play game is
# stored eight times (the book follows AlphaGo Zero here). The planes and π, reshaped as the board, must go
# through the same symmetry: the probability of a move travels with its square.

# %%
planes8, pi8 = augment(after_w2.observation(), move_probabilities(visits, 1.0))
for k in range(8):
    stones = planes8[k, 0] - planes8[k, 1]  # +1: the player to move (black), −1: white
    best = divmod(int(np.argmax(pi8[k])), 3)
    assert stones[best] == 0  # the most likely move is still on an empty square
    assert np.array_equal(symmetry(after_w2.observation(), k), planes8[k])
print("the 8 images of the position after (w, 2), black's stones +1 (row 2 at the top):")
print("\n".join("   ".join(" ".join("+-."[[1, -1, 0].index(int(v))] for v in (planes8[k, 0] - planes8[k, 1])[r])
                           for k in range(8)) for r in (2, 1, 0)))

# %% [markdown]
# ## 4. The network and its loss
#
# f_θ is a small ResNet (fig. 15.19): a 3×3 convolution, residual blocks, and two heads, log p (a log-softmax over
# the n² squares) and v = tanh(·). Its loss for a minibatch is l = (z − v)² − πᵀ log p + c ‖θ‖², written out in
# `alphazero_loss` (the L2 term is in the loss, not hidden in the optimizer). We check its gradient against finite
# differences in float64 and the loss against a computation by hand.

# %%
net64 = PolicyValueNet(3, blocks=1, channels=2, value_hidden=3, seed=0, dtype=np.float64)
rng = np.random.default_rng(0)
x = ad.tensor(rng.random((3, 4, 3, 3)), requires_grad=True)
pi, z = rng.dirichlet(np.ones(9), size=3), np.array([1.0, -1.0, 0.0])
params = list(net64.parameters())


def loss_of(x, *weights):
    log_p, v = net64(x)
    return alphazero_loss(log_p, v, pi, z, params, c=1e-2)[0]


assert ad.gradcheck(loss_of, (x, *params), full_jacobian_limit=0, directions=4)
log_p, v = net64(x)
total, value_loss, policy_loss = alphazero_loss(log_p, v, pi, z, params, c=1e-2)
by_hand = np.mean((z - v.data) ** 2) - np.mean((pi * log_p.data).sum(axis=1)) \
    + 1e-2 * sum(float((p.data ** 2).sum()) for p in params)
assert abs(total.item() - by_hand) < 1e-10
print(f"loss {total.item():.4f} = value {value_loss.item():.4f} + policy {policy_loss.item():.4f} + c‖θ‖²; "
      f"the gradient matches finite differences")

# %% [markdown]
# ## 5. AlphaZero on tic-tac-toe
#
# `AlphaZero("TicTacToe-v0")` runs the loop of fig. 15.5: rounds of self-play games (8 at once), each position
# stored with its 8 symmetries, gradient steps on the loss, and every 100 games the evaluator (a match against
# pure MCTS with random roll-outs, as in the book's code) decides whether the network becomes the best one. A
# "step" of `learn` is one self-play game. Tic-tac-toe needs only 50 searches per move and a one-block network.
#
# Perfect play draws tic-tac-toe, so the test is to never lose to it: `minimax_action` is memoised negamax.

# %%
games = scale(400, 24)
overrides = {} if not fast_mode() else {"num_simulations": 12, "channels": 8, "gate": "none"}
agent = AlphaZero("TicTacToe-v0", seed=0, **overrides)
losses, start = [], time.perf_counter()


class Record(TrainingHooks):  # the losses of the gradient steps, game by game
    def on_episode(self, agent, result, length):
        if agent.last_losses:
            losses.append(agent.last_losses["loss"])


agent.learn(games, Record())
print(f"{games} self-play games and {agent.num_updates} gradient steps in {time.perf_counter() - start:.0f} s; "
      f"evaluations: {agent.gates}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.arange(1, len(losses) + 1), losses)
ax.set_xlabel("self-play game")
ax.set_ylabel("loss of the last round")
save_figure(fig, FIGURES, "tictactoe_loss.png")

perfect = partial(minimax_action, rng=np.random.default_rng(1))  # a random one among the best moves
result = play_match(agent.move, perfect, TicTacToe, scale(20, 2))
print("against perfect play, first move alternating:", result)
if not fast_mode():
    assert result["losses"] == 0

# %% [markdown]
# What did the value head learn? Positions that the player to move wins under perfect play should look better
# to it than positions it loses.

# %%
positions = decided_positions(TicTacToe, rng)  # random play, then kept where perfect play decides the game
v_won = agent.best_net.predict(np.stack(positions[1]))[1].mean()
v_lost = agent.best_net.predict(np.stack(positions[-1]))[1].mean()
print(f"mean v of won positions {v_won:+.2f}, of lost ones {v_lost:+.2f}")
if not fast_mode():
    assert v_won > v_lost + 0.5

# %% [markdown]
# ## 6. The same code on Gomoku
#
# Nothing above knows the board's size: `AlphaZero("Gomoku-v0", size=6, n_in_row=4)` (or
# `minirl train alphazero --env Gomoku-v0 --set size=6 --set n_in_row=4`) trains on 6×6 four in a row with the
# book's 400 searches per move, 16 self-play games at once. `benchmarks/alphazero_gomoku.py` trains it for 45 minutes
# on one CPU core and then plays pure MCTS with 1000 roll-outs per move; its result is read below when it exists.
# Here, one short self-play round shows the pieces working on the larger board.

# %%
gomoku = AlphaZero("Gomoku-v0", seed=0, size=6, n_in_row=4, num_simulations=scale(50, 8), parallel_games=4,
                   gate="none", channels=16)
gomoku.learn(4)
print("one round of 4 self-play games on 6x6: losses", {k: round(v, 3) for k, v in gomoku.last_losses.items()})
game = Gomoku(6, 4)
for _ in range(6):
    game.play(gomoku.move(game))
print(game.render())
here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
record = here.parent / "benchmarks" / "results" / "alphazero_gomoku.json"
if record.exists():
    summary = json.loads(record.read_text())
    print("benchmark:", summary["self_play_games"], "self-play games in", summary["train_seconds"], "s; against",
          summary["match"]["opponent"] + ":", {k: summary["match"][k] for k in ("wins", "draws", "losses")})

# %% [markdown]
# Play against the tic-tac-toe agent yourself: `minirl train alphazero --env TicTacToe-v0` then
# `minirl play runs/alphazero-TicTacToe-v0-seed0 --first human`.
