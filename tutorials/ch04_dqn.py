# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 4: deep Q-networks, one equation at a time
#
# Chapter 4 of the book starts from Q-learning and ends with Rainbow. Each of its improvements is one equation
# that changes one line of DQN. This tutorial takes them one by one: the derivation, the equation computed by
# hand in NumPy, the same computed by minirl, a check that the two agree, and a small experiment.
#
# | book | equation | minirl |
# |---|---|---|
# | 4.2 Q-learning as regression | (4.8), Alg. 4.15/4.16 | `minirl.algos.fitted_q` |
# | 4.3 DQN target | (4.9) | `minirl.algos.dqn.td_targets` |
# | 4.4 Double DQN | (4.10) | `td_targets(..., next_q_online)` |
# | 4.5 Dueling DQN | (4.12)-(4.14) | `minirl.algos.q_networks.dueling_aggregate` |
# | 4.6 Prioritized replay | (4.15), (4.16) | `PrioritizedReplayBuffer`, `RankBasedReplayBuffer` |
# | 4.7 C51 | (4.20)-(4.22) | `minirl.algos.c51.categorical_projection` |
# | 4.7 QR-DQN | (4.24)-(4.26) | `quantile_midpoints`, `minirl.nn.loss.quantile_huber_loss` |
# | 4.3, Alg. 4.17 | the whole loop | `DQN("CartPole-v1").learn(steps)` |
#
# With `MINIRL_FAST=1` the experiments shrink so that the whole file runs in well under a minute.

# %%
import math

import numpy as np

import autodiff as ad
import minirl.envs as envs
from minirl.algos import get
from minirl.algos.c51 import categorical_projection
from minirl.algos.dqn import DQN, regression_loss, td_targets
from minirl.algos.fitted_q import Transitions, fitted_q_iteration, model_transitions
from minirl.algos.q_networks import dueling_aggregate
from minirl.algos.qrdqn import quantile_midpoints
from minirl.buffers import PrioritizedReplayBuffer, RankBasedReplayBuffer
from minirl.nn.loss import quantile_huber_loss
from minirl.runs.evaluation import EpisodeReturns, EvaluationHook
from minirl.tabular import MDP, OneHot, bellman_optimality_q, q_from_v, value_iteration
from minirl.utils.tutorial import fast_mode, figure_dir, pyplot, save_figure, scale

plt = pyplot()
FIGURES = figure_dir("ch04_dqn")
print("fast mode" if fast_mode() else "full mode", "- figures go to", FIGURES)


def save(fig, name):
    save_figure(fig, FIGURES, name)


# %% [markdown]
# ## 1. From the regression (4.8) to the DQN target (4.9)
#
# Q-learning (4.7) moves $Q(S_t, A_t)$ towards $R_{t+1} + \gamma \max_a Q(S_{t+1}, a)$. With a network
# $Q(s, a; \theta)$ there is no table entry to move, so the book rewrites the step as a regression (4.8): choose
# $\theta$ to make $Q(S_t, A_t; \theta)$ close to the target. DQN (Algorithm 4.17) computes the target with a
# second, slowly updated copy of the network, $\hat Q(\cdot; \hat\theta)$, and stops the bootstrap at the end of
# an episode (4.9):
#
# $$Y_j = \begin{cases} R_j & \text{if } S_{j+1} \text{ is terminal} \\
#   R_j + \gamma \max_{a'} \hat Q(S_{j+1}, a'; \hat\theta) & \text{otherwise.} \end{cases}$$
#
# "Terminal" means *terminated*: the MDP reached an end state, whose value is 0. An episode cut off by a time
# limit (*truncated*, CartPole after 500 steps) did not reach such a state; its last state has a value like any
# other, and the target still bootstraps. A hand-made batch of four transitions, the third terminated and the
# fourth truncated:

# %%
gamma = 0.9
rewards = np.array([1.0, 0.0, 1.0, 1.0])
terminated = np.array([False, False, True, False])
truncated = np.array([False, False, False, True])   # not an input of the target at all
next_q_target = np.array([[2.0, 5.0],               # Q̂(S_{j+1}, ·; θ̂), two actions
                          [-1.0, -3.0],
                          [7.0, 7.5],
                          [4.0, 3.0]])

Y_hand = np.empty(4)
for j in range(4):
    Y_hand[j] = rewards[j] if terminated[j] else rewards[j] + gamma * max(next_q_target[j])
print("Y by hand:      ", Y_hand)

