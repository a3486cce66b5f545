"""REINFORCE, the Monte Carlo policy gradient, with a learned baseline (book ch. 5.2, Algorithm 5.18, L20179–20225;
appendix B.58 without the baseline). The box, line by line:

    for k = 1, 2, ...:
        run π_θ for B episodes, keeping (S_ℓ, A_ℓ, R_ℓ)                                   `_train`
        Â_ℓ = Σ_{ℓ'≥ℓ} γ^{ℓ'−ℓ} R_ℓ' − b(S_ℓ)          (5.1) reward-to-go, minus (5.3) `rewards_to_go`
        J(θ) = (1/B) Σ_episodes Σ_ℓ log π_θ(A_ℓ|S_ℓ) Â_ℓ                                 `reinforce_loss`
        θ ← θ + η_θ ∇J(θ)                                                                 Adam, on −J
        update b with the same (S_ℓ, G_ℓ): here b = V_φ, regressed on the returns G_ℓ    `_update`

Switches:
- `reward_to_go` (default on): each action is credited with the rewards that follow it (5.1); off, with the whole
  episode's return G_0, the first estimator of B.58. Both are unbiased; the reward-to-go has less variance,
  since an action cannot change the rewards before it.
- `baseline` (default on): subtracting b(S) leaves the gradient's mean unchanged (5.4) and lowers its variance
  (5.5) when b is close to the return; off, Â = G.
- `normalize_advantages`: Â scaled to mean 0 and standard deviation 1 in each batch, as the book's CartPole code
  does with its discounted returns (L22755–23065).

REINFORCE needs episodes that end: an environment without a time limit needs `max_episode_steps`, which cuts
episodes as a time limit does. Episodes that a time limit cuts (truncation) were not over: with a baseline, their returns are completed by
γ V(S_T) of the state they stopped in; without one, the missing tail counts as 0.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos.base import EpisodicAgent, Hyperparameter, env_rng_state, restore_env_rng
from minirl.algos.networks import ActorCritic, parse_hidden
from minirl.envs import spaces
from minirl.errors import IncompatibleEnvironmentError
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_


def rewards_to_go(rewards, gamma: float, tail: float = 0.0, reward_to_go: bool = True) -> np.ndarray:
    """G_ℓ = Σ_{ℓ'≥ℓ} γ^{ℓ'−ℓ} R_ℓ' for one episode (5.1), the return after its last reward being `tail` (the
    value of the state a time limit stopped it in, or 0); with `reward_to_go=False`, G_0 at every step."""
    returns = np.empty(len(rewards))
    running = tail
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns if reward_to_go else np.full(len(rewards), returns[0] if len(rewards) else 0.0)


def reinforce_loss(log_probs, advantages, num_episodes: int):
    """−J(θ) = −(1/B) Σ_episodes Σ_ℓ log π_θ(A_ℓ|S_ℓ) Â_ℓ: a sum over steps, a mean over the B episodes."""
    return -(log_probs * ad.tensor(advantages.astype(np.float32))).sum() / num_episodes


class REINFORCE(EpisodicAgent):
    """REINFORCE with reward-to-go and a learned baseline (Algorithm 5.18); both are switches (B.58 without)."""

    name = "reinforce"
    hyperparameters = {
        "batch_episodes": Hyperparameter(10, "B: episodes per policy update", low=1),
        "learning_rate": Hyperparameter(2e-3, "η_θ: Adam's step size for the policy", above=0.0),
        "baseline_learning_rate": Hyperparameter(2e-3, "Adam's step size for the baseline V_φ", above=0.0),
        "baseline_steps": Hyperparameter(10, "gradient steps of V_φ on each batch's returns", low=1),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "reward_to_go": Hyperparameter(True, "credit each action with the rewards after it (5.1), not G_0"),
        "baseline": Hyperparameter(True, "subtract a learned V(S) from the returns (5.3)"),
        "normalize_advantages": Hyperparameter(True, "scale Â to mean 0, std 1 within each batch"),
        "max_grad_norm": Hyperparameter(0.5, "global gradient-norm clip of each update", low=0.0),
        "hidden": Hyperparameter("64,64", "hidden layer sizes of the policy and of the baseline"),
        "activation": Hyperparameter("tanh", "tanh or relu", choices=("tanh", "relu")),
        "max_episode_steps": Hyperparameter(None, "cut episodes at this length (a truncation); None: the env's limit",
                                            low=1, kind=int),
    }
    default_steps = {"CartPole-v1": 200_000}

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        parse_hidden(values["hidden"], f"{cls.name}.hidden")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        obs_space, act_space = self.env.observation_space, self.env.action_space
        if not isinstance(obs_space, spaces.Box) or not isinstance(act_space, (spaces.Box, spaces.Discrete)):
            raise IncompatibleEnvironmentError(f"reinforce: needs a Box observation space and a Box or Discrete action "
                                               f"space, got {obs_space} and {act_space}")
        self.policy = ActorCritic(obs_space, act_space, parse_hidden(self.hp["hidden"]), self.hp["activation"],
                                  rng=self.rng)
        self.discrete = isinstance(act_space, spaces.Discrete)
        # Monte Carlo returns need episodes that end
        self.max_episode_steps = self.hp["max_episode_steps"] or getattr(getattr(self.env, "spec", None),
                                                                          "max_episode_steps", None)
        if self.max_episode_steps is None:
            raise ValueError(f"reinforce.max_episode_steps: {self.env_id or self.env} has no time limit, and "
                             f"REINFORCE learns from whole episodes; pass max_episode_steps=N to cut them at N steps")
        actor = [p for name, p in self.policy.named_parameters() if not name.startswith("critic.")]
        self.optimizer = Adam(actor, lr=self.hp["learning_rate"], fused=True)
        self.baseline_optimizer = Adam(self.policy.critic.parameters(), lr=self.hp["baseline_learning_rate"],
                                       fused=True)
        self.last_stats: dict = {}

    def act(self, obs, deterministic: bool = True):
        with ad.no_grad():
            dist = self.policy.distribution(ad.tensor(np.asarray(obs, dtype=np.float32)[None]))
        action = (dist.mode() if deterministic else dist.sample(self.rng))[0]
        if self.discrete:
            return int(action)
        return np.clip(action, self.env.action_space.low, self.env.action_space.high)

    def _value(self, obs) -> np.ndarray:
        with ad.no_grad():
            return self.policy.value(ad.tensor(np.asarray(obs, dtype=np.float32))).numpy()

    def _train(self, total_steps, hooks):
        hp = self.hp
        while self.num_timesteps < total_steps:
            episodes = []
            for _ in range(hp["batch_episodes"]):
                episode = self._play_episode(total_steps, hooks)
                if episode is None:  # out of steps (or a hook said stop) mid-episode: no update on a partial batch
                    return
                episodes.append(episode)
            self.last_stats = self._update(episodes)
            hooks.on_boundary(self)

    def _play_episode(self, total_steps, hooks):
        """One episode of π_θ: its observations, actions, rewards and the state a time limit stopped it in (None
        if it terminated); None if training must stop first. Only the first reset is seeded."""
        obs, _ = self.env.reset(seed=self.seed if self.num_episodes == 0 else None)
        observations, actions, rewards = [], [], []
        while True:
            if self.num_timesteps >= total_steps:
                return None
            action = self.act(obs, deterministic=False)
            next_obs, reward, terminated, truncated, _ = self.env.step(action)
            observations.append(np.asarray(obs, dtype=np.float32))
            actions.append(action)
            rewards.append(float(reward))
            self.num_timesteps += 1
            if hooks.on_step(self) is False:
                return None
            obs = next_obs
            truncated = truncated or len(rewards) >= self.max_episode_steps
            if terminated or truncated:
                self.num_episodes += 1
                hooks.on_episode(self, sum(rewards), len(rewards))
                return observations, actions, rewards, (None if terminated else np.asarray(obs, dtype=np.float32))

    def _update(self, episodes) -> dict:
        hp = self.hp
        returns = []
        for observations, _, rewards, cut_at in episodes:
            tail = 0.0 if cut_at is None or not hp["baseline"] else float(self._value(cut_at[None])[0])
            returns.append(rewards_to_go(rewards, hp["gamma"], tail, hp["reward_to_go"]))           # (5.1)
        obs = np.concatenate([np.stack(e[0]) for e in episodes])
        actions = np.concatenate([np.asarray(e[1]) for e in episodes])
        returns = np.concatenate(returns)
        advantages = returns - self._value(obs) if hp["baseline"] else returns.copy()              # Â = G − b(S)
        if hp["normalize_advantages"] and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        x = ad.tensor(obs)
        loss = reinforce_loss(self.policy.distribution(x).log_prob(actions), advantages, len(episodes))
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self.optimizer.param_groups[0]["params"], hp["max_grad_norm"])
        self.optimizer.step()                                                                     # θ ← θ + η ∇J
        value_loss = 0.0
        if hp["baseline"]:  # b = V_φ regressed on the returns it will be subtracted from
            targets = ad.tensor(returns.astype(np.float32))
            for _ in range(hp["baseline_steps"]):
                value_error = ((self.policy.value(x) - targets) ** 2).mean()
                self.baseline_optimizer.zero_grad()
                value_error.backward()
                self.baseline_optimizer.step()
                value_loss = value_error.item()
        return {"policy_loss": loss.item(), "value_loss": value_loss, "batch_steps": len(returns)}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict(),
                "baseline_optimizer": self.baseline_optimizer.state_dict(), "env_rng": env_rng_state(self.env)}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.baseline_optimizer.load_state_dict(state["baseline_optimizer"])
        restore_env_rng(self.env, state["env_rng"])


__all__ = ["REINFORCE", "reinforce_loss", "rewards_to_go"]
