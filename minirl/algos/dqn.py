"""DQN: deep Q-learning with experience replay and a target network; Double DQN as a flag.

Book ch. 4.3, Algorithm 4.17 (appendix B.57); Mnih et al. 2015. Double DQN: ch. 4.4, eq. 4.10. The box:

    initialise replay memory D (capacity N), Q(·; θ), target Q̂(·; θ̂ = θ)     `__init__`
    for each step:
        with probability ε a random action, else argmax_a Q(φ_t, a; θ)        `_explore` (ε decays linearly)
        execute it, observe R_t, D_t, φ_{t+1}; store (φ_t, A_t, R_t, D_t, φ_{t+1}) in D
        sample a minibatch from D                                            `_train_step`
        Y_j = R_j                            if φ_{j+1} is terminal
              R_j + γ max_a' Q̂(φ_{j+1}, a'; θ̂)  otherwise                     (4.9)  `td_targets`
        gradient step on (Y_j − Q(φ_j, A_j; θ))², here with the Huber loss (4.27)
        every C steps θ̂ ← θ (or θ̂ ← τθ + (1 − τ)θ̂, the soft update)        `_update_target`

Double DQN (4.10): Y_j = R_j + γ Q̂(φ_{j+1}, argmax_a' Q(φ_{j+1}, a'; θ); θ̂): the online network chooses,
the target network evaluates, which removes the maximisation bias of (4.9).
Only termination stops the bootstrap; a time limit (truncation) does not, and the stored next observation
of a copy whose episode ended is its true final observation (info["final_obs"]), not the reset one.
"""

from __future__ import annotations

import copy

import numpy as np

import autodiff as ad
from minirl.algos.base import Agent, Hyperparameter, linear_schedule
from minirl.algos.networks import flat_dim, mlp
from minirl.buffers import ReplayBuffer
from minirl.envs import make_vec, spaces
from minirl.nn.loss import huber_loss
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_

H = Hyperparameter


def td_targets(rewards, discounts, terminated, next_q_target, next_q_online=None):
    """Y = R + γ^n (1 − terminated) Q̂(S', a*), with a* = argmax Q̂(S') (DQN, 4.9) or argmax Q(S') (Double, 4.10).

    `discounts` is γ^n per transition (n-step returns store R as the n-step sum)."""
    chooser = next_q_target if next_q_online is None else next_q_online
    best = np.argmax(chooser, axis=1)
    bootstrap = next_q_target[np.arange(len(best)), best]
    return rewards + discounts * (1.0 - terminated) * bootstrap