# minirl's form: discounts are γ^n per transition (n-step returns, section 4.7), γ itself here
Y = td_targets(rewards, np.full(4, gamma), terminated.astype(float), next_q_target)
print("Y by td_targets:", Y)
assert np.allclose(Y, [1 + 0.9 * 5, 0 + 0.9 * -1, 1, 1 + 0.9 * 4]) and np.allclose(Y, Y_hand)

# %% [markdown]
# The loss of Algorithm 4.17 is the squared error $(Y_j - Q(S_j, A_j; \theta))^2$; the book's code (4.27) uses
# the Huber loss instead, quadratic for errors below 1 and linear above, so one large error cannot produce a
# huge gradient. The batch mean of either, by hand and with `regression_loss`:

# %%
q_taken = np.array([4.0, 0.5, 1.2, 3.0])            # Q(S_j, A_j; θ)
d = q_taken - Y
losses = {"mse": np.mean(d ** 2), "huber": np.mean(np.where(np.abs(d) <= 1, 0.5 * d ** 2, np.abs(d) - 0.5))}
for kind, by_hand in losses.items():
    by_minirl = regression_loss(kind, ad.tensor(q_taken), ad.tensor(Y)).item()
    print(f"{kind:5s} loss: by hand {by_hand:.6f}, regression_loss {by_minirl:.6f}")
    assert abs(by_hand - by_minirl) < 1e-12

# %% [markdown]
# The same computation inside a real agent: a DQN on CartPole plays 1,100 steps (the first 1,000 at random, to
# fill its replay memory; it learns from then on), then we draw a minibatch and recompute its loss from the
# networks' outputs. `td_loss` returns the loss and each transition's |TD error| (the priorities of section 6).

# %%
agent = DQN("CartPole-v1", seed=0, learning_starts=1000)
agent.learn(1100)
batch = agent.buffer.sample(64)
rows = np.arange(64)
with ad.no_grad():
    q_next = agent.target_network(ad.tensor(batch.next_obs)).numpy()  # Q̂(S', ·; θ̂)
    q_now = agent.q_network(ad.tensor(batch.obs)).numpy()
if agent.hp["double_q"]:  # CartPole's defaults use Double DQN's target (4.10), the subject of section 2
    a_star = np.argmax(agent.q_values(batch.next_obs), axis=1)
else:
    a_star = np.argmax(q_next, axis=1)
assert np.allclose(batch.discounts, agent.hp["gamma"])  # one-step returns: the discount is γ
Y_batch = batch.rewards + agent.hp["gamma"] * (1 - batch.terminated) * q_next[rows, a_star]
d_batch = q_now[rows, batch.actions] - Y_batch
print("the agent's loss:", agent.hp["loss"])  # CartPole's table uses the squared error; the default is Huber (4.27)
loss_hand = np.mean(d_batch ** 2) if agent.hp["loss"] == "mse" else \
    np.mean(np.where(np.abs(d_batch) <= 1, 0.5 * d_batch ** 2, np.abs(d_batch) - 0.5))
loss_agent, td_errors = agent.td_loss(batch)
print(f"{batch.terminated.sum()} of 64 transitions terminated; loss by hand {loss_hand:.6f}, "
      f"agent.td_loss {loss_agent.item():.6f}")
assert abs(loss_hand - loss_agent.item()) < 1e-5
assert np.allclose(td_errors, np.abs(Y_batch - q_now[rows, batch.actions]), atol=1e-4)

# %% [markdown]
# ## 2. The maximisation bias of (4.9), and Double Q (4.10)
#
# The max in (4.9) is taken over *estimates*. Suppose every action's true value is 0, but each estimate carries
# independent noise. Every estimate is right on average, yet their maximum is not: $E[\max_a \hat Q_a] \ge
# \max_a E[\hat Q_a] = 0$, because the max picks whichever estimate happens to be too high (the book's
# $E[\max \epsilon_i] \ge \max E[\epsilon_i]$). For $K$ estimates with noise $N(0, \sigma^2)$ the bias has a
# closed form, $\sigma\int x\,K\varphi(x)\Phi(x)^{K-1}dx$, the mean of the largest of $K$ standard normals,
# which grows like $\sigma\sqrt{2\ln K}$. Bootstrapping passes the bias from state to state.
#
# Double DQN (4.10) uses two estimates that err independently: the online network chooses
# $a^* = \arg\max_a Q(S', a; \theta)$, the target network evaluates $\hat Q(S', a^*; \hat\theta)$. The noise
# that made $a^*$ look best is not in $\hat Q$, so when all true values are equal the estimate is unbiased;
# when they differ, choosing a wrong $a^*$ can only cost, so the double estimator is biased low, never high.
#
# We measure both with `td_targets` itself (R = 0, γ = 1, no termination, so Y is the bootstrap term alone):

