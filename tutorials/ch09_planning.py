# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 9: planning with a model, from rollouts to UCT, and Dyna-2
#
# Chapter 9 of the book joins learning and planning. A *model* predicts what the environment does,
# S_{t+1} ~ F_s(S_t, A_t) (9.1) and R_{t+1} = F_r(S_t, A_t) (9.2); *planning* spends computation on simulated
# experience from it. Section 9.4 plans from the current state only: simulate forward, act on what the simulations
# say, and forget. This tutorial walks that road on tic-tac-toe, whose rules are a perfect model, then learns a
# model from experience and plans in it with Dyna-2.
#
# | book | equation or box | minirl |
# |---|---|---|
# | 9.2 transition and reward models | (9.1)–(9.2) | `minirl.planning.TabularModel` (learned), `MDPModel`, `GameModel` |
# | 9.4.1 simple Monte Carlo search | Alg. 9.31 (B.73) | `simple_mc_search`, `SimpleMCSearch` |
# | 9.4.2 Monte Carlo tree search, with UCT | Alg. 9.32 (B.74), (15.3) | `MCTS`, `UCT`, `uct_score` |
# | 9.4.3 TD search, Dyna-2 | Alg. 9.33 (B.75) | `Dyna2` |
# | 15.2 Gomoku and tic-tac-toe | fig. 15.1 | `minirl.envs.TicTacToe`, `Gomoku`, `TicTacToe-v0`, `Gomoku-v0` |
#
# With `MINIRL_FAST=1` the runs shrink so that the whole file runs in well under a minute.

# %%
import time

import numpy as np

import minirl.envs as envs
from minirl.envs import Gomoku, TicTacToe
from minirl.planning import (MCTS, UCT, Dyna2, MDPModel, SimpleMCSearch, TabularModel, minimax_action,
                             minimax_value, simple_mc_search)
from minirl.tabular import exact_policy_evaluation, q_from_v, uniform_policy
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch09_planning")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)

# %% [markdown]
# ## 1. A game is its own perfect model
#
# The book's demonstration game (fig. 15.1) is Gomoku on a 3x3 board with three in a row: tic-tac-toe. Cells are
# numbered as in the book's code, action = row * 3 + col with row 0 at the bottom. The figure labels the cells
# 1..9, so its game ((b,5),(w,4),(b,1),(w,7),(b,9)) is actions 4, 3, 0, 6, 8: black wins on the diagonal.

# %%
game = TicTacToe()
for label in (5, 4, 1, 7, 9):
    game.play(label - 1)
print(game.render())
assert game.winner() == 1  # black (the first player) has three in a row

# %% [markdown]
# A position's value under perfect play follows from the negamax recursion v(s) = max_a −v(s after a), with
# v = +1/−1/0 for the player to move at the end. Tic-tac-toe has only 5,478 positions, so `minimax_value`
# solves it exactly: a draw. This perfect player is the yardstick for the searches below.

# %%
t0 = time.perf_counter()
print("value of the empty board for the first player:", minimax_value(TicTacToe()),
      f"({time.perf_counter() - t0:.2f} s)")
assert minimax_value(TicTacToe()) == 0


# %%
def play_game(first, second, seed):
    """One game between two players (callables game -> action; None plays uniformly at random)."""
    game, rng = TicTacToe(), np.random.default_rng(seed)
    while game.winner() is None:
        mover = first if game.current_player == 1 else second
        game.play(mover(game) if mover is not None else int(rng.choice(game.legal_actions())))
    return game.winner()


def score(player, opponent, games):
    """(wins, draws, losses) of `player` over `games` games as first and `games` as second player."""
    results = [play_game(player, opponent, s) for s in range(games)]
    results_second = [play_game(opponent, player, s) for s in range(games)]
    wins = results.count(1) + results_second.count(2)
    losses = results.count(2) + results_second.count(1)
    return wins, 2 * games - wins - losses, losses


# %% [markdown]
# ## 2. Simple Monte Carlo search (Algorithm 9.31)
#
# With a fixed model M and a fixed rollout policy π, evaluate each action a of the current state by K simulated
# episodes that start with it and then follow π, Q(S_t, a) = (1/K) Σ_k G^k_t, and act greedily on these means.
# The estimate is of Q^π, the value of the *rollout* policy, not of the best play. On the 4x4 grid world of
# Sutton & Barto (reward −1 per step) the exact Q^π of the uniformly random policy is known, so we can check it.

# %%
mdp = envs.make("GridWorld4x4-v0").unwrapped.mdp
q_random = q_from_v(mdp, exact_policy_evaluation(mdp, uniform_policy(mdp)))
action, Q = simple_mc_search(MDPModel(mdp, seed=0), 6, num_rollouts=scale(1000, 300), rng=np.random.default_rng(0))
print("state 6, simple MC search Q:", {a: round(v, 2) for a, v in Q.items()})
print("state 6, exact Q of the random policy:", q_random[6])
assert np.allclose([Q[a] for a in range(4)], q_random[6], atol=2.0)
assert np.isclose(q_random[6, action], q_random[6].max())  # actions 2 and 3 tie exactly

