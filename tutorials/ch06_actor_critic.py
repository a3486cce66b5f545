# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 6: from DQN's max to a learned actor, DDPG, TD3 and SAC
#
# Chapter 6 of the book carries DQN over to continuous actions. DQN acts by max_a Q(s, a); with a continuum of
# actions that max is an optimisation problem of its own at every step. The chapter's answer is to learn it: an
# actor μ_θ(s) trained to climb Q, which is the deterministic policy gradient. This tutorial checks the pieces one
# at a time, then runs the three agents.
#
# | book | equation or box | minirl |
# |---|---|---|
# | 6.2 the max over actions, learned: the DPG | (6.5)–(6.6), Theorem 2.4 | checked below against the Gaussian policy gradient |
# | 6.3 over-estimation, and clipped double Q | (6.9)–(6.14) | a toy problem below |
# | 6.4 soft policy iteration | (6.17)–(6.23) | `minirl.tabular.soft` |
# | 6.2 DDPG | Alg. 6.26 | `DDPG("Pendulum-v1")` |
# | 6.3 TD3 | Alg. 6.27 | `TD3("Pendulum-v1")` |
# | 6.4 SAC | Alg. 6.28 | `SAC("Pendulum-v1")` |
#
# With `MINIRL_FAST=1` the runs shrink so that the whole file runs in well under a minute.

# %%
import numpy as np

from minirl.tabular.mdp import random_mdp
from minirl.tabular.soft import soft_policy_iteration
from minirl.tabular.dp import value_iteration
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch06_actor_critic")
AGENTS = ("ddpg", "td3", "sac")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)

# %% [markdown]
# ## 1. From DQN's max to a learned actor
#
# Take one state and a critic Q(s, a) = −(a − 0.7)² + 0.1 sin(8a) over actions in [−1, 1]. DQN would act by the
# argmax, found here by brute force over a grid: fine for one state, hopeless per step for a network over a
# continuum. DDPG keeps a deterministic actor a = μ_θ(s) and moves θ up the critic's slope,
# θ ← θ + η ∇_θ μ_θ(s) ∂_a Q(s, a)|_{a = μ_θ(s)} (6.5)–(6.6): gradient ascent on Q, through the actor.

# %%
def q(a):
    return -(a - 0.7) ** 2 + 0.1 * np.sin(8 * a)


def dq_da(a):
    return -2 * (a - 0.7) + 0.8 * np.cos(8 * a)


grid = np.linspace(-1, 1, 2001)
print("argmax over a grid of 2001 actions:", grid[np.argmax(q(grid))])
theta, path = -0.9, []                        # the "actor" here is a constant μ_θ = θ: ∇_θ μ = 1
for _ in range(200):
    theta += 0.05 * dq_da(theta)               # θ ← θ + η ∇_θμ ∂_aQ
    path.append(theta)
print("the actor after 200 steps of the deterministic policy gradient:", round(theta, 4))
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(grid, q(grid), label="Q(s, a)")
ax.plot(path, q(np.array(path)), ".", ms=3, label="μ_θ during training")
ax.set_xlabel("a")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "learned_max.png")

# %% [markdown]
# The actor found a local maximum of Q, not necessarily the global one: the price of replacing a search by a
# gradient. Exploration noise (DDPG's Ornstein–Uhlenbeck or Gaussian noise, `minirl.algos.noise`) and a critic that
# is smooth where it was trained make this work in practice.
#
# ## 2. The deterministic policy gradient is the limit of the stochastic one (Theorem 2.4)
#
# Around the deterministic μ_θ, a Gaussian policy N(μ_θ(s), σ²) has the likelihood-ratio gradient
# E[(a − μ)/σ² ∇_θμ Q(s, a)]. As σ ↓ 0 it tends to the DPG ∇_θμ ∂_aQ|_{a=μ} (2.159). Computed by Gauss–Hermite
# quadrature over a, on the critic above, for μ = 0.2:

# %%
z, w = np.polynomial.hermite_e.hermegauss(80)
w = w / w.sum()
mu = 0.2
for sigma in (0.5, 0.2, 0.05, 0.01):
    a = mu + sigma * z
    spg = float(np.sum(w * (a - mu) / sigma ** 2 * q(a)))
    print(f"σ = {sigma:<5} stochastic gradient {spg:+.6f}   deterministic {dq_da(mu):+.6f}")