# %%
rng = np.random.default_rng(0)
sigma, trials = 1.0, scale(20_000, 4_000)
action_counts = np.array([1, 2, 4, 8, 16, 32, 64, 128])


def expected_max_of_normals(K):
    """E[max of K standard normals] = ∫ x K φ(x) Φ(x)^(K−1) dx, as a sum over a fine grid."""
    x, dx = np.linspace(-10, 10, 20_001, retstep=True)
    pdf = np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    return np.sum(x * K * pdf * cdf ** (K - 1)) * dx


def measured_bias(true_values):
    """Mean of Y − max_a q(a) for the single estimator (4.9) and the double estimator (4.10)."""
    noise = lambda: true_values + sigma * rng.standard_normal((trials, len(true_values)))  # noqa: E731
    zeros = np.zeros(trials)
    target_estimate, online_estimate = noise(), noise()             # Q̂ and Q: independent errors
    single = td_targets(zeros, np.ones(trials), zeros, target_estimate)
    double = td_targets(zeros, np.ones(trials), zeros, target_estimate, next_q_online=online_estimate)
    return single.mean() - true_values.max(), double.mean() - true_values.max()


equal = np.array([measured_bias(np.zeros(K)) for K in action_counts])
exact = np.array([sigma * expected_max_of_normals(K) for K in action_counts])
spread = np.array([measured_bias(np.r_[0.0, np.full(K - 1, -0.5)]) for K in action_counts])
for K, (single, double), e in zip(action_counts, equal, exact):
    print(f"K = {K:3d}: single estimator bias {single:+.3f} (exact {e:.3f}), double {double:+.3f}")
tolerance = 5 * sigma / np.sqrt(trials)  # five standard errors: each estimator's spread is at most σ
assert np.allclose(equal[:, 0], exact, atol=tolerance) and np.all(np.abs(equal[:, 1]) < tolerance)
assert np.all(spread[1:, 1] < 0) and np.all(spread[1:, 0] > spread[1:, 1])

fig, (ax_equal, ax_spread) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
ax_equal.plot(action_counts, exact, "k-", label="exact $E[\\max_a \\hat Q_a]$")
ax_equal.plot(action_counts, equal[:, 0], "o", color="C3", label="single estimator (4.9), measured")
ax_equal.plot(action_counts, equal[:, 1], "s", color="C0", label="double estimator (4.10), measured")
ax_equal.set(title="all true values 0, noise σ = 1", xlabel="number of actions K", ylabel="bias of the target")
ax_spread.plot(action_counts, spread[:, 0], "o-", color="C3", label="single estimator (4.9)")
ax_spread.plot(action_counts, spread[:, 1], "s-", color="C0", label="double estimator (4.10)")
ax_spread.set(title="one action worth 0, the others −0.5", xlabel="number of actions K")
for ax in (ax_equal, ax_spread):
    ax.set_xscale("log", base=2)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.legend()
save(fig, "maximisation_bias.png")

# %% [markdown]
# ## 3. Dueling heads (4.12)-(4.14): why V + A needs a constraint
#
# A dueling network splits its head into a state value $V(s)$ and advantages $A(s, a)$ and adds them (4.12):
# $Q = V + A$. Only $Q$ is ever trained, and $Q$ does not determine the two parts: $V + c$ and $A - c$ give
# the same $Q$ for every $c$. The book fixes this by subtracting the max (4.13) or the mean (4.14) of the
# advantages; then $V$ is recovered from $Q$, as $\max_a Q$ or $\text{mean}_a Q$.

# %%
V = np.array([[1.0]])
A = np.array([[1.0, 2.0, 4.0]])
for c in (0.0, 5.0):
    print(f"V + c = {V[0, 0] + c:.0f}, A − c = {A[0] - c}: V + A = {(V + c + A - c)[0]}")  # the same Q twice

for mode, recover in (("max", np.max), ("mean", np.mean)):
    Q_a = dueling_aggregate(V, A, mode)
    shifted = dueling_aggregate(V + 5.0, A - 5.0, mode)  # no longer the same Q: V is pinned down
    print(f"{mode:4s} (4.{13 if mode == 'max' else 14}): Q = {Q_a[0]}, {recover.__name__}_a Q = "
          f"{recover(Q_a):.2f} = V; with V + 5, A − 5: {shifted[0]}")
    assert np.isclose(recover(Q_a), V[0, 0]) and not np.allclose(shifted, Q_a)
    assert np.argmax(Q_a) == np.argmax(A)  # the greedy action is A's, whichever form