# %% [markdown]
# On tic-tac-toe the rollouts play both sides at random, so simple search assumes a careless opponent. It beats a
# random player easily; against perfect play it loses now and then, because a move that wins most random games may
# lose to the one reply that a random rollout rarely finds.

# %%
games = scale(10, 3)
simple = SimpleMCSearch(num_rollouts=scale(100, 30), seed=0)
simple_vs_random = score(simple.search, None, games)
simple_vs_perfect = score(simple.search, minimax_action, games)
print("simple MC search vs random  (wins, draws, losses):", simple_vs_random)
print("simple MC search vs perfect (wins, draws, losses):", simple_vs_perfect)
assert simple_vs_random[0] > simple_vs_random[2]

# %% [markdown]
# ## 3. Monte Carlo tree search with UCT (Algorithm 9.32, eq. 15.3)
#
# MCTS keeps the statistics of the simulations in a tree and improves the simulation policy inside it. Each
# simulation has four phases (§15.3): **select** children by a score while the node is expanded; **expand** the
# leaf; **evaluate** it (a random rollout; a finished game is scored exactly); **back up** N += 1, W += v on the
# path, the sign of v flipping at each ply because the players alternate. UCT's score (15.3) is
#
#     Q(s, a) + c sqrt(2 ln N(s) / N(s, a)),
#
# the mean plus an exploration bonus that shrinks as an action is tried, so the search keeps looking at moves
# that might be better until it is sure they are not. First the bookkeeping on one position: black threatens the
# diagonal 0-4-8, white to move must block at 8.

# %%
position = TicTacToe()
for a in (0, 1, 4):
    position.play(a)
uct = UCT(num_simulations=scale(3000, 1000), c=1.0, seed=0)
best = uct.search(position)
counts = MCTS.visit_counts(uct.root, 9)
print("root N =", uct.root.visit_count, "- children N:", counts.tolist(), "- UCT plays", best)
print("children Q:", {a: round(child.q, 2) for a, child in uct.root.children.items()})
assert uct.root.visit_count == counts.sum() + 1  # the root's own expansion plus one per simulation
assert minimax_value(position) == -1  # white to move has lost under perfect play
assert best == 8 and max(uct.root.children.values(), key=lambda child: child.q) is uct.root.children[8]
q_children = np.full(9, np.nan)
for a, child in uct.root.children.items():
    q_children[a] = child.q  # from white's view: the player who moved into the child

fig, axes = plt.subplots(1, 2, figsize=(7, 3))
for ax, grid, title in ((axes[0], counts, "visit counts N(s, a)"), (axes[1], q_children, "Q(s, a) for white")):
    image = ax.imshow(np.asarray(grid, dtype=float).reshape(3, 3), origin="lower", cmap="viridis")
    ax.set_title(title)
    ax.set_xticks(range(3))
    ax.set_yticks(range(3))
    fig.colorbar(image, ax=ax, fraction=0.046)
save_figure(fig, FIGURES, "uct_root.png")

# %% [markdown]
# The block has the most visits and the highest Q. Every other move loses at once to black's 8, but the tree
# learns that only after trying black's replies to it (each unvisited child scores +∞), and the exploration bonus
# keeps sending it back now and then. Even the block's Q is negative, and rightly so: after it black plays 6,
# threatening both 3 and 2, and wins anyway (white lost with its first reply at 1, an edge next to black's
# corner). Against perfect play from the empty board UCT with enough simulations never loses; simple search with
# a similar budget does not manage that.

# %%
uct_vs_random = score(uct.search, None, games)
uct_vs_perfect = score(uct.search, minimax_action, games)
print("UCT vs random  (wins, draws, losses):", uct_vs_random)
print("UCT vs perfect (wins, draws, losses):", uct_vs_perfect)
assert uct_vs_perfect[2] == 0 and uct_vs_random[0] >= simple_vs_random[0] - 1

fig, ax = plt.subplots(figsize=(6, 3))
labels = ["simple vs random", "simple vs perfect", "UCT vs random", "UCT vs perfect"]
table = np.array([simple_vs_random, simple_vs_perfect, uct_vs_random, uct_vs_perfect])
left = np.zeros(4)
for column, (name, colour) in enumerate((("wins", "tab:green"), ("draws", "tab:gray"), ("losses", "tab:red"))):
    ax.barh(labels, table[:, column], left=left, color=colour, label=name)
    left += table[:, column]
ax.set_xlabel(f"games ({games} as first and {games} as second player)")
ax.legend(loc="lower right")
save_figure(fig, FIGURES, "tic_tac_toe_results.png")

# %% [markdown]
# The same code searches Gomoku. How fast is a simulation? On 6x6 four in a row the random rollouts are most of
# the cost; `Gomoku.play` finds a new line with a few shifts of a bitboard instead of scanning the board.