class DQN(Agent):
    """Deep Q-network with replay, a target network and ε-greedy exploration (Algorithm 4.17)."""

    name = "dqn"
    hyperparameters = {
        "num_envs": H(1, "environment copies stepped together"),
        "buffer_size": H(10_000, "N, the replay memory's capacity"),
        "learning_rate": H(2.5e-4, "Adam's step size"),
        "batch_size": H(128, "transitions per gradient step"),
        "gamma": H(0.99, "γ, the discount factor"),
        "n_step": H(1, "n of the n-step return stored in the replay memory"),
        "learning_starts": H(10_000, "steps of random play before learning begins"),
        "train_frequency": H(10, "environment steps between training rounds"),
        "gradient_steps": H(1, "gradient steps per training round"),
        "target_update_interval": H(500, "C: environment steps between target-network updates"),
        "tau": H(1.0, "target update θ̂ ← τθ + (1 − τ)θ̂ (1: a hard copy)"),
        "exploration_initial_eps": H(1.0, "ε at the start"),
        "exploration_final_eps": H(0.05, "ε after the decay"),
        "exploration_fraction": H(0.5, "fraction of training over which ε decays linearly"),
        "max_grad_norm": H(10.0, "global gradient-norm clip"),
        "double_q": H(False, "Double DQN targets (eq. 4.10)"),
        "hidden": H("120,84", "hidden layer sizes of the Q-network"),
        "activation": H("relu", "relu or tanh"),
    }
    default_steps = {"CartPole-v1": 100_000}
    env_defaults = {
        # tuned to reach the maximum return of 500 within 100k steps
        "CartPole-v1": {"buffer_size": 50_000, "learning_rate": 1e-3, "batch_size": 64, "learning_starts": 1000,
                        "train_frequency": 4, "gradient_steps": 1, "target_update_interval": 1, "tau": 0.005,
                        "exploration_fraction": 0.1, "exploration_final_eps": 0.02, "hidden": "128,128",
                        "double_q": True},
    }

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        if self.env_id is None:
            raise ValueError("dqn: pass a registered environment id (it trains on a vector env of copies)")
        self.envs = make_vec(self.env_id, hp["num_envs"], seed=seed)
        obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        if not isinstance(act_space, spaces.Discrete) or not isinstance(obs_space, spaces.Box):
            raise TypeError(f"dqn: needs a Box observation space and a Discrete action space, got "
                            f"{obs_space} and {act_space}")
        self.num_actions = act_space.n
        hidden = [int(h) for h in str(hp["hidden"]).split(",")]
        self.q_network = mlp([flat_dim(obs_space), *hidden, self.num_actions], self.rng, hp["activation"])
        self.target_network = copy.deepcopy(self.q_network)
        self.optimizer = Adam(self.q_network.parameters(), lr=hp["learning_rate"])
        self.buffer = ReplayBuffer(hp["buffer_size"], obs_space.shape, num_envs=hp["num_envs"], n_step=hp["n_step"],
                                   gamma=hp["gamma"], seed=self.rng)
        self.epsilon_schedule = linear_schedule(hp["exploration_initial_eps"], hp["exploration_final_eps"],
                                                hp["exploration_fraction"])
        self._obs = None
        self.episode_returns = np.zeros(hp["num_envs"])
        self.episode_lengths = np.zeros(hp["num_envs"], dtype=np.int64)
        self.last_loss = None

    def q_values(self, obs) -> np.ndarray:
        with ad.no_grad():
            return self.q_network(ad.tensor(np.asarray(obs, dtype=np.float32))).numpy()

    def act(self, obs, deterministic: bool = True):
        single = np.ndim(obs) == len(self.envs.single_observation_space.shape)
        q = self.q_values(np.asarray(obs)[None] if single else obs)
        actions = np.argmax(q, axis=1)
        if not deterministic:
            actions = self._explore(actions, self.epsilon_schedule(0.0))
        return int(actions[0]) if single else actions

    def _explore(self, greedy_actions, epsilon):
        random = self.rng.random(len(greedy_actions)) < epsilon
        return np.where(random, self.rng.integers(self.num_actions, size=len(greedy_actions)), greedy_actions)

    def _train(self, total_steps, hooks):
        hp, n = self.hp, self.hp["num_envs"]
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
        while self.num_timesteps < total_steps:
            epsilon = self.epsilon_schedule(self.num_timesteps / total_steps)
            if self.num_timesteps < hp["learning_starts"]:
                actions = self.rng.integers(self.num_actions, size=n)
            else:
                actions = self._explore(np.argmax(self.q_values(self._obs), axis=1), epsilon)
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions)
            real_next = info["final_obs"] if "final_obs" in info else next_obs  # the true s' of ended copies
            self.buffer.add(self._obs, actions, rewards, real_next, terminated, truncated)
            self._obs = next_obs
            stop = self._record_vector_step(rewards, terminated | truncated, hooks)
            if self.num_timesteps > hp["learning_starts"]:
                if self._crossed(hp["train_frequency"]):
                    for _ in range(hp["gradient_steps"]):
                        self.last_loss = self._train_step()
                if self._crossed(hp["target_update_interval"]):
                    self._update_target(hp["tau"])
            hooks.on_boundary(self)  # the whole state, environments included, is in state_dict() here
            if stop:
                return

    def _crossed(self, interval: int) -> bool:
        """Whether the last vector step passed a multiple of `interval` environment steps."""
        n = self.hp["num_envs"]
        return self.num_timesteps // interval > (self.num_timesteps - n) // interval

    def _train_step(self) -> float:
        hp = self.hp
        batch = self.buffer.sample(hp["batch_size"])
        with ad.no_grad():
            next_obs = ad.tensor(batch.next_obs)
            next_target = self.target_network(next_obs).numpy()
            next_online = self.q_network(next_obs).numpy() if hp["double_q"] else None
        targets = td_targets(batch.rewards, batch.discounts, batch.terminated.astype(np.float64), next_target,
                             next_online).astype(np.float32)
        q = self.q_network(ad.tensor(batch.obs))
        q_taken = ad.take_along_axis(q, batch.actions.astype(np.int64)[:, None], axis=1).reshape(-1)
        loss = huber_loss(q_taken, ad.tensor(targets))  # Huber with δ = 1 (4.27)
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self.q_network.parameters(), hp["max_grad_norm"])
        self.optimizer.step()
        return loss.item()

    def _update_target(self, tau: float) -> None:
        for target, online in zip(self.target_network.parameters(), self.q_network.parameters()):
            target.data[...] = online.data if tau == 1.0 else tau * online.data + (1 - tau) * target.data

    def state_dict(self) -> dict:
        state = {**super().state_dict(), "q_network": self.q_network.state_dict(),
                 "target_network": self.target_network.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "buffer": self.buffer.state_dict(), "episode_returns": self.episode_returns,
                 "episode_lengths": self.episode_lengths}
        if self._obs is not None and hasattr(self.envs, "state_dict"):  # resume mid-episode, exactly
            state["envs"], state["obs"] = self.envs.state_dict(), self._obs
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.q_network.load_state_dict(state["q_network"])
        self.target_network.load_state_dict(state["target_network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict(state["buffer"])
        self.episode_returns = np.array(state["episode_returns"], dtype=np.float64)
        self.episode_lengths = np.array(state["episode_lengths"], dtype=np.int64)
        if "envs" in state:
            self.envs.load_state_dict(state["envs"])
            self._obs = np.array(state["obs"])