# %% [markdown]
# The same, seen through the gradient. For the mean form, $\partial Q_a / \partial V = 1$ and
# $\partial Q_a / \partial A_b = \delta_{ab} - 1/|\mathcal{A}|$. So for any loss, the gradient on the
# advantages sums to zero over the actions: a change common to all actions cannot be learnt by $A$ and goes
# to $V$ entirely. autodiff agrees:

# %%
V_t = ad.tensor(V, requires_grad=True)
A_t = ad.tensor(A, requires_grad=True)
upstream = np.array([[0.3, -1.0, 2.0]])  # ∂L/∂Q_a of some loss
(dueling_aggregate(V_t, A_t, "mean") * ad.tensor(upstream)).sum().backward()
print("∂L/∂V =", V_t.grad.numpy(), " ∂L/∂A =", A_t.grad.numpy(), " Σ_a ∂L/∂A_a =", A_t.grad.numpy().sum())
assert np.allclose(V_t.grad.numpy(), upstream.sum())
assert np.allclose(A_t.grad.numpy(), upstream - upstream.mean())

# %% [markdown]
# ## 4. C51: the categorical projection (4.21)
#
# C51 predicts the distribution of the return on $N$ fixed atoms $z_i = V_{\min} + i\,\Delta z$. The
# distributional Bellman equation (4.20) says the return from $(s, a)$ is distributed like $R + \gamma Z(S',
# a^*)$: atom $z_j$ with probability $p_j$ moves to $\hat T z_j = r + \gamma z_j$, which in general falls
# between two atoms. The projection (4.21) splits $p_j$ between the neighbours $z_l \le \hat T z_j \le z_u$ in
# proportion to closeness, with $b_j = (\hat T z_j - V_{\min})/\Delta z$, $l = \lfloor b_j \rfloor$,
# $u = \lceil b_j \rceil$:
#
# $$m_l \mathrel{+}= p_j (u - b_j), \qquad m_u \mathrel{+}= p_j (b_j - l).$$
#
# Atoms beyond the support are first clipped to $[V_{\min}, V_{\max}]$. Each $p_j$ is split, not lost, so
# $\sum_i m_i = 1$; and the split preserves each atom's position on average,
# $z_l(u - b_j) + z_u(b_j - l) = \hat T z_j$, so when nothing is clipped the projected mean is exactly
# $r + \gamma E[Z(S', a^*)]$. A hand-written loop for one transition, then `categorical_projection`:

# %%
def project_by_hand(p, r, gamma, support, terminal=False):
    v_min, v_max, delta_z = support[0], support[-1], support[1] - support[0]
    m = np.zeros_like(p)
    for j in range(len(p)):
        tz = np.clip(r + (0.0 if terminal else gamma) * support[j], v_min, v_max)  # T̂ z_j
        b = (tz - v_min) / delta_z
        lower, upper = int(np.floor(b)), int(np.ceil(b))
        if lower == upper:  # T̂ z_j is an atom: it keeps all of p_j
            m[lower] += p[j]
        else:
            m[lower] += p[j] * (upper - b)
            m[upper] += p[j] * (b - lower)
    return m


support = np.linspace(-10, 10, 11)                     # N = 11 atoms, Δz = 2, to see every bar
logits = np.log(np.exp(-(support - 4.0) ** 2 / 8) + 0.5 * np.exp(-(support + 4.0) ** 2 / 6))
p_next = np.exp(logits) / np.exp(logits).sum()          # p_j(S', a*): a softmax, as in the network
cases = {"r = 1, γ = 0.9": (1.0, 0.9, False), "r = 3 (clipped at V_max)": (3.0, 0.9, False),
         "r = 1, S' terminal": (1.0, 0.9, True)}
projected = {}
for name, (r, g, term) in cases.items():
    m = categorical_projection(p_next[None], np.array([r]), np.array([g]), np.array([float(term)]), support)[0]
    assert np.allclose(m, project_by_hand(p_next, r, g, support, term)) and np.isclose(m.sum(), 1.0)
    projected[name] = m
    clipped_mean = p_next @ np.clip(r + (0.0 if term else g) * support, support[0], support[-1])
    print(f"{name:25s}: Σ m = {m.sum():.6f}, projected mean {m @ support:.4f}, "
          f"r + γ E[Z] = {r + (0 if term else g) * p_next @ support:.4f}, mean of the clipped atoms {clipped_mean:.4f}")
    assert np.isclose(m @ support, clipped_mean)