assert abs(float(np.sum(w * z / 0.01 * q(mu + 0.01 * z))) - dq_da(mu)) < 1e-3

# %% [markdown]
# ## 3. Over-estimation, and clipped double Q (6.12)–(6.14)
#
# A critic's errors are not biased, but a max over them is: E[max_a (Q(a) + ε_a)] ≥ max_a Q(a). DDPG's actor
# climbs its critic wherever the critic errs upward, and the target R + γQ(S', μ(S')) feeds the error back. TD3
# keeps two critics and takes the smaller of their estimates in the target. On a toy problem where every action
# is worth 0 and each critic has independent noise of standard deviation 1:

# %%
rng = np.random.default_rng(0)
actions, trials = 10, scale(20_000, 2_000)
noise_1, noise_2 = rng.normal(size=(trials, actions)), rng.normal(size=(trials, actions))
greedy = noise_1.argmax(axis=1)                                    # the action the (first) critic prefers
single = noise_1[np.arange(trials), greedy]                         # its own estimate of that action
clipped = np.minimum(noise_1, noise_2)[np.arange(trials), greedy]    # min of the two critics (6.13)
print(f"true value 0; one critic's estimate {single.mean():+.3f}; clipped double Q {clipped.mean():+.3f}")
assert single.mean() > 1.0 and abs(clipped.mean()) < single.mean() / 2

# %% [markdown]
# One critic over-estimates the best of 10 actions by about 1.5 standard deviations; the minimum of two removes
# most of it (erring, if at all, low, which a max in the next target does not amplify).
#
# ## 4. Soft policy iteration, the tabular core of SAC (6.17)–(6.23)
#
# SAC maximises reward plus α times the policy's entropy. With a known model this is soft policy iteration: evaluate
# Q under the soft Bellman operator, then improve to π ∝ exp(Q/α). As α ↓ 0 the soft-optimal values approach the
# ordinary optimal ones, within α log|A| / (1 − γ):

# %%
mdp = random_mdp(6, 3, gamma=0.9, seed=1)
_, V_star = value_iteration(mdp)
for alpha in (1.0, 0.3, 0.1, 0.01):
    policy, Q_soft, V_soft = soft_policy_iteration(mdp, alpha)
    gap = np.abs(V_soft - V_star).max()
    bound = alpha * np.log(3) / (1 - mdp.gamma)
    print(f"α = {alpha:<5} max |V_soft − V*| = {gap:.4f} (bound {bound:.4f}); "
          f"largest action probability {policy.max(axis=1).mean():.3f}")
    assert gap <= bound + 1e-8

# %% [markdown]
# ## 5. The agents on Pendulum
#
# DDPG (Alg. 6.26) puts section 1 to work with a replay memory and slowly moving target networks (6.7)–(6.8). TD3
# (Alg. 6.27) adds section 3's clipped double Q, updates the actor and the targets every second critic step, and
# smooths the target action with clipped noise (6.15)–(6.16). SAC (Alg. 6.28) is section 4 with networks: a
# tanh-Gaussian actor, twin soft Q-networks, and α tuned so that the policy's entropy tracks a target.

# %%
from minirl.algos import get  # noqa: E402
from minirl.runs.evaluation import EpisodeReturns  # noqa: E402

fig, ax = plt.subplots(figsize=(6, 3.5))
for name in AGENTS:
    curve, agent = EpisodeReturns(), get(name)("Pendulum-v1", seed=0)
    agent.learn(scale(20_000, 1_200), curve)
    final = agent.evaluate(scale(20, 2))["mean_return"]
    print(f"{name}: {agent.num_timesteps} steps, final policy {final:.1f}")
    ax.plot(curve.steps, curve.returns, marker=".", label=name)
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "pendulum_curves.png")

# %% [markdown]
# Within 20k steps (SAC within 10k) each ends near −130 on Pendulum (−200 or better on each of seeds 0–4 in the slow
# suite), where a random policy scores about −1200: the pendulum swung up and held.
