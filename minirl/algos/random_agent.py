"""The random agent: samples actions uniformly. The baseline every learning curve should beat."""

from __future__ import annotations

from minirl.algos.base import EpisodicAgent, env_rng_state, restore_env_rng
from minirl.io.checkpoint import generator_state, restore_generator


class RandomAgent(EpisodicAgent):
    """Uniformly random actions (no learning): a baseline."""

    name = "random"
    hyperparameters: dict = {}

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        self.env.action_space.seed(self.seed)

    def act(self, obs, deterministic: bool = True):
        return self.env.action_space.sample()

    def _train(self, total_steps, hooks):
        def transition(obs):
            next_obs, reward, terminated, truncated, _ = self.env.step(self.act(obs))
            return next_obs, reward, terminated, truncated

        self._run_episodes(total_steps, hooks, transition)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "env_rng": env_rng_state(self.env),
                "action_rng": generator_state(self.env.action_space.np_random)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        restore_env_rng(self.env, state["env_rng"])
        restore_generator(self.env.action_space.np_random, state["action_rng"])
