# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 5: policy gradient, from the theorem to A3C
#
# Chapter 5 of the book optimises the policy itself. Its first half rests on one identity, the policy-gradient
# theorem. This tutorial checks the identity and what follows from it, then runs the algorithms built on it:
#
# | book | equation or box | minirl |
# |---|---|---|
# | 5.2 the score function has mean 0 (EGLP) | used in (5.4) | checked below by summing over actions |
# | 5.2 REINFORCE, reward-to-go | (5.1), B.58 | `minirl.algos.reinforce.rewards_to_go` |
# | 5.2 a baseline: same mean, less variance | (5.3)–(5.5) | `REINFORCE(baseline=True)` |
# | 5.2 REINFORCE with baseline | Alg. 5.18 | `REINFORCE("CartPole-v1").learn(steps)` |
# | 5.5 A2C | Alg. 5.20 | `A2C("CartPole-v1").learn(steps)` |
# | 5.6 A3C: asynchronous workers, shared parameters | Alg. 5.21, 12.37 | `A3C("CartPole-v1").learn(steps)` |
# | 2.7.3 policy search without gradients | (2.167)–(2.170) | `CEM("CartPole-v1").learn(steps)` |
#
# With `MINIRL_FAST=1` the runs shrink so that the whole file runs in well under a minute.

# %%
import numpy as np

import autodiff as ad
from minirl.algos import A2C, CEM, REINFORCE
from minirl.algos.reinforce import rewards_to_go
from minirl.distributions import Categorical
from minirl.runs.evaluation import EpisodeReturns
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch05_policy_gradient")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)

# %% [markdown]
# ## 1. The score function has mean zero
#
# The gradient of the expected return is an expectation of the score ∇_θ log π_θ(a|s) times a return. Its
# tool is the expected-grad-log-prob lemma: Σ_a π_θ(a) ∇_θ log π_θ(a) = ∇_θ Σ_a π_θ(a) = ∇_θ 1 = 0. With a
# softmax policy over logits z the score of action a is e_a − π, which we get from autodiff and weight by π:

# %%
logits = np.array([0.3, -1.2, 2.0, 0.1])
probs = np.exp(logits) / np.exp(logits).sum()


def scores(z):
    """∇_z log π(a) for every action a, by autodiff: one row per action."""
    rows = []
    for a in range(len(z)):
        zt = ad.tensor(z, requires_grad=True)
        Categorical(zt[None]).log_prob(np.array([a])).sum().backward()
        rows.append(zt.grad.numpy())
    return np.array(rows)


S = scores(logits)
print("E[∇ log π] =", probs @ S)
np.testing.assert_allclose(S, np.eye(4) - probs, atol=1e-12)  # e_a − π, by hand
assert np.abs(probs @ S).max() < 1e-12

# %% [markdown]
# ## 2. A baseline keeps the mean and lowers the variance (5.3)–(5.5)
#
# Because E[∇ log π] = 0, subtracting any b that does not depend on the action leaves E[∇ log π (r − b)]
# unchanged (5.4). Its variance, though, is Var(X) + Var(Y) − 2 Cov(X, Y) (5.5): it falls when b is close to
# the return. On a one-step problem with rewards r(a) we compute the mean and the total variance exactly, by
# summing over the actions, for baselines from 0 to beyond the mean reward:

# %%
rewards = np.array([10.0, 11.0, 12.0, 9.0])


def mean_and_variance(b):
    g = S * (rewards - b)[:, None]
    mean = probs @ g
    return mean, float(probs @ ((g - mean) ** 2).sum(axis=1))


baselines = np.linspace(0.0, 20.0, 81)
variances = [mean_and_variance(b)[1] for b in baselines]
for b in (0.0, probs @ rewards):
    print(f"b = {b:5.2f}: E[g] = {np.round(mean_and_variance(b)[0], 6)}, total variance {mean_and_variance(b)[1]:.3f}")
np.testing.assert_allclose(mean_and_variance(0.0)[0], mean_and_variance(probs @ rewards)[0], atol=1e-12)

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(baselines, variances)
ax.axvline(probs @ rewards, color="gray", linestyle="--", label="E[r]")
ax.set_xlabel("baseline b")
ax.set_ylabel("total variance of the estimate")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "baseline_variance.png")

# %% [markdown]
# ## 3. Reward-to-go (5.1)
#
# An action cannot change the rewards that came before it, so each score is multiplied by the rewards that
# follow it, G_ℓ = Σ_{ℓ'≥ℓ} γ^{ℓ'−ℓ} R_ℓ'. The expectation is unchanged; the variance is smaller.
# `tests/minirl/algos/test_reinforce.py` checks both by summing over the trajectories of a two-step episode.
# Here is the recursion on one episode, computed backwards:

