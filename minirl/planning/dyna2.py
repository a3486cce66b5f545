"""Dyna-2: TD search with a long-term and a short-term memory (book ch. 9.4.3, Algorithm 9.33; B.75 in
appendix B; Silver, Sutton & Müller 2008).

Two linear action-value functions over features φ(s, a) share one policy:

    long-term memory     Q(s, a)  = φ(s, a)ᵀ θ            learned by TD(λ) from real experience
    short-term memory    Q̄(s, a) = φ(s, a)ᵀ (θ + θ̄)      θ̄ learned by TD(λ) from simulated experience in the
                                                           learned model (F_s, F_r); the agent acts ε-greedily on Q̄

    LEARNING
        θ <- 0
        loop over real episodes:
            s <- S_0;  θ̄ <- 0;  z <- 0                      (the short-term memory starts empty each episode)
            SEARCH(s);  a <- π(s; Q̄)
            while s is not terminal:
                take a, observe r, s';  (F_s, F_r) <- UpdateModel(s, a, r, s')
                SEARCH(s');  a' <- π(s'; Q̄)
                δ <- r + Q(s', a') - Q(s, a)                 (the long-term TD error)
                z <- λz + φ(s, a);  θ <- θ + α δ z
                s, a <- s', a'
    SEARCH(s)
        for each simulated episode:
            z̄ <- 0;  a <- π(s; Q̄)
            until the simulated episode ends:
                s' ~ F_s(s, a);  r = F_r(s, a);  a' <- π(s'; Q̄)
                δ̄ <- r + Q̄(s', a') - Q̄(s, a)
                z̄ <- λz̄ + φ(s, a);  θ̄ <- θ̄ + ᾱ δ̄ z̄
                s, a <- s', a'

Notes on the book's box (it prints both weight vectors as θ and both traces as z; here they are `theta` and
`theta_bar`, `z` and `z_bar`):
- Its TD errors have no γ (episodic tasks, γ = 1); `gamma` defaults to 1 and, when set lower, multiplies the
  bootstrap term and the trace decay (z <- γλz + φ, eq. 2.63).
- It updates the weights with the old trace and adds φ(s, a) afterwards; here φ(s, a) enters the trace first, so
  the pair just taken gets its share of δ at once, as in TD(λ) (Algorithm 2.11).
- A terminal s' has Q(s', ·) = 0; a real episode cut by a time limit bootstraps from s'.

Features: φ(s, a) is a state feature vector φ(s) (any `minirl.tabular.approximation.Features`, `OneHot` by
default, which makes Dyna-2 tabular) placed in the block of action a, so θ and θ̄ are (|A|, d) arrays and
Q(s, ·) = θ φ(s). The model is a `TabularModel` learned from the real transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minirl.errors import check_integer
from minirl.planning.models import TabularModel
from minirl.tabular.approximation import OneHot
from minirl.tabular.experience import as_generator, epsilon_greedy, reset


@dataclass
class Dyna2Result:
    returns: np.ndarray  # the return of each real episode
    lengths: np.ndarray  # its number of real steps


class Dyna2:
    """Algorithm 9.33 on an environment with Discrete observation and action spaces.

        agent = Dyna2(env, search_episodes=10, seed=0)
        result = agent.learn(episodes=50)
        agent.theta, agent.theta_bar, agent.model       # long-term and short-term weights, the learned model
    """

    def __init__(self, env, *, features=None, alpha: float = 0.1, search_alpha: float = 0.1, lam: float = 0.8,
                 epsilon: float = 0.1, search_epsilon: float = 0.1, search_episodes: int = 10,
                 max_search_steps: int = 100, gamma: float = 1.0, seed=None):
        num_states = getattr(env.observation_space, "n", None)
        num_actions = getattr(env.action_space, "n", None)
        if num_states is None or num_actions is None:
            raise ValueError(f"Dyna2: needs Discrete observation and action spaces, got {env.observation_space!r} "
                             f"and {env.action_space!r}")
        for name, value, low, high in (("alpha", alpha, 0, 1), ("search_alpha", search_alpha, 0, 1),
                                       ("lam", lam, 0, 1), ("epsilon", epsilon, 0, 1),
                                       ("search_epsilon", search_epsilon, 0, 1), ("gamma", gamma, 0, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise ValueError(f"Dyna2: {name} must be a number in [{low}, {high}], got {value!r}")
        check_integer("Dyna2: search_episodes", search_episodes, 0)
        check_integer("Dyna2: max_search_steps", max_search_steps, 1)
        self.env, self.features = env, features if features is not None else OneHot(int(num_states))
        self.alpha, self.search_alpha, self.lam, self.gamma = alpha, search_alpha, lam, gamma
        self.epsilon, self.search_epsilon = epsilon, search_epsilon
        self.search_episodes, self.max_search_steps = int(search_episodes), int(max_search_steps)
        self.rng = as_generator(seed)
        shape = (int(num_actions), self.features.num_features)
        self.theta = np.zeros(shape)  # long-term memory
        self.theta_bar = np.zeros(shape)  # short-term memory
        self.model = TabularModel(int(num_states), int(num_actions), seed=self.rng)
        self._episodes_done = 0

    def q(self, state) -> np.ndarray:
        """Q̄(s, ·) = φ(s, ·)ᵀ(θ + θ̄): the values the agent acts on."""
        return (self.theta + self.theta_bar) @ self.features(state)

    def long_term_q(self, state) -> np.ndarray:
        """Q(s, ·) = φ(s, ·)ᵀθ: what real experience alone has taught."""
        return self.theta @ self.features(state)

    def act(self, state, epsilon: float | None = None) -> int:
        """π(s; Q̄): ε-greedy on the combined values, ties at random."""
        return epsilon_greedy(self.q(state), self.epsilon if epsilon is None else epsilon, self.rng)

    def search(self, state) -> None:
        """SEARCH(s): simulated episodes from `state` in the learned model, TD(λ) on the short-term weights θ̄."""
        for _ in range(self.search_episodes):
            z_bar = np.zeros_like(self.theta_bar)  # z̄ <- 0
            s = state
            phi = self.features(s)
            a = self.act(s, self.search_epsilon)
            for _ in range(self.max_search_steps):
                s_next, r, done = self.model.step(s, a)  # s' ~ F_s(s, a), r = F_r(s, a)
                q_sa = (self.theta[a] + self.theta_bar[a]) @ phi
                if done:
                    delta = r - q_sa  # Q̄(terminal, ·) = 0
                else:
                    phi_next = self.features(s_next)
                    a_next = self.act(s_next, self.search_epsilon)
                    delta = r + self.gamma * (self.theta[a_next] + self.theta_bar[a_next]) @ phi_next - q_sa  # δ̄
                z_bar *= self.gamma * self.lam  # z̄ <- γλz̄ + φ(s, a)
                z_bar[a] += phi
                self.theta_bar += self.search_alpha * delta * z_bar  # θ̄ <- θ̄ + ᾱ δ̄ z̄
                if done:
                    break
                s, a, phi = s_next, a_next, phi_next

    def learn(self, episodes: int) -> Dyna2Result:
        """LEARNING: `episodes` real episodes, searching before every real action."""
        check_integer("Dyna2.learn: episodes", episodes, 1)
        returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=np.int64)
        for episode in range(episodes):
            s = int(reset(self.env, self.rng, self._episodes_done))
            self._episodes_done += 1
            self.theta_bar[:] = 0.0  # θ̄ <- 0: the short-term memory belongs to this episode
            z = np.zeros_like(self.theta)  # z <- 0
            self.search(s)
            a = self.act(s)
            phi = self.features(s)
            while True:
                obs, r, terminated, truncated, _ = self.env.step(a)
                s_next = int(obs)
                returns[episode] += r
                lengths[episode] += 1
                self.model.update(s, a, r, s_next, terminated)  # (F_s, F_r) <- UpdateModel(s, a, r, s')
                q_sa = self.theta[a] @ phi
                if terminated:
                    delta = r - q_sa  # Q(terminal, ·) = 0
                else:
                    self.search(s_next)
                    a_next = self.act(s_next)
                    phi_next = self.features(s_next)
                    delta = r + self.gamma * self.theta[a_next] @ phi_next - q_sa  # δ <- r + Q(s', a') - Q(s, a)
                z *= self.gamma * self.lam  # z <- γλz + φ(s, a)
                z[a] += phi
                self.theta += self.alpha * delta * z  # θ <- θ + α δ z
                if terminated or truncated:
                    break
                s, a, phi = s_next, a_next, phi_next
        return Dyna2Result(returns, lengths)