m = projected["r = 1, γ = 0.9"]
assert np.isclose(m @ support, 1.0 + 0.9 * p_next @ support)  # nothing clipped: the mean is r + γ E[Z]

# the book's setting, 51 atoms on [−10, 10], for a batch of random distributions
p51 = rng.dirichlet(np.ones(51), size=5)
z51 = np.linspace(-10, 10, 51)
r51 = rng.uniform(-1, 1, size=5)
m51 = categorical_projection(p51, r51, np.full(5, 0.9), np.zeros(5), z51)
assert np.allclose(m51.sum(axis=1), 1) and np.allclose(m51 @ z51, r51 + 0.9 * p51 @ z51)

fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
axes[0].bar(support, p_next, width=1.0, color="C0")
axes[0].set(title="$p_j(S', a^*)$ on the atoms $z_j$", xlabel="return", ylabel="probability", xticks=support[::2])
for ax, (name, (r, g, term)) in zip(axes[1:], cases.items()):
    ax.bar(support, projected[name], width=1.0, color="C1", alpha=0.6, label="projected $m_i$ on $z_i$ (4.21)")
    if term:  # every atom collapses onto r: one stem carrying all the probability
        ax.stem([r], [1.0], linefmt="C0-", markerfmt="C0o", basefmt=" ", label="all mass at $r$")
    else:
        ax.stem(r + g * support, p_next, linefmt="C0-", markerfmt="C0o", basefmt=" ",
                label="$p_j$ at $r + \\gamma z_j$")
        if r + g * support[-1] > support[-1]:
            ax.axvspan(support[-1], r + g * support[-1] + 0.5, color="grey", alpha=0.2, label="clipped to $V_{max}$")
    ax.set(title=name, xlabel="return", xticks=support[::2])
    ax.legend(fontsize=8, loc="upper left")
for ax in axes[:3]:
    ax.set_ylim(0, 1.25 * max(p_next.max(), projected["r = 1, γ = 0.9"].max()))
save(fig, "c51_projection.png")

# %% [markdown]
# ## 5. QR-DQN: quantiles from the pinball loss (4.24)-(4.26)
#
# QR-DQN turns C51 around: the probabilities are fixed ($1/N$ each) and the network learns the locations
# $\theta_1, \ldots, \theta_N$, the quantiles of the return at the midpoints of $N$ equal slices,
# $\hat\tau_i = i/N - 1/(2N)$. For $N = 4$ (the book's figure 4.5) these are 0.125, 0.375, 0.625, 0.875.
#
# A quantile is what minimises the pinball loss (4.25), $\rho_\tau(u) = u\,(\tau - 1\{u < 0\})$ with
# $u = y - \theta$: its derivative with respect to $\theta$, averaged over samples $y$, is
# $P(y < \theta) - \tau$, which is zero exactly where $\theta$ is the $\tau$-quantile. (The book states (4.25)
# for the residual $f(x) - y$, the other way round, which would give the $1 - \tau$ quantile; its QR-DQN loss
# (4.26) takes $T\theta_j - \theta_i$, target minus estimate, as minirl does.) Below, four estimates start at 0
# and follow the gradient of `quantile_huber_loss` with κ = 0, the plain pinball loss, on 2,000 samples of a
# two-peaked return.

# %%
tau_hat = quantile_midpoints(4)
print("τ̂ for N = 4:", tau_hat)
assert np.allclose(tau_hat, [0.125, 0.375, 0.625, 0.875])

samples = np.where(rng.random(2000) < 0.3, rng.normal(-2.0, 0.5, 2000), rng.normal(3.0, 1.0, 2000))
theta = ad.tensor(np.zeros((1, 4)), requires_grad=True)
quantile_huber_loss(theta, ad.tensor(samples[None]), tau_hat, kappa=0.0).backward()
# derivation: ∂L/∂θ_i = (1/M) Σ_j (1{y_j < θ_i} − τ_i) = F̂(θ_i) − τ_i, the empirical CDF minus τ
assert np.allclose(theta.grad.numpy()[0], np.mean(samples < 0.0) - tau_hat)

