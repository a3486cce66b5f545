# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 5: policy gradient, from the theorem to ACKTR
#
# Chapter 5 of the book optimises the policy itself. Its first half rests on one identity, the policy-gradient
# theorem; its second half on one worry, how far a step moves the policy. This tutorial checks the identity and
# what follows from it, runs the algorithms built on it, then measures steps in policy space and takes them:
#
# | book | equation or box | minirl |
# |---|---|---|
# | 5.2 the score function has mean 0 (EGLP) | used in (5.4) | checked below by summing over actions |
# | 5.2 REINFORCE, reward-to-go | (5.1), B.58 | `minirl.algos.reinforce.rewards_to_go` |
# | 5.2 a baseline: same mean, less variance | (5.3)–(5.5) | `REINFORCE(baseline=True)` |
# | 5.2 REINFORCE with baseline | Alg. 5.18 | `REINFORCE("CartPole-v1").learn(steps)` |
# | 5.3 actor-critic: the TD error at every step; Q critics | Alg. 5.19, (5.6)–(5.13) | `ActorCriticAgent("CartPole-v1")` |
# | 5.5 A2C | Alg. 5.20 | `A2C("CartPole-v1").learn(steps)` |
# | 5.6 A3C: asynchronous workers, shared parameters | Alg. 5.21, 12.37 | `A3C("CartPole-v1").learn(steps)` |
# | 5.7 equal steps in θ, unequal steps in π (the sigmoid example) | §5.7 | `Bernoulli(...).kl(...)` |
# | 5.7 performance-difference lemma | (5.18) | checked exactly with `minirl.tabular` |
# | 5.7 Fisher-vector products, conjugate gradient, TRPO | (5.29)–(5.34), Alg. 5.22 | `TRPO("CartPole-v1")` |
# | 5.9 K-FAC's Kronecker factors, ACKTR | (5.42)–(5.52), Alg. 5.25 | `ACKTR("CartPole-v1")` |
# | 5.8 PPO-Penalty against PPO-Clip | (5.37)–(5.38), Alg. 5.23–5.24 | `PPO(loss="penalty")`, `PPO()` |
# | 2.7.3 policy search without gradients | (2.167)–(2.170) | `CEM("CartPole-v1").learn(steps)` |
#
# With `MINIRL_FAST=1` the runs shrink so that the whole file runs in well under a minute.

# %%
import numpy as np

import autodiff as ad
from minirl.algos import A2C, CEM, REINFORCE, ActorCriticAgent
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

# %%
def plot_curve(ax, xs, returns, label, window: int = 20):
    """Training returns, as a running mean over `window` episodes, against steps or seconds."""
    smoothed = np.convolve(returns, np.ones(window) / window, mode="valid") if len(returns) >= window else returns
    ax.plot(xs[len(xs) - len(smoothed):], smoothed, label=label)


# %% [markdown]
# ## 4. Runs: REINFORCE with a baseline, actor-critic, A2C, and the cross-entropy method on CartPole
#
# REINFORCE (Alg. 5.18) waits for whole episodes and weighs every action by its return minus a learned V(s).
# Actor-critic (Alg. 5.19) does not wait at all: after every step, the TD error Â = R + γV(S') − V(S) moves both
# the critic (toward its target) and the actor (along log π(A|S) Â). A2C (Alg. 5.20) runs 8 copies of the
# environment for 5 steps each, and V completes the n-step returns.
# The cross-entropy method (§2.7.3) needs no gradient at all: it keeps the best of 20 linear policies.


# %%
steps = {"REINFORCE": scale(100_000, 4_000), "Actor-Critic": scale(100_000, 4_000), "A2C": scale(200_000, 4_000),
         "CEM": scale(50_000, 4_000)}
agents = {"REINFORCE": REINFORCE, "Actor-Critic": ActorCriticAgent, "A2C": A2C, "CEM": CEM}
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, cls in agents.items():
    curve, agent = EpisodeReturns(), cls("CartPole-v1", seed=0)
    agent.learn(steps[name], curve)
    final = agent.evaluate(scale(20, 3))["mean_return"]
    print(f"{name}: {agent.num_timesteps} steps, {agent.num_episodes} episodes, final policy {final:.1f}")
    plot_curve(ax, curve.steps, curve.returns, name)
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return (20-episode mean)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "cartpole_curves.png")

# %% [markdown]
# On CartPole all four end at 500 within these steps (seeds 0–4 in the slow suite; A2C, whose learning rate
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
    plot_curve(ax, curve.seconds, curve.returns, name)
