# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 2: the basics of reinforcement learning, in running code
#
# Chapter 2 of the book walks from the one-state problem (bandits) to Markov processes, Bellman equations,
# dynamic programming, and then to the model-free methods that learn from samples: Monte Carlo,
# temporal-difference learning, Sarsa, Q-learning, TD(λ) and value-function approximation. This tutorial
# follows the same path with minirl, one small experiment per idea:
#
# | book | minirl |
# |---|---|
# | 2.2 bandits, regret | `minirl.bandits` |
# | 2.3 MRP / MDP, Bellman equations | `minirl.tabular.MRP`, `MDP`, `bellman_expectation`, `bellman_optimality` |
# | 2.4 policy and value iteration | `minirl.tabular.policy_iteration`, `value_iteration` |
# | 2.5 Monte Carlo | `first_visit_mc_prediction`, `mc_exploring_starts`, ... |
# | 2.6 TD, Sarsa, Q-learning, TD(λ) | `td0_prediction`, `sarsa`, `q_learning`, `td_lambda`, ... |
# | 2.7.2 linear value-function approximation | `TileCoding`, `Fourier`, `semi_gradient_td0`, ... |
#
# Every learning function takes an explicit `seed`, so each figure below is reproducible. With
# `MINIRL_FAST=1` the experiments shrink (fewer runs and episodes) so the whole file runs in under a minute.

# %%
import numpy as np

import minirl.envs as envs
from minirl.bandits import UCB, EpsilonGreedy, GaussianBandit, run_bandit
from minirl.tabular import (Fourier, StateAggregation, StateIndex, TileCoding, bellman_expectation,
                            bellman_optimality, examples, first_visit_mc_prediction, gradient_mc_prediction,
                            linear_value, mc_prediction, policy_iteration, q_learning, random_mdp, sarsa,
                            semi_gradient_td0, td0_prediction, td_lambda, td_lambda_forward, uniform_policy,
                            value_iteration)
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch02_rl_basics")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)


def save(fig, name):
    save_figure(fig, FIGURES, name)


# %% [markdown]
# ## 2.2 Bandits: exploration against exploitation, measured by regret
#
# A bandit is an MDP with a single state: pull one of $K$ arms, get a reward, repeat. The greedy player
# keeps pulling the arm that looks best so far and can lock onto a bad one; ε-greedy explores a random arm
# with probability ε; UCB (2.7) adds the bonus $c\sqrt{\ln t / N_t(a)}$ to rarely tried arms. The
# pseudo-regret (2.6), $n\mu^* - E[\sum_t \mu_{A_t}]$, counts what playing has cost compared with always
# pulling the best arm: it grows linearly for a player that stops learning and slowly (logarithmically, for
# UCB) for one that keeps learning.

# %%
runs, steps = scale(2000, 200), scale(1000, 500)
players = {"greedy (ε = 0)": lambda seed: EpsilonGreedy(k=10, epsilon=0.0, num_runs=runs, seed=seed),
           "ε-greedy, ε = 0.01": lambda seed: EpsilonGreedy(k=10, epsilon=0.01, num_runs=runs, seed=seed),
           "ε-greedy, ε = 0.1": lambda seed: EpsilonGreedy(k=10, epsilon=0.1, num_runs=runs, seed=seed),
           "UCB, c = 2": lambda seed: UCB(k=10, c=2.0, num_runs=runs, seed=seed)}
fig, (ax_reward, ax_regret) = plt.subplots(1, 2, figsize=(11, 4))
for name, make_player in players.items():
    result = run_bandit(GaussianBandit(k=10, num_runs=runs, seed=0), make_player(1), steps)
    ax_reward.plot(np.convolve(result.average_reward, np.ones(10) / 10, mode="valid"), label=name)
    ax_regret.plot(result.expected_pseudo_regret, label=name)
    print(f"{name:22s} average reward {result.average_reward[-100:].mean():.2f}, "
          f"pseudo-regret after {steps} steps {result.expected_pseudo_regret[-1]:.0f}")
ax_reward.set(xlabel="step", ylabel="average reward", title="10-armed Gaussian testbed")
ax_regret.set(xlabel="step", ylabel="pseudo-regret (2.6)", title="cumulative pseudo-regret")
ax_reward.legend()
save(fig, "bandits.png")