steps, lr = scale(400, 200), 0.5
trajectory = [theta.numpy()[0].copy()]
for _ in range(steps):
    theta = ad.tensor(trajectory[-1][None], requires_grad=True)
    quantile_huber_loss(theta, ad.tensor(samples[None]), tau_hat, kappa=0.0).backward()
    trajectory.append(trajectory[-1] - lr * theta.grad.numpy()[0])   # θ_i ← θ_i − α (F̂(θ_i) − τ_i)
trajectory = np.array(trajectory)
true_quantiles = np.quantile(samples, tau_hat)
print("learned θ_i:      ", trajectory[-1].round(3))
print("sample quantiles: ", true_quantiles.round(3))
assert np.allclose(trajectory[-1], true_quantiles, atol=0.05)

fig, (ax_path, ax_dist) = plt.subplots(1, 2, figsize=(11, 4))
for i in range(4):
    ax_path.plot(trajectory[:, i], color=f"C{i}", label=f"$\\theta_{i + 1}$, τ̂ = {tau_hat[i]}")
    ax_path.axhline(true_quantiles[i], color=f"C{i}", linestyle="--", linewidth=0.8)
ax_path.set(xlabel="gradient step", ylabel="estimate", title="pinball-loss descent (dashed: sample quantiles)")
ax_path.legend(fontsize=8)
ax_dist.hist(samples, bins=60, density=True, color="lightgrey", label="samples of the return")
for i in range(4):
    ax_dist.axvline(trajectory[-1, i], color=f"C{i}", linewidth=2)
ax_dist.set(xlabel="return", title="the 4 learned quantiles split the samples into quarters")
ax_dist.legend(fontsize=8)
save(fig, "qr_dqn_quantiles.png")

# %% [markdown]
# ## 6. Prioritized replay: P(i) (4.15) and the importance-sampling weights (4.16)
#
# Prioritized replay draws transition $i$ with probability $P(i) = p_i^\alpha / \sum_k p_k^\alpha$ (4.15),
# where $p_i = |\delta_i| + \epsilon$ (proportional) or $p_i = 1/\text{rank}(i)$ with the ranks of $|\delta|$
# in decreasing order (rank-based). Sampling from $P$ instead of uniformly changes the distribution the
# gradient averages over; the weights $w_i = (N \cdot P(i))^{-\beta}$ (4.16) undo that when $\beta = 1$.
# minirl divides them by their largest value so that they only shrink steps. We compute all of it by hand
# for a buffer of six transitions and compare with the buffers' empirical sampling frequencies and weights.

# %%
td = np.array([0.5, 2.0, 0.1, 1.0, 4.0, 0.05])  # |δ_i| of the six stored transitions
alpha, beta0, N = 0.6, 0.4, len(td)
draws = scale(2000, 500)

p_prop = td + 1e-6                                              # p_i = |δ_i| + ε
rank = np.empty(N)
rank[np.argsort(-td)] = np.arange(1, N + 1)                     # rank 1: the largest |δ|
p_rank = 1.0 / rank
by_hand, frequencies, weights = {}, {}, {}
for name, Buffer, p in (("proportional", PrioritizedReplayBuffer, p_prop),
                        ("rank-based", RankBasedReplayBuffer, p_rank)):
    P = p ** alpha / np.sum(p ** alpha)                         # (4.15)
    w = (N * P) ** -beta0                                       # (4.16)
    by_hand[name] = P
    buffer = Buffer(N, obs_shape=(1,), alpha=alpha, beta=beta0, seed=0)
    for i in range(N):
        buffer.add([float(i)], 0, 0.0, [0.0], False, False)
    buffer.update_priorities(np.arange(N), td)
    first = buffer.sample(32)
    assert np.allclose(first.weights, (w / w.max())[first.indices], rtol=1e-5)  # w_i / max_j w_j
    counts = np.bincount(np.concatenate([first.indices] + [buffer.sample(32).indices for _ in range(draws)]),
                         minlength=N)
    frequencies[name], weights[name] = counts / counts.sum(), w / w.max()
    print(f"{name:12s} P(i) by hand {np.round(P, 3)}\n{'':12s} sampled      {np.round(frequencies[name], 3)}\n"
          f"{'':12s} weights      {np.round(w / w.max(), 3)}")
    assert np.allclose(frequencies[name], P, atol=0.01)

# %% [markdown]
# β starts below 1 (0.4 by default, 0.6 in the book's example) and is annealed linearly to 1 over training:
# the book's footnote has $\beta_t = 0.6 + t\,(1 - 0.6)/99$ for $t = 0, \ldots, 99$, so $\beta_{50} \approx 0.80202$.
# The buffer advances $t$ at every `sample` call (DQN sets `beta_steps` to the number of gradient steps).