ax.set_xlabel("wall-clock seconds")
ax.set_ylabel("episode return (20-episode mean)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "a2c_against_a3c.png")

# %% [markdown]
# On two cores, measured over 5 seeds each (`benchmarks/a3c_wall_clock.py`, figures in `benchmarks/results/`), A2C
# reaches a final 475 sooner: a median 6.4 s against A3C's 8.9 s. The two worker processes together step fewer
# environment steps per second than A2C's one (15,900 against 17,700): each pays the per-call cost of a forward
# and a backward pass for its own 4 copies where A2C pays it once for 8, and they start as fresh interpreters. The
# gradients are not what costs: the network has 9,155 parameters, 36 KB written to shared memory per update, with
# as many RMSprop statistics. And A3C needs more
# steps (a median 131k against 110k), its gradients being computed on parameters that the other worker has moved
# since. A3C pays off where each worker's environment is slow and CPUs are many, as in the book's setting.

# %% [markdown]
# ## 6. A step in parameter space is not a step in policy space (§5.7)
#
# Take the policy π = (σ(θ), 1 − σ(θ)) over two actions. Moving θ from 6 to 3 and from 1.5 to −1.5 are steps of
# the same length, but the first barely changes what the policy does (0.998 → 0.953), and the second swaps its
# preference (0.82 → 0.18). The KL divergence measures the change where it matters, in the policy; a learning rate
# measures it in θ. This is why TRPO bounds KL(π_old ‖ π_new) instead of ‖θ_new − θ_old‖.

# %%
from minirl.distributions.categorical import Bernoulli  # noqa: E402


def bernoulli_kl(theta_old, theta_new):
    return Bernoulli(ad.tensor(np.asarray(theta_old, dtype=np.float64))).kl(
        Bernoulli(ad.tensor(np.asarray(theta_new, dtype=np.float64)))).numpy()


print("KL for θ 6 → 3:    ", float(bernoulli_kl([6.0], [3.0])[0]))
print("KL for θ 1.5 → −1.5:", float(bernoulli_kl([1.5], [-1.5])[0]))
thetas = np.linspace(-6, 6, 121)
fig, ax = plt.subplots(figsize=(6, 3.2))
for step in (0.5, 1.0, 3.0):
    ax.plot(thetas, bernoulli_kl(thetas, thetas - step), label=f"θ → θ − {step}")
ax.set_xlabel("θ")
ax.set_ylabel("KL(π_θ ‖ π_θ−step)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "kl_of_equal_steps.png")

# %% [markdown]
# ## 7. The performance-difference lemma (5.18), checked on a small MDP
#
# For any two policies, J(π') − J(π) = 1/(1 − γ) · E_{s ~ d^π'} E_{a ~ π'}[A^π(s, a)], with d^π' the discounted
# state distribution of π'. The left side needs π' to be evaluated; the right side needs only π's advantages,
# weighted by where π' goes. TRPO's surrogate (5.19)–(5.24) replaces d^π' by d^π, which is what makes it
# computable from π's own samples, and what the trust region keeps accurate. Exactly, on a random MDP:

# %%
from minirl.tabular.dp import exact_policy_evaluation  # noqa: E402
from minirl.tabular.mdp import random_mdp  # noqa: E402
from minirl.tabular.operators import q_from_v  # noqa: E402

mdp = random_mdp(5, 3, gamma=0.9, seed=0)
rng = np.random.default_rng(0)
pi, pi_new = rng.dirichlet(np.ones(3), size=5), rng.dirichlet(np.ones(3), size=5)
rho0 = mdp.initial_distribution


def performance(policy):  # J(π) = Σ_s ρ0(s) V^π(s)
    return float(rho0 @ exact_policy_evaluation(mdp, policy))


V = exact_policy_evaluation(mdp, pi)
advantage = q_from_v(mdp, V) - V[:, None]                                       # A^π(s, a)
P_new = mdp.induced_mrp(pi_new).P
d_new = (1 - mdp.gamma) * rho0 @ np.linalg.inv(np.eye(5) - mdp.gamma * P_new)  # d^π'(s)
lemma = float(d_new @ (pi_new * advantage).sum(axis=1)) / (1 - mdp.gamma)
print(f"J(π') − J(π) = {performance(pi_new) - performance(pi):.10f};  lemma: {lemma:.10f}")
np.testing.assert_allclose(performance(pi_new) - performance(pi), lemma, rtol=1e-10)

# %% [markdown]
# ## 8. The Fisher as curvature, the natural gradient, conjugate gradient, then TRPO (Alg. 5.22)
#
# Near θ_old, KL(π_old ‖ π_θ) ≈ ½ ΔᵀFΔ, with F the Fisher information E[∇log π ∇log πᵀ]: the KL's Hessian. The
# step that improves the surrogate most within KL ≤ δ is Δ = sqrt(2δ / (gᵀF⁻¹g)) F⁻¹g (5.30), the natural gradient.
# F has as many rows as the policy has weights, so TRPO never builds it: a Fisher-vector product Fv is the
# gradient of (∇KL)ᵀv, one more backward pass through a gradient, and conjugate gradient solves Fx = g with
# products alone. On a policy small enough to build F, the three agree:

# %%
from minirl.optim.conjugate_gradient import conjugate_gradient, fisher_vector_product  # noqa: E402

states = rng.normal(size=(64, 3))
weights = ad.tensor(rng.normal(size=(3, 4)) * 0.5, requires_grad=True)        # a linear softmax policy
old = Categorical(ad.tensor(states @ weights.numpy()))
kl = lambda: old.kl(Categorical(ad.tensor(states) @ weights)).mean()           # noqa: E731
fvp = fisher_vector_product(kl, [weights], damping=0.0)
probs = old.probs.numpy()
F = np.zeros((12, 12))                                  # F = E_s Σ_a π(a|s) ∇log π ∇log πᵀ, built explicitly
for s, p in zip(states, probs):
    for a in range(4):
        score = np.outer(s, np.eye(4)[a] - p).reshape(-1)                        # ∇_W log π(a|s)
        F += p[a] * np.outer(score, score) / len(states)
v = rng.normal(size=12)
np.testing.assert_allclose(fvp(v), F @ v, rtol=1e-8, atol=1e-12)
g = rng.normal(size=12)
x = conjugate_gradient(lambda u: fvp(u) + 1e-3 * u, g, iters=12)
print("CG's x against a direct solve of (F + 10⁻³I)x = g:", np.abs(x - np.linalg.solve(F + 1e-3 * np.eye(12), g)).max())

# %% [markdown]
# TRPO (`minirl/algos/trpo.py`) puts these together on each rollout: ĝ (5.31), x̂ ≈ Ĥ⁻¹ĝ by 15 CG iterations
# (5.32), the step (5.30), and a line search that halves it (by α = 0.8) until the surrogate improves within
# KL ≤ δ (5.33). Its value function is fitted by Adam (5.34). `benchmarks/trpo_iteration.py` shows where an
# iteration's time goes.

# %%
from minirl.algos import ACKTR, PPO, TRPO  # noqa: E402

agent = TRPO("CartPole-v1", seed=0).learn(scale(100_000, 2_048))
print(f"TRPO: {agent.num_timesteps} steps, final policy {agent.evaluate(scale(20, 3))['mean_return']:.1f}, "
      f"last update {agent.last_stats}")

# %% [markdown]
# ## 9. K-FAC: the Fisher of a layer as a Kronecker product (5.45)–(5.52), then ACKTR (Alg. 5.25)
#
# For a layer s = W ā, the score's gradient is ∇_W log π = g āᵀ with g = ∂log π/∂s, so the layer's block of F is
# E[(ā āᵀ) ⊗ (g gᵀ)]. K-FAC approximates it by E[ā āᵀ] ⊗ E[g gᵀ] = A ⊗ S (5.49), and (A ⊗ S)⁻¹ = A⁻¹ ⊗ S⁻¹
# (5.50)–(5.52): two inverses of d_in × d_in and d_out × d_out instead of one of (d_in·d_out)². For the policy
# above (one layer), the factored Fisher against the exact one:

# %%
a_bar = states                                                       # the layer's input (no bias here)
S_factor = np.diag(probs.mean(axis=0)) - probs.T @ probs / len(states)  # E[g gᵀ] = E_s[diag(π) − ππᵀ]
A_factor = a_bar.T @ a_bar / len(states)                                                           # E[ā āᵀ]
kfac_F = np.kron(A_factor, S_factor)
print("relative error of A ⊗ S against F:", np.linalg.norm(kfac_F - F) / np.linalg.norm(F))
for d in (64, 256):
    print(f"a {d}×{d} layer: inverting F costs ~{float(d) ** 6:.1e} operations, K-FAC's factors ~{2 * d ** 3:.1e}")

# %% [markdown]
# The error is not zero: states with different ā also have different g, and the expectation of a product is not
# the product of expectations. It is small enough to precondition with. ACKTR (`minirl/algos/acktr.py`) is A2C
# whose gradient step is K-FAC's, η = min(η_max, sqrt(2δ / (ΔᵀF̂Δ))) (5.43), with S estimated from the policy's
# own sampled actions and the critic fitted by the Gauss–Newton form of (5.44).

# %%
agent = ACKTR("CartPole-v1", seed=0).learn(scale(100_000, 3_200))
print(f"ACKTR: {agent.num_timesteps} steps, final policy {agent.evaluate(scale(20, 3))['mean_return']:.1f}")

# %% [markdown]
# ## 10. PPO-Penalty against PPO-Clip (Alg. 5.23, 5.24)
#
# PPO keeps TRPO's idea, a small change of policy per update, with first-order steps only. PPO-Penalty subtracts
# λ·KL(π_old ‖ π_θ) from the surrogate (5.37) and adapts λ after each update: halved when the KL was below
# d_target/1.5, doubled when above 1.5·d_target. PPO-Clip removes the incentive to move the ratio beyond [1 − ε,
# 1 + ε] (5.38). Same rollouts, same epochs; only the objective differs:

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for loss in ("clip", "penalty"):
    curve, agent = EpisodeReturns(), PPO("CartPole-v1", seed=0, loss=loss)
    agent.learn(scale(100_000, 2_048), curve)
    print(f"PPO-{loss}: final policy {agent.evaluate(scale(20, 3))['mean_return']:.1f}")
    plot_curve(ax, curve.steps, curve.returns, f"PPO-{loss}")
ax.set_xlabel("environment steps")
ax.set_ylabel("episode return (20-episode mean)")
ax.legend()
fig.tight_layout()
save_figure(fig, FIGURES, "ppo_clip_against_penalty.png")