# %% [markdown]
# ## 2.3 The student MRP, solved three ways
#
# The book's example has six states (Game, Task1, Task2, Rest, Pass, Bed) with the rewards $-1, -2, -2, +1,
# +10, 0$ and γ = 0.9. Its value $V(s) = E[G_t \mid S_t = s]$ can be
#
# 1. **sampled**: average the returns of trajectories that start in $s$ (Monte Carlo, 2.14);
# 2. **iterated**: apply the Bellman expectation equation $v \leftarrow R + \gamma P v$ (2.26) until it stops changing;
# 3. **solved in closed form**: $v = (I - \gamma P)^{-1} R$ (2.29), an $O(n^3)$ linear solve.
#
# The book's four sample trajectories from Task2 give the returns $-2$, $7$, $4.57$ and $-4.178$. (The book
# prints $-0.178$ for the last one and so averages to 2.348; the correct mean is 1.348.) Four samples are
# far from the true 3.75; a few thousand come close.

# %%
mrp = examples.student_mrp(gamma=0.9)
names = mrp.states
t2 = names.index("t2")
book_samples = [["t2", "b"], ["t2", "p", "b"], ["t2", "r", "t2", "p", "b"], ["t2", "r", "t1", "t2", "b"]]
book_returns = [mrp.return_of([names.index(s) for s in path]) for path in book_samples]
print("the book's four returns from t2:", np.round(book_returns, 3), "-> mean", round(np.mean(book_returns), 3))

rng = np.random.default_rng(0)
samples = scale(5000, 1000)
sampled = np.array([np.mean([mrp.sample_return(s, rng) for _ in range(samples)]) for s in range(6)])
iterated, exact = mrp.evaluate(), mrp.solve()
print(f"{'state':6s} {'sampled':>9s} {'iterated':>9s} {'exact':>9s}")
for s, name in enumerate(names):
    print(f"{name:6s} {sampled[s]:9.3f} {iterated[s]:9.3f} {exact[s]:9.3f}")
assert np.allclose(iterated, exact, atol=1e-6) and np.max(np.abs(sampled - exact)) < 0.5

# %% [markdown]
# ## 2.4 The Bellman operators are γ-contractions
#
# For any two value tables, one backup brings them closer by at least the factor γ:
# $\lVert TV - TV'\rVert_\infty \le \gamma \lVert V - V'\rVert_\infty$ (2.44, 2.47), for the expectation
# operator $T^\pi$ and the optimality operator $T^*$ alike. Banach's fixed-point theorem then says each has
# exactly one fixed point ($V^\pi$, $V^*$) and that iterating it from anywhere converges there, with the error
# shrinking at least like $\gamma^k$. We check both claims numerically on a random MDP. Random pairs of tables
# usually shrink by much more than γ; two tables that differ by a constant shrink by exactly γ, so the bound
# cannot be improved.

# %%
mdp = random_mdp(8, 3, gamma=0.9, seed=0)
pi = uniform_policy(mdp)
rng = np.random.default_rng(1)
ratios = {"T^π": [], "T*": []}
for i in range(scale(2000, 500)):
    V1, V2 = rng.normal(scale=10, size=(2, 8))
    if i % 4 == 0:
        V2 = V1 + rng.normal(scale=10)  # a constant shift: here the bound is met with equality
    gap = np.max(np.abs(V1 - V2))
    ratios["T^π"].append(np.max(np.abs(bellman_expectation(mdp, pi, V1) - bellman_expectation(mdp, pi, V2))) / gap)
    ratios["T*"].append(np.max(np.abs(bellman_optimality(mdp, V1) - bellman_optimality(mdp, V2))) / gap)
print({name: round(max(r), 3) for name, r in ratios.items()}, "<= γ = 0.9")

_, V_star = value_iteration(mdp, tol=1e-12)
V, errors = np.zeros(8), []
for k in range(60):
    errors.append(np.max(np.abs(V - V_star)))
    V = bellman_optimality(mdp, V)
fig, (ax_ratio, ax_error) = plt.subplots(1, 2, figsize=(11, 4))
ax_ratio.hist([ratios["T^π"], ratios["T*"]], bins=30, label=["$T^\\pi$", "$T^*$"])
ax_ratio.axvline(0.9, color="k", linestyle="--", label="γ")
ax_ratio.set(xlabel="‖TV − TV'‖∞ / ‖V − V'‖∞", title="one backup shrinks distances by ≤ γ")
ax_ratio.legend()
ax_error.semilogy(errors, label="‖V_k − V*‖∞")
ax_error.semilogy(errors[0] * 0.9 ** np.arange(60), "--", label="γ^k ‖V_0 − V*‖∞")
ax_error.set(xlabel="iteration k", title="value iteration converges geometrically")
ax_error.legend()
save(fig, "contraction.png")