# %%
print("rewards 1, 0, 0, 2 with γ = 0.9 →", rewards_to_go([1.0, 0.0, 0.0, 2.0], 0.9))
np.testing.assert_allclose(rewards_to_go([1.0, 0.0, 0.0, 2.0], 0.9), [1 + 2 * 0.9**3, 2 * 0.9**2, 2 * 0.9, 2.0])

# %% [markdown]
# ## 4. Runs: REINFORCE with a baseline, A2C, and the cross-entropy method on CartPole
#
# REINFORCE (Alg. 5.18) waits for whole episodes and weighs every action by its return minus a learned V(s).
# A2C (Alg. 5.20) does not wait: 8 copies of the environment run 5 steps each, and V completes the returns.
# The cross-entropy method (§2.7.3) needs no gradient at all: it keeps the best of 20 linear policies.


# %%
steps = {"REINFORCE": scale(100_000, 4_000), "A2C": scale(200_000, 4_000), "CEM": scale(50_000, 4_000)}
agents = {"REINFORCE": REINFORCE, "A2C": A2C, "CEM": CEM}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, cls in agents.items():
    curve, agent = EpisodeReturns(), cls("CartPole-v1", seed=0)
    agent.learn(steps[name], curve)
    final = agent.evaluate(scale(20, 3))["mean_return"]
    print(f"{name}: {agent.num_timesteps} steps, {agent.num_episodes} episodes, final policy {final:.1f}")
    smoothed = np.convolve(curve.returns, np.ones(20) / 20, mode="valid") if len(curve.returns) >= 20 else curve.returns
    ax.plot(curve.steps[len(curve.steps) - len(smoothed):], smoothed, label=name)
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return (20-episode mean)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "cartpole_curves.png")

# %% [markdown]
# On CartPole all three end at 500 within these steps (seeds 0–4 in the slow suite; A2C, whose learning rate
# is not annealed, can pass through a poor policy on the way). The cross-entropy method
# is the fastest here: ten parameters and a return that depends on them smoothly are its best case. The policy
# gradient methods pay for their generality with variance, which the baseline and the critic reduce.

# %% [markdown]
# ## 5. A3C: the same worker, without the barrier (Alg. 5.21)
#
# A2C's workers wait for each other: every rollout of every copy goes into one gradient, one step. A3C's workers
# are processes that do not wait. Each one copies the global parameters θ, ψ, runs its own copies of the
# environment for t_max steps, computes the same losses as A2C's worker (`A2C.compute_gradients`) and applies its
# gradient at once to the parameters in shared memory, lock-free, with RMSprop statistics that are shared too:
#
#     θ' ← θ;  run t_max steps;  R ← R_i + γR backwards;  dθ = Σ ∇log π(A_i|S_i)(R − V(S_i))
#     g ← αg + (1 − α)dθ²;   θ ← θ − η dθ / (√g + ε)          (on the shared θ and g, by every worker)
#
# The two are compared here by the clock, not by steps: the same number of environment steps, A2C in this
# process, A3C in two worker processes. Asynchrony means a seed fixes where A3C starts, not the run itself.

# %%
from minirl.algos import A3C  # noqa: E402

race = {"A2C": (A2C, {}), "A3C, 2 workers": (A3C, {"num_workers": 2})}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (cls, settings) in race.items():
    curve, agent = EpisodeReturns(), cls("CartPole-v1", seed=0, **settings)
    agent.learn(scale(150_000, 4_000), curve)
    final = agent.evaluate(scale(20, 3))["mean_return"]
    print(f"{name}: {agent.num_timesteps} steps in {curve.seconds[-1]:.1f} s "
          f"({agent.num_timesteps / curve.seconds[-1]:.0f} steps/s), final policy {final:.1f}")
    smoothed = np.convolve(curve.returns, np.ones(20) / 20, mode="valid") if len(curve.returns) >= 20 else curve.returns
    ax.plot(curve.seconds[len(curve.seconds) - len(smoothed):], smoothed, label=name)
ax.set_xlabel("wall-clock seconds")
ax.set_ylabel("episode return (20-episode mean)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "a2c_against_a3c.png")

# %% [markdown]
# On two cores the two workers share the machine with nothing else, yet A3C does not finish twice as fast.
# Each worker is a Python process that pays the per-call cost of a forward and a backward pass for its own 4
# copies, where A2C pays it once for 8, and the processes start in about a second. The gradients are not what
# costs: the network has about 9,000 parameters, 36 KB written to shared memory per update. (The measured figures,
# 5 seeds each, are in `benchmarks/results/a3c_wall_clock.json`; `benchmarks/a3c_wall_clock.py` explains them.)
