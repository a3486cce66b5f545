# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Chapter 3: a map of reinforcement-learning algorithms
#
# Chapter 3 sorts algorithms along four axes. Each is a question one can ask of any method:
#
# 1. **Model-based or model-free?** Does it use the dynamics p(s'|s, a) and r(s, a), given (value iteration,
#    AlphaZero) or learned (Dyna-Q, World Models), or only samples of them (Q-learning, policy gradients)?
# 2. **Value-based, policy-based, or both?** Does it learn values and act greedily on them (Q-learning, DQN),
#    adjust a parameterised policy directly (REINFORCE, chapter 5), or do both (actor-critic, chapters 5-6)?
# 3. **Monte Carlo or temporal difference?** Does its target wait for the whole return, or bootstrap on its
#    own estimate of the next state?
# 4. **On-policy or off-policy?** Does it learn about the policy that collects the data (Sarsa, eq. 3.1) or
#    about another one, usually the greedy policy (Q-learning, eq. 3.2)?
#
# minirl's tabular pieces answer each question in a few lines. The deep methods of later chapters sit on the
# same map (DQN: model-free, value-based, TD, off-policy; PPO: model-free, actor-critic, on-policy).

# %%
import numpy as np

import minirl.envs as envs
from minirl.envs.toy_text import DiscreteMDPEnv
from minirl.tabular import MDP, dyna_q, q_from_v, q_learning, sarsa, value_iteration
from minirl.utils.tutorial import figure_dir, pyplot, scale

plt = pyplot()
FIGURES = figure_dir("ch03_taxonomy")

TAXONOMY = {  # function: (model, value/policy, MC/TD, on/off-policy)
    "value_iteration": ("model given", "value", "DP (bootstraps)", "-"),
    "dyna_q": ("model learned", "value", "TD", "off-policy"),
    "mc_exploring_starts": ("model-free", "value", "MC", "on-policy"),
    "on_policy_mc_control": ("model-free", "value", "MC", "on-policy"),
    "sarsa": ("model-free", "value", "TD", "on-policy"),
    "expected_sarsa": ("model-free", "value", "TD", "on-policy"),
    "q_learning": ("model-free", "value", "TD", "off-policy"),
    "double_q_learning": ("model-free", "value", "TD", "off-policy"),
}
print(f"{'minirl.tabular':22s} {'model':14s} {'learns':7s} {'target':16s} policy")
for name, tags in TAXONOMY.items():
    print(f"{name:22s} {tags[0]:14s} {tags[1]:7s} {tags[2]:16s} {tags[3]}")

# %% [markdown]
# ## Model-based and model-free (3.1)
#
# On a random deterministic MDP (each action leads to one random next state), value iteration reads P and
# R and needs no interaction at all. Q-learning sees only transitions, so its error (the mean of
# $|Q - Q^*|$ over all pairs) falls with the number of environment steps. Dyna-Q learns a model from the
# same transitions and replays it (here 10 planning updates per real step), which buys accuracy per real step
# with computation. (Algorithm 9.30's table model remembers the last outcome of each pair: exact for
# deterministic dynamics, a one-sample guess for stochastic ones.) Calling a learner repeatedly with ``Q0``
# and one shared generator continues the same run, which lets us measure the error along the way.

# %%
rng = np.random.default_rng(0)
mdp = MDP(np.eye(10)[rng.integers(10, size=(10, 3))], rng.normal(size=(10, 3)), gamma=0.9)
_, V_star = value_iteration(mdp, tol=1e-10)
Q_star = q_from_v(mdp, V_star)
env = envs.TimeLimit(DiscreteMDPEnv(mdp), 20)  # a continuing task, restarted every 20 steps
chunks = scale(40, 15)
curves = {}
for name, learner in [("Q-learning", lambda Q, rng: q_learning(env, 10, alpha=0.5, gamma=0.9, epsilon=0.3,
                                                               Q0=Q, seed=rng)),
                      ("Dyna-Q, 10 planning steps", lambda Q, rng: dyna_q(env, 10, n_planning=10, alpha=0.5,
                                                                          gamma=0.9, epsilon=0.3, Q0=Q, seed=rng))]:
    rng, Q, steps, errors = np.random.default_rng(0), np.zeros((10, 3)), [0], [np.mean(np.abs(Q_star))]
    for _ in range(chunks):
        result = learner(Q, rng)
        Q = result.Q
        steps.append(steps[-1] + result.lengths.sum())
        errors.append(np.mean(np.abs(Q - Q_star)))
    curves[name] = (steps, errors)
    print(f"{name}: mean |Q - Q*| = {errors[-1]:.3f} after {steps[-1]} environment steps")