# %%
for name, start in (("tic-tac-toe", TicTacToe()), ("6x6 Gomoku, four in a row", Gomoku(6, 4))):
    n = scale(2000, 500)
    t0 = time.perf_counter()
    UCT(num_simulations=n, seed=0).search(start)
    print(f"UCT on {name}: {n / (time.perf_counter() - t0):,.0f} simulations per second")

# %% [markdown]
# ## 4. A learned model F_s, F_r (9.1)–(9.2)
#
# Without the rules we learn the model from experience. `TabularModel` counts: F_s(s, a) samples s' with the
# frequencies N(s, a, s') / N(s, a) (the maximum-likelihood model) and F_r(s, a) is the mean reward seen after
# (s, a). On the cliff walk (Sutton & Barto, Example 6.6) a few hundred random steps teach it the deterministic
# moves exactly, and simple MC search in the learned model then chooses like simple MC search in the true model.

# %%
cliff = envs.make("CliffWalking-v0")
true_model = MDPModel(cliff.unwrapped.mdp, seed=0)
learned = TabularModel(48, 4, seed=0)
rng = np.random.default_rng(0)
s, _ = cliff.reset(seed=0)
for _ in range(scale(20_000, 5_000)):
    a = int(rng.integers(4))
    s_next, r, terminated, truncated, _ = cliff.step(a)
    learned.update(s, a, r, s_next, terminated)
    s = cliff.reset()[0] if terminated or truncated else s_next
tried = learned.pair_counts > 0
errors = [np.abs(learned.transition_probs(s, a) - cliff.unwrapped.mdp.P[s, a]).max()
          for s in range(48) for a in range(4) if tried[s, a]]
print(f"pairs tried: {tried.sum()} of {tried.size}; largest error of F_s on them: {max(errors):.3f}")
assert max(errors) == 0.0  # the cliff walk is deterministic: one sample of a pair is the truth
state = 25  # row 2, next to the cliff's left end
plan = {}
for name, model in (("true", true_model), ("learned", learned)):
    plan[name] = simple_mc_search(model, state, scale(200, 50), np.random.default_rng(1), max_steps=100)
    print(f"simple MC search in the {name} model from state {state}: action {plan[name][0]}")
assert plan["true"][0] == plan["learned"][0]

# %% [markdown]
# ## 5. TD search and Dyna-2 (Algorithm 9.33)
#
# MCTS averages whole simulated returns; **TD search** instead learns from each simulated step by TD(λ), so every
# step of a simulation improves the policy for the next. Dyna-2 keeps two linear value functions over features
# φ(s, a): a **long-term memory** θ, learned by TD(λ) from real experience, and a **short-term memory** θ̄, emptied at
# the start of each real episode and learned by TD(λ) from simulated episodes in the learned model before every real
# action. The agent acts ε-greedily on Q̄(s, a) = φ(s, a)ᵀ(θ + θ̄). (The book prints both weight vectors as θ.)
#
#     δ  = r + Q(s', a') − Q(s, a),     z ← λz + φ(s, a),   θ ← θ + α δ z        (real step)
#     δ̄ = r + Q̄(s', a') − Q̄(s, a),     z̄ ← λz̄ + φ(s, a),   θ̄ ← θ̄ + ᾱ δ̄ z̄       (simulated step)
#
# With no search at all Dyna-2 is Sarsa(λ) on the long-term memory: the baseline. One-hot features make both
# memories tables here. An untried pair ends a simulation with reward 0, which under the cliff walk's −1 per
# step is optimistic: the search sends the agent to try what it has not tried, and it finds the goal in far fewer
# real steps.

# %%
episodes, runs = scale(30, 10), scale(3, 1)
lengths = {}
for search_episodes in (0, 3):
    per_run = []
    for seed in range(runs):
        agent = Dyna2(envs.make("CliffWalking-v0"), search_episodes=search_episodes, max_search_steps=20, seed=seed)
        per_run.append(agent.learn(episodes).lengths)
    lengths[search_episodes] = np.mean(per_run, axis=0)
    print(f"search episodes per real step = {search_episodes}: real steps in {episodes} episodes = "
          f"{lengths[search_episodes].sum():.0f}, last episode {lengths[search_episodes][-1]:.0f} steps")
assert lengths[3].sum() < 0.5 * lengths[0].sum()

fig, ax = plt.subplots(figsize=(6, 3))
for search_episodes, label in ((0, "TD(λ) only (no search)"), (3, "Dyna-2, 3 simulated episodes per step")):
    ax.plot(np.arange(1, episodes + 1), lengths[search_episodes], label=label)
ax.set_yscale("log")
ax.set_xlabel("real episode")
ax.set_ylabel("steps in the episode")
ax.legend()
save_figure(fig, FIGURES, "dyna2_cliff.png")

# %% [markdown]
# Chapter 15 (`tutorials/ch15_alphazero.py`) replaces UCT's random rollouts by a network's value and its uniform
# priors by the network's move probabilities, the PUCT score `minirl.planning.puct_score`, on the same `MCTS` core.
