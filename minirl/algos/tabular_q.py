"""Tabular Q-learning as an agent (book ch. 2.6.3, Algorithm 2.14; eq. 2.70).

    Q(S_t, A_t) ← Q(S_t, A_t) + α [R_{t+1} + γ max_a Q(S_{t+1}, a) − Q(S_t, A_t)]

The batch version, `minirl.tabular.q_learning`, is what the chapter-2 tutorial uses; this one steps through
the agent API so that the CLI can train, checkpoint, resume and evaluate it like every deep agent.
Exploration is ε-greedy with ε decaying linearly; a terminal S_{t+1} contributes no future value, a time
limit (truncation) still bootstraps.
"""

from __future__ import annotations

import numpy as np

from minirl.algos.base import EpisodicAgent, Hyperparameter, env_rng_state, linear_schedule, restore_env_rng
from minirl.tabular.experience import StateIndex, epsilon_greedy, num_actions


class TabularQLearning(EpisodicAgent):
    """Tabular Q-learning with ε-greedy exploration (Algorithm 2.14)."""

    name = "q_learning"
    hyperparameters = {
        "learning_rate": Hyperparameter(0.1, "α, the step size of the TD update", above=0.0, high=1.0),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "epsilon_start": Hyperparameter(1.0, "ε at the start of training", low=0.0, high=1.0),
        "epsilon_end": Hyperparameter(0.05, "ε after the decay", low=0.0, high=1.0),
        "epsilon_fraction": Hyperparameter(0.5, "fraction of training over which ε decays linearly", low=0.0, high=1.0),
    }
    default_steps = {"FrozenLake-v1": 60_000, "CliffWalking-v0": 20_000}
    env_defaults = {
        "FrozenLake-v1": {"learning_rate": 0.05, "gamma": 0.99, "epsilon_fraction": 0.6},
        "CliffWalking-v0": {"learning_rate": 0.5, "gamma": 1.0, "epsilon_start": 0.1, "epsilon_end": 0.1},
    }

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        self.index = StateIndex(self.env.observation_space)
        self.Q = np.zeros((self.index.n, num_actions(self.env)))
        self._total_steps = None

    def act(self, obs, deterministic: bool = True):
        q = self.Q[self.index(obs)]
        if deterministic:
            return int(np.flatnonzero(q == q.max())[0])
        return epsilon_greedy(q, self.epsilon, self.rng)

    @property
    def epsilon(self) -> float:
        schedule = linear_schedule(self.hp["epsilon_start"], self.hp["epsilon_end"], self.hp["epsilon_fraction"])
        return schedule(self.num_timesteps / max(self._total_steps or 1, 1))

    def _train(self, total_steps, hooks):
        self._total_steps = total_steps
        alpha, gamma = self.hp["learning_rate"], self.hp["gamma"]

        def transition(obs):
            s = self.index(obs)
            a = epsilon_greedy(self.Q[s], self.epsilon, self.rng)
            next_obs, reward, terminated, truncated, _ = self.env.step(a)
            target = reward + (0.0 if terminated else gamma * self.Q[self.index(next_obs)].max())  # (2.70)
            self.Q[s, a] += alpha * (target - self.Q[s, a])
            return next_obs, reward, terminated, truncated

        self._run_episodes(total_steps, hooks, transition)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "Q": self.Q, "env_rng": env_rng_state(self.env)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if state["Q"].shape != self.Q.shape:
            raise ValueError(f"q_learning: checkpoint Q has shape {state['Q'].shape}, this environment needs "
                             f"{self.Q.shape}")
        self.Q = np.array(state["Q"], dtype=np.float64)
        restore_env_rng(self.env, state["env_rng"])


__all__ = ["TabularQLearning"]