# %%
buffer = PrioritizedReplayBuffer(8, obs_shape=(1,), beta=0.6, beta_final=1.0, beta_steps=100, seed=0)
buffer.add([0.0], 0, 0.0, [0.0], False, False)
betas = []
for t in range(120):
    betas.append(buffer.beta)
    buffer.sample(1)
print(f"β_0 = {betas[0]}, β_50 = {betas[50]:.5f}, β_99 = {betas[99]}, β_110 = {betas[110]}")
assert betas[0] == 0.6 and round(betas[50], 5) == 0.80202 and np.isclose(betas[99], 1.0) and betas[110] == 1.0

fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
x = np.arange(N)
for ax, name in zip(axes[:2], by_hand):
    ax.bar(x - 0.2, by_hand[name], width=0.4, label="P(i) (4.15), by hand")
    ax.bar(x + 0.2, frequencies[name], width=0.4, label="sampled frequency")
    ax.set(title=f"{name}, α = {alpha}, β = {beta0}", xticks=x, ylabel="probability",
           xlabel="transition i  (|δ| = " + ", ".join(map(str, td)) + ")")
    ax_w = ax.twinx()
    ax_w.plot(x, weights[name], "kD", label="IS weight $w_i / \\max_j w_j$ (4.16)")
    ax_w.set(ylim=(0, 1.6), ylabel="weight")
    handles = [h for a in (ax, ax_w) for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper left")
axes[2].plot(betas, ".-")
axes[2].plot(50, betas[50], "ro", label=f"β_50 = {betas[50]:.5f}")
axes[2].set(title="β annealing (book footnote)", xlabel="sample call t", ylabel="β")
axes[2].legend()
save(fig, "prioritized_replay.png")

# %% [markdown]
# ## 7. Fitted Q iteration (Algorithm 4.15) on a batch of data
#
# Before DQN, the book states Q-learning with an approximator as repeated regression: fix a data set of
# transitions, compute the targets $Y_i = R_i + \gamma\max_a Q(S'_i, a; \theta)$, solve
# $\theta \leftarrow \arg\min_{\theta'} \tfrac12\sum_i (Q(S_i, A_i; \theta') - Y_i)^2$, repeat (Algorithm 4.15).
# DQN does the same with one gradient step per regression and a target network that changes every C steps.
# `minirl.algos.fitted_q` takes $Q$ linear in features, so the argmin is an exact least-squares solve.
#
# With one-hot features each regression sets $Q(s, a)$ to the mean target of the samples of $(s, a)$, which is
# one Bellman optimality backup $\hat T^* Q$ on the *empirical* model $\hat p(s'|s, a) = N(s, a, s')/N(s, a)$ of
# the data. So fitted Q iteration converges to the optimal $Q$ of that model (certainty equivalence), and to
# the true $Q^*$ as the samples per pair grow. We check both on the slippery FrozenLake (γ = 0.95), whose
# model we know, with data drawn for every (state, action) pair.

# %%
lake = envs.make("FrozenLake-v1").unwrapped.mdp
mdp = MDP(lake.P, lake.R, 0.95, terminal_states=lake.terminal)
_, V_star = value_iteration(mdp, tol=1e-12)
Q_star = q_from_v(mdp, V_star)
live = ~mdp.terminal
iterations = 100


def empirical_mdp(data: Transitions) -> MDP:
    """p̂(s'|s, a) = N(s, a, s') / N(s, a) from the data set; terminal states keep their absorbing rows."""
    counts = np.zeros_like(mdp.P)
    np.add.at(counts, (data.states, data.actions, data.next_states), 1.0)
    totals = counts.sum(axis=2, keepdims=True)
    return MDP(np.where(totals > 0, counts / np.maximum(totals, 1), mdp.P), mdp.R, mdp.gamma,
               terminal_states=mdp.terminal)


errors = {}
for per_pair in scale((1, 10, 100, 1000), (1, 10, 100)):
    data = model_transitions(mdp, per_pair, seed=per_pair)
    history = []
    theta = fitted_q_iteration(data, OneHot(16), 4, mdp.gamma, iterations,
                               callback=lambda k, th: history.append(th.T.copy()))
    # certainty equivalence: iteration k is exactly k backups T̂* on the empirical model
    model, Q_model = empirical_mdp(data), np.zeros((16, 4))
    for Q_fitted in history:
        Q_model = bellman_optimality_q(model, Q_model)
        assert np.allclose(Q_fitted, Q_model, atol=1e-10)
    errors[per_pair] = [np.abs(Q - Q_star)[live].max() for Q in history]
    same_policy = np.mean(theta.T.argmax(axis=1)[live] == Q_star.argmax(axis=1)[live])
    print(f"{per_pair:5d} samples per pair ({len(data.states):6d} transitions): max |Q − Q*| = "
          f"{errors[per_pair][-1]:.3f}, greedy action optimal in {same_policy:.0%} of the states, "
          f"V(start) = {theta.T[0].max():.3f} (V* = {V_star[0]:.3f})")
exact_errors, Q = [], np.zeros((16, 4))
for _ in range(iterations):
    Q = bellman_optimality_q(mdp, Q)  # value iteration on the true model: the limit of infinitely many samples
    exact_errors.append(np.abs(Q - Q_star)[live].max())
assert errors[100][-1] < 0.1 and errors[100][-1] < errors[10][-1] < errors[1][-1]

fig, ax = plt.subplots(figsize=(6.5, 4))
for per_pair, curve in errors.items():
    label = f"fitted Q, {per_pair} sample{'s' * (per_pair > 1)} per (s, a)"
    ax.semilogy(np.arange(1, iterations + 1), curve, label=label)
ax.semilogy(np.arange(1, iterations + 1), exact_errors, "k--", label="value iteration on the true model")
ax.set(xlabel="fitted-Q iteration k", ylabel="max |Q_k − Q*| over (s, a)",
       title="FrozenLake (γ = 0.95): fitted Q iteration with one-hot features")
ax.legend(fontsize=8)
save(fig, "fitted_q_iteration.png")

# %% [markdown]
# Each curve flattens at the error of its empirical model: iterating more cannot fix what the data got
# wrong, only more data can. With features coarser than one-hot, the regression projects $\hat T^* Q$ back onto
# what the features can represent, and the composition of that projection with $T^*$ need not be a contraction
# (the end of book 4.2): the iterates can then oscillate or diverge. DQN's target network and replay memory
# (section 4.3) are its answers to that instability.
#
# ## 8. DQN on CartPole (Algorithm 4.17), and C51
#
# The whole loop: ε-greedy acting, a replay memory, minibatch targets from a target network (here Double DQN's,
# the CartPole default), a Huber loss, Adam. `EvaluationHook` runs the deterministic (greedy) policy every few
# thousand steps; `EpisodeReturns` records the return of every training episode (ε-greedy, so lower).

# %%
runs = {"dqn": scale(100_000, 4_000), "c51": scale(60_000, 2_000)}
finals = {}
fig, ax = plt.subplots(figsize=(7, 4.5))
for i, (name, steps) in enumerate(runs.items()):
    episodes = EpisodeReturns()
    evaluations = EvaluationHook(every=scale(5_000, 1_000), episodes=scale(10, 3), inner=episodes)
    trained = get(name)("CartPole-v1", seed=0).learn(steps, hooks=evaluations)
    finals[name] = trained.evaluate(20)
    print(f"{name}: {steps} steps, {len(episodes.returns)} training episodes; greedy policy's mean return over 20 "
          f"episodes: {finals[name]['mean_return']:.1f} ± {finals[name]['std_return']:.1f}")
    ax.plot(episodes.steps, episodes.returns, color=f"C{i}", alpha=0.25, linewidth=0.8)
    eval_steps, eval_returns = zip(*evaluations.record) if evaluations.record else ((), ())
    ax.plot(eval_steps, eval_returns, "o-", color=f"C{i}", label=f"{name}: greedy policy (evaluation)")
    ax.plot([steps], [finals[name]["mean_return"]], "*", color=f"C{i}", markersize=14,
            label=f"{name}: final 20-episode evaluation")
ax.set(xlabel="environment steps", ylabel="episode return",
       title="CartPole-v1 (faint: training episodes, ε-greedy)")
ax.legend(fontsize=8)
save(fig, "dqn_cartpole.png")
if not fast_mode():
    assert min(final["mean_return"] for final in finals.values()) > 150

# %% [markdown]
# The curves are not monotone. In the full run (seed 0) DQN's greedy policy reaches the maximum return of 500
# several times and loses it again in between. A common explanation: once the replay memory is full of long,
# successful episodes, the states near failure become rare in the minibatches, and what the network knew about
# them fades. It is the instability that the end of section 7 warned about, with a non-linear network in place of
# the features; the target network and the Huber loss damp it without removing it. In practice one also decays
# the learning rate (`anneal_lr=True`), evaluates often and keeps the best checkpoint.