fig, ax = plt.subplots(figsize=(6, 4))
for name, (steps, errors) in curves.items():
    ax.plot(steps, errors, label=name)
ax.axhline(0, color="k", linestyle=":", label="value iteration (model given): exact, no samples")
ax.set(xlabel="environment steps", ylabel="mean |Q − Q*|", title="model-based vs model-free (deterministic MDP)")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "model_based_vs_model_free.png", dpi=100)
plt.close(fig)

# %% [markdown]
# ## Monte Carlo and temporal difference (3.3)
#
# From the middle of the 5-state random walk the true value is 1/2. The Monte Carlo target is the final
# reward, 0 or 1: unbiased, with variance 1/4. The TD target $R + V(S')$ with the true values is 1/3 or 2/3:
# a ninth of that variance, but it is only as right as the V it bootstraps on: with an untrained table
# (V = 0 everywhere) it is always 0, no variance at all and entirely biased.

# %%
walk = envs.make("RandomWalk-v0")
true = np.r_[0, np.arange(1, 6) / 6, 0]
rng = np.random.default_rng(0)
mc_targets, td_targets, td_wrong = [], [], []
for episode in range(scale(4000, 1000)):
    s, _ = walk.reset(seed=int(rng.integers(2**31)))
    rewards, first_next = [], None
    while True:
        s, r, terminated, _, _ = walk.step(0)
        first_next = s if first_next is None else first_next
        rewards.append(r)
        if terminated:
            break
    mc_targets.append(sum(rewards))  # γ = 1: the return
    td_targets.append(rewards[0] + true[first_next])  # R + V(S') with the true values
    td_wrong.append(rewards[0] + 0.0)  # R + V(S') with V = 0 everywhere
for name, targets in [("MC return", mc_targets), ("TD target, true V", td_targets), ("TD target, V = 0", td_wrong)]:
    print(f"{name:20s} mean {np.mean(targets):.3f} (true value 0.5), variance {np.var(targets):.3f}")

# %% [markdown]
# ## On-policy and off-policy (3.4): Sarsa (3.1) against Q-learning (3.2)
#
# Both learn from the same ε-greedy behaviour on the cliff walk. Sarsa's target uses the next action the
# behaviour takes, so it evaluates the exploring policy and keeps away from the edge; Q-learning's target uses
# the greedy action, so it evaluates the greedy policy, whose best route runs along the cliff, no matter
# how the data were collected.

# %%
cliff = envs.make("CliffWalking-v0")
fig, axes = plt.subplots(2, 1, figsize=(7, 4.5))
for ax, (name, learner) in zip(axes, [("Sarsa (on-policy, 3.1)", sarsa), ("Q-learning (off-policy, 3.2)", q_learning)]):
    result = learner(cliff, 500, alpha=0.5, epsilon=0.1, seed=0)
    Q = np.where(result.Q == 0.0, -np.inf, result.Q)  # actions never tried keep 0; follow the tried ones
    visits = np.zeros((4, 12))
    s, _ = cliff.reset(seed=0)
    for _ in range(50):
        visits[divmod(s, 12)] = 1
        s, _, terminated, _, _ = cliff.step(int(Q[s].argmax()))
        if terminated:
            visits[divmod(s, 12)] = 1
            break
    board = visits.copy()
    board[3, 1:11] = -1  # the cliff
    ax.imshow(board, cmap="RdYlGn", vmin=-1, vmax=1)
    ax.set(title=f"{name}: greedy route, {int(visits.sum()) - 1} steps", xticks=[], yticks=[])
fig.tight_layout()
fig.savefig(FIGURES / "on_policy_vs_off_policy.png", dpi=100)
plt.close(fig)
print("wrote", sorted(p.name for p in FIGURES.glob("*.png")))