# %% [markdown]
# ## 2.4 Dynamic programming: policy iteration and value iteration
#
# With the model known, policy iteration (Algorithm 2.6) alternates evaluating the current policy and acting
# greedily on its values; value iteration (Algorithm 2.7) folds the two into one backup with a max. On Sutton
# & Barto's 4×4 gridworld (−1 per step, terminal corners) both end with $V^*(s) = -$(steps to the nearest
# corner). On the slippery FrozenLake (γ = 1, so there is no hurry) $V^*(\text{start})$ is the probability that
# the best policy ever reaches the goal: about 0.82, however carefully it walks around the holes.

# %%
grid = examples.gridworld_4x4()
pi_policy, V_pi = policy_iteration(grid)
vi_policy, V_vi = value_iteration(grid)
print("4x4 gridworld V* (policy iteration):\n", V_pi.reshape(4, 4).round(1))
assert np.allclose(V_pi, V_vi, atol=1e-6)

lake = envs.make("FrozenLake-v1").unwrapped.mdp
lake_policy, V_lake = value_iteration(lake, tol=1e-10)
print("FrozenLake V*(start) =", round(V_lake[0], 3))


def heatmap(ax, values, title, fmt="{:.2f}", arrows=None):
    image = ax.imshow(values, cmap="viridis")
    middle = (values.min() + values.max()) / 2
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, fmt.format(v) + ("" if arrows is None else "\n" + arrows[r, c]), ha="center", va="center",
                color="k" if v > middle else "w", fontsize=9)
    ax.set(title=title, xticks=[], yticks=[])
    return image


lake_arrows = np.array(list("←↓→↑"))[lake_policy.argmax(axis=1)].reshape(4, 4)  # FrozenLake: left down right up
fig, (ax_grid, ax_lake) = plt.subplots(1, 2, figsize=(9, 4))
heatmap(ax_grid, V_pi.reshape(4, 4), "4×4 gridworld: V*", "{:.0f}")
heatmap(ax_lake, V_lake.reshape(4, 4), "FrozenLake: V* and π*", arrows=lake_arrows)
save(fig, "dynamic_programming.png")

# %% [markdown]
# ## 2.5 Monte Carlo: Blackjack
#
# Monte Carlo needs no model: it plays episodes and averages the returns that followed each state
# (Algorithm 2.8). Sutton & Barto's first example evaluates the policy "stick on 20 or 21, otherwise hit".
# Its value is high where it sticks and negative where it keeps hitting; a usable ace softens the risk.
# The observation is a tuple (player sum, dealer card, usable ace); `StateIndex` flattens it into a table row,
# and ``V.reshape(index.shape)`` gives the three axes back.

# %%
blackjack = envs.make("Blackjack-v1")
index = StateIndex(blackjack.observation_space)
stick_on_20 = lambda obs, rng: 0 if obs[0] >= 20 else 1  # noqa: E731  (0 = stick, 1 = hit)
V_bj = first_visit_mc_prediction(blackjack, stick_on_20, scale(500_000, 20_000), seed=0).reshape(index.shape)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, ace in zip(axes, (1, 0)):
    image = ax.imshow(V_bj[12:22, 1:11, ace], origin="lower", cmap="coolwarm", vmin=-1, vmax=1,
                      extent=(0.5, 10.5, 11.5, 21.5))
    ax.set(title=("usable ace" if ace else "no usable ace"), xlabel="dealer showing (1 = ace)", ylabel="player sum")
fig.colorbar(image, ax=axes)
fig.savefig(FIGURES / "blackjack_mc.png", dpi=100)
plt.close(fig)
print(f"V(21, dealer 10, no usable ace) ≈ {V_bj[21, 10, 0]:.2f}; V(15, dealer 10) ≈ {V_bj[15, 10, 0]:.2f}")

# %% [markdown]
# ## 2.6 TD(0) against Monte Carlo on the random walk
#
# TD(0) updates $V(S_t)$ towards $R_{t+1} + \gamma V(S_{t+1})$ after every step (2.57); constant-α Monte
# Carlo waits for the return $G_t$. On the 5-state random walk (true values 1/6 ... 5/6, all estimates
# starting at 0.5), TD's bootstrapped targets have less variance and its error falls faster at every step
# size, as in Sutton & Barto's Example 6.2. A `callback` records the error after each episode.

