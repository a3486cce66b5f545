"""Generalized advantage estimation, GAE(γ, λ).

Reference: J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-Dimensional Continuous Control Using
Generalized Advantage Estimation", ICLR 2016 (arXiv:1506.02438).
In the book GAE appears in code, not as an equation: the `GAE_Buffer` of §5.10.5 "TRPO: Pendulum-V0"
(L23627–23740, γ = 0.99, λ = 0.95) and the PPO of §14.2 (L36385–36387, λ = 0.95 in Table 14.2).

With the TD error of the value function V

    δ_t = r_t + γ V(s_{t+1}) − V(s_t),

the GAE advantage is the exponentially weighted sum of the TD errors ahead, within the episode,

    A_t = Σ_{l≥0} (γλ)^l δ_{t+l} = δ_t + γλ A_{t+1}.

λ = 0 gives the one-step TD error A_t = δ_t (low variance, biased by V); λ = 1 gives the Monte-Carlo return minus
the baseline, A_t = Σ_l γ^l r_{t+l} + (bootstrap) − V(s_t) (unbiased, high variance).

Episode ends inside a rollout (Gymnasium's two flags):

- terminated_t: s_{t+1} is terminal, its value is 0:  δ_t = r_t − V(s_t).
- truncated_t: a time limit cut the episode, s_{t+1} was not terminal, so δ_t bootstraps from V of the true final
  observation (the caller passes it in next_values; the environment has already reset, so V(obs_{t+1}) would be the
  value of the next episode's first state).
- either way the sum stops: A_t does not reach into the next episode, so the recursion is cut with (1 − done_t).

The book's `GAE_Buffer` uses the discounted reward-to-go as the value target; here the value target is
A_t + V(s_t) (the λ-return), as in Schulman et al. and most PPO implementations.
"""

import numpy as np


def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """GAE(γ, λ) advantages for arrays of shape (T, ...) (time first; the remaining axes, e.g. environments, are
    handled at once).

    `values[t]` is V(s_t); `next_values[t]` is V(s_{t+1}) of the same episode: the next step's value, or V of the final
    observation where truncated_t. It is ignored where terminated_t. A reverse scan over time:

        δ_t = r_t + γ V(s_{t+1}) (1 − terminated_t) − V(s_t)
        A_t = δ_t + γλ (1 − done_t) A_{t+1},    done_t = terminated_t or truncated_t,    A_T = 0
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    arrays = {"values": values, "next_values": next_values, "terminated": terminated, "truncated": truncated}
    for name, array in arrays.items():
        if np.shape(array) != rewards.shape:
            raise ValueError(f"gae: {name} has shape {np.shape(array)}, rewards has {rewards.shape}; "
                             "all inputs must share the shape (T, num_envs)")
    terminated = np.asarray(terminated, dtype=bool)
    continues = 1.0 - (terminated | np.asarray(truncated, dtype=bool))
    next_values, values = np.asarray(next_values, dtype=np.float64), np.asarray(values, dtype=np.float64)
    deltas = rewards + gamma * next_values * (1.0 - terminated) - values
    advantages = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1:])  # A_{t+1}, zero past the end of the rollout
    for t in reversed(range(len(rewards))):
        running = deltas[t] + gamma * lam * continues[t] * running
        advantages[t] = running
    return advantages