# %%
true_walk, V0 = np.arange(1, 6) / 6, np.r_[0.0, [0.5] * 5, 0.0]


def rms_curve(method, alpha, runs, episodes=100, **kwargs):
    curves = np.zeros((runs, episodes))
    for run in range(runs):
        def record(k, V, run=run):
            curves[run, k] = np.sqrt(np.mean((V[1:6] - true_walk) ** 2))
        method(envs.make("RandomWalk-v0"), np.ones((7, 1)), episodes, alpha=alpha, V0=V0, seed=run, callback=record,
               **kwargs)
    return curves.mean(axis=0)


runs = scale(100, 20)
fig, ax = plt.subplots(figsize=(6, 4))
for alpha in (0.05, 0.1, 0.15):
    ax.plot(rms_curve(td0_prediction, alpha, runs), label=f"TD(0), α = {alpha}")
for alpha in (0.01, 0.02, 0.03, 0.04):
    ax.plot(rms_curve(mc_prediction, alpha, runs, first_visit=False), "--", label=f"MC, α = {alpha}")
ax.set(xlabel="episodes", ylabel="RMS error", title="random walk: TD(0) vs constant-α MC")
ax.legend(fontsize=8)
save(fig, "td_vs_mc.png")

# %% [markdown]
# ## 2.6.2-2.6.3 Sarsa against Q-learning on the cliff
#
# Sarsa (2.68) bootstraps on the action its ε-greedy policy actually takes next; Q-learning (2.70) on the
# greedy one. On the cliff walk that difference decides the route: Q-learning learns the values of the
# optimal path along the cliff edge, but its exploratory steps keep falling off (−100), so the reward it
# collects while learning is lower. Sarsa learns the values of the policy it follows, exploration included,
# and prefers the safer path one or two rows up.

# %%
episodes, runs = 500, scale(10, 2)
curves = {}
for name, method in [("Sarsa", sarsa), ("Q-learning", q_learning)]:
    results = [method(envs.make("CliffWalking-v0"), episodes, alpha=0.5, epsilon=0.1, seed=run) for run in range(runs)]
    curves[name] = np.mean([r.returns for r in results], axis=0)
    # every step costs -1, so an action that was tried has Q < 0; one never tried still has its initial 0
    # and would look best. The route follows the best *tried* action.
    Q = np.where(results[0].Q == 0.0, -np.inf, results[0].Q)
    route = np.full((4, 12), " ")
    env = envs.make("CliffWalking-v0")
    s, _ = env.reset(seed=0)
    for _ in range(50):
        r, c = divmod(s, 12)
        route[r, c] = "*"
        s, reward, terminated, _, _ = env.step(int(Q[s].argmax()))
        if terminated:
            break
    route[3, 1:11] = np.where(route[3, 1:11] == "*", "X", "C")  # C: the cliff
    print(f"{name}: mean online return after episode 100: {curves[name][100:].mean():.1f}; greedy route:")
    print("\n".join("".join(row) for row in route))
fig, ax = plt.subplots(figsize=(6, 4))
for name, curve in curves.items():
    ax.plot(np.convolve(curve, np.ones(10) / 10, mode="valid"), label=name)
ax.set(xlabel="episode", ylabel="sum of rewards during the episode", ylim=(-100, 0), title="cliff walking, ε = 0.1")
ax.legend()
save(fig, "cliff_sarsa_vs_q.png")

# %% [markdown]
# ## 2.6.1 TD(λ): between TD(0) and Monte Carlo
#
# The λ-return (2.65) averages all n-step returns with weights $(1-\lambda)\lambda^{n-1}$; λ = 0 gives the TD(0)
# target and λ = 1 the Monte Carlo return. The forward view needs the whole episode; the backward view gets
# the same effect online with an eligibility trace $z_t = \gamma\lambda z_{t-1} + \nabla V(S_t)$ (2.63). Offline
# (all increments of an episode computed with its starting values and added at its end), with accumulating
# traces, the two views agree exactly, which we check first. Then we plot the error of online TD(λ) on the
# 19-state random walk against α for several λ (Sutton & Barto fig. 12.6): intermediate λ do best, and large
# λ with large α diverge (the plot caps the error at 0.6).

# %%
walk19 = envs.make("RandomWalk19-v0")
forward = td_lambda_forward(walk19, np.ones((21, 1)), 20, 0.7, alpha=0.1, seed=3)
backward = td_lambda(walk19, np.ones((21, 1)), 20, 0.7, alpha=0.1, offline=True, seed=3)
print("forward and backward views agree:", np.allclose(forward, backward))

true19 = (np.arange(1, 20) - 10) / 10
alphas = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0])
fig, ax = plt.subplots(figsize=(6, 4))
for lam in (0.0, 0.4, 0.8, 0.9, 1.0):
    errors = []
    for alpha in alphas:
        e = []
        with np.errstate(over="ignore", invalid="ignore"):  # the diverging runs overflow to inf and nan
            for run in range(scale(50, 5)):
                td_lambda(walk19, np.ones((21, 1)), 10, lam, alpha=alpha, seed=run,
                          callback=lambda k, V: e.append(np.sqrt(np.mean((V[1:20] - true19) ** 2))))
            errors.append(float(np.fmin(np.mean(e), 0.6)))
    ax.plot(alphas, errors, marker="o", label=f"λ = {lam}")
ax.set(xlabel="α", ylabel="RMS error, first 10 episodes", title="online TD(λ) on the 19-state walk")
ax.legend()
save(fig, "td_lambda.png")

# %% [markdown]
# ## 2.7.2 Linear value-function approximation
#
# When there are too many states for a table, $v(s, w) = w^\top \phi(s)$ with hand-made features: state
# aggregation (one feature per group of states), tile coding (several offset grids), a Fourier cosine basis
# $\cos(i\pi s)$, polynomials or RBFs. Gradient Monte Carlo (2.89) and semi-gradient TD(0) (2.91) learn $w$
# from the same episodes as before. We use Sutton & Barto's 1000-state random walk (Example 9.1): start in
# the middle, jump 1-100 states left or right, −1 or +1 when leaving at either end. Its environment is a
# dozen lines: any class with `reset` and `step` works.

# %%
class ThousandStateWalk(envs.Env):
    def __init__(self, n=1000, jump=100):
        self.n, self.jump = n, jump
        self.observation_space, self.action_space = envs.spaces.Discrete(n + 2), envs.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = self.n // 2
        return self.s, {}

    def step(self, action):
        step = int(self.np_random.integers(1, self.jump + 1)) * (1 if self.np_random.random() < 0.5 else -1)
        self.s = min(max(self.s + step, 0), self.n + 1)
        reward = -1.0 if self.s == 0 else (1.0 if self.s == self.n + 1 else 0.0)
        return self.s, reward, reward != 0.0, False, {}

    def true_values(self):
        """v = Pv + r over the n non-terminal states, solved exactly."""
        n, p = self.n, 1.0 / (2 * self.jump)
        A, b = np.eye(n), np.zeros(n)
        for s in range(1, n + 1):
            for target in (s + d for d in range(-self.jump, self.jump + 1) if d != 0):
                if target < 1:
                    b[s - 1] -= p
                elif target > n:
                    b[s - 1] += p
                else:
                    A[s - 1, target - 1] -= p
        return np.linalg.solve(A, b)


walk = ThousandStateWalk()
v_true = walk.true_values()
states = np.arange(1, 1001)
policy = lambda obs, rng: 0  # noqa: E731  (one action: the walk moves by itself)
episodes = scale(2000, 300)
fits = {  # name: (method, features, α); tile coding divides α by the number of active tiles
    "state aggregation (10 groups), gradient MC": (gradient_mc_prediction, StateAggregation(10, 1, 1000), 1e-3),
    "tile coding (8 tilings × 5 tiles), semi-gradient TD": (semi_gradient_td0, TileCoding(8, 5, 1, 1000), 0.01 / 8),
    "Fourier order 5, gradient MC": (gradient_mc_prediction, Fourier(5, 1, 1000), 5e-4),
}
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.plot(states, v_true, "k", linewidth=2, label="true value")
for name, (method, features, alpha) in fits.items():
    w = method(walk, policy, features, episodes, alpha=alpha, seed=0)
    estimate = linear_value(w, features, states)
    print(f"{name}: RMS error {np.sqrt(np.mean((estimate - v_true) ** 2)):.3f}")
    ax.plot(states, estimate, label=name)
ax.set(xlabel="state", ylabel="value", title=f"1000-state random walk, {episodes} episodes")
ax.legend(fontsize=8)
save(fig, "function_approximation.png")
