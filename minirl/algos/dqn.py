"""DQN: deep Q-learning with experience replay and a target network, and the switches of its family.

Book ch. 4.3, Algorithm 4.17 (appendix B.57); Mnih et al. 2015. The box, line by line:

    initialise replay memory D (capacity N), Q(·; θ), target Q̂(·; θ̂ = θ)     `__init__`
    for each step:
        with probability ε a random action, else argmax_a Q(φ_t, a; θ)        `_train` (ε decays linearly)
        execute it, observe R_t, D_t, φ_{t+1}; store (φ_t, A_t, R_t, D_t, φ_{t+1}) in D
        sample a minibatch from D                                            `_train_step`
        Y_j = R_j                            if φ_{j+1} is terminal
              R_j + γ max_a' Q̂(φ_{j+1}, a'; θ̂)  otherwise                     (4.9)  `td_targets`
        gradient step on (Y_j − Q(φ_j, A_j; θ))², or its Huber form (4.27)   `td_loss`, `regression_loss`
        every C steps θ̂ ← θ (or θ̂ ← τθ + (1 − τ)θ̂, the soft update)        `_update_target`

The improvements of §4.4–4.7 are switches on the same loop, each a shared part with its own equation:

- `double_q` (4.10): Y_j = R_j + γ Q̂(φ_{j+1}, argmax_a' Q(φ_{j+1}, a'; θ); θ̂): the online network chooses,
  the target network evaluates, which removes the maximisation bias of (4.9);
- `dueling` = "mean" (4.14) or "max" (4.13): Q = V + A − mean_a A or − max_a A (q_networks.py);
- `prioritized` = "proportional" (p = |δ| + ε) or "rank" (p = 1/rank): replay with P(i) ∝ p_i^α (4.15) and the
  loss weighted by the IS weights w_i (4.16), β annealed linearly to 1 over training (minirl.buffers);
- `n_step` (4.17)–(4.18): the replay memory stores R^(n) = Σ_{k<n} γ^k R_{t+k} and bootstraps with γ^n;
- `noisy` (4.19): `NoisyLinear` layers explore instead of ε-greedy (ε = 0); their noise is redrawn before every
  gradient step, and the deterministic policy is the mean network;
- `loss` = "huber" (4.27) or "mse": the squared error of the box. Which one learns is not obvious: at the
  reference settings of `benchmarks/rl_speed.py` the Huber loss lets Q diverge where the squared error learns.

C51 (c51.py), QR-DQN (qrdqn.py) and Rainbow (rainbow.py) subclass this class: they change the network's outputs
per action (`num_atoms`), how those become Q-values (`q_from_output`) and the loss (`td_loss`); the loop stays.

Only termination stops the bootstrap; a time limit (truncation) does not, and the stored next observation of a
copy whose episode ended is its true final observation (info["final_obs"]), not the reset one.
"""

from __future__ import annotations

import copy

import numpy as np

import autodiff as ad
from minirl.algos.base import Agent, Hyperparameter, linear_schedule
from minirl.algos.networks import parse_hidden, soft_update
from minirl.algos.q_networks import DUELING, QNetwork, as_batch, as_input
from minirl.buffers import PrioritizedReplayBuffer, RankBasedReplayBuffer, ReplayBuffer
from minirl.envs import spaces
from minirl.errors import IncompatibleEnvironmentError
from minirl.nn.loss import huber_loss, mse_loss
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_

REPLAY = {"none": ReplayBuffer, "proportional": PrioritizedReplayBuffer, "rank": RankBasedReplayBuffer}


# CartPole-v1, for the whole family. The policy that training ends with must balance (500), not one seen along the
# way. Training in rounds of 128 gradient steps every 256 environment steps, with the target network copied after
# each round (C = 10 falls between rounds), makes each round a regression on fixed targets, as in fitted Q iteration
# (Alg. 4.15); the replay memory keeps all 100k transitions, so the failures of early play are never forgotten; the
# learning rate decays to 0, so the last rounds only polish. Rounds, batch, learning rate, ε schedule and network
# are rl-zoo's tuned CartPole settings for QR-DQN. DQN adds Double Q (4.10) and the squared error: with the Huber
# loss its final policy balanced on 3 of 5 seeds, with the squared error on 4 of 5.
CARTPOLE_ROUNDS = {"buffer_size": 100_000, "learning_rate": 2.3e-3, "anneal_lr": True, "batch_size": 64,
                   "learning_starts": 1000, "train_frequency": 256, "gradient_steps": 128, "target_update_interval": 10,
                   "exploration_fraction": 0.16, "exploration_final_eps": 0.04, "hidden": "256,256"}

ACROBOT = {"buffer_size": 50_000, "learning_rate": 6.3e-4, "batch_size": 128, "learning_starts": 0,
           "target_update_interval": 250, "train_frequency": 4, "gradient_steps": 4, "exploration_fraction": 0.12,
           "exploration_final_eps": 0.1, "hidden": "256,256"}


def td_targets(rewards, discounts, terminated, next_q_target, next_q_online=None):
    """Y = R + γ^n (1 − terminated) Q̂(S', a*), with a* = argmax Q̂(S') (DQN, 4.9) or argmax Q(S') (Double, 4.10).

    `discounts` is γ^n per transition (n-step returns store R as the n-step sum, 4.18)."""
    best = greedy_next_actions(next_q_target, next_q_online)
    bootstrap = next_q_target[np.arange(len(best)), best]
    return rewards + discounts * (1.0 - terminated) * bootstrap


def greedy_next_actions(next_q_target, next_q_online=None):
    """a* = argmax_a' Q̂(S', a') (4.9), or argmax_a' Q(S', a') of the online network (Double DQN, 4.10)."""
    return np.argmax(next_q_target if next_q_online is None else next_q_online, axis=1)


def regression_loss(kind: str, prediction, target, weights=None):
    """The batch mean of the Huber loss (4.27, δ = 1) or of the squared error between Q(φ_j, A_j) and Y_j;
    with prioritized replay each transition's loss is scaled by its IS weight w_j (4.16)."""
    loss = huber_loss if kind == "huber" else mse_loss
    if weights is None:
        return loss(prediction, target)
    return weighted_mean(loss(prediction, target, reduction="none"), weights)


def weighted_mean(per_transition, weights=None):
    """The batch mean of each transition's loss, scaled by its IS weight w_j (4.16) under prioritized replay."""
    return per_transition.mean() if weights is None else (per_transition * ad.tensor(weights)).mean()


def _crossed(num_timesteps: int, step: int, interval: int) -> bool:
    """Whether the last vector step, of `step` environment steps, passed a multiple of `interval`."""
    return num_timesteps // interval > (num_timesteps - step) // interval


class DQN(Agent):
    """Deep Q-network with replay, a target network and ε-greedy exploration (Algorithm 4.17), and its switches."""

    name = "dqn"
    num_atoms = 1  # outputs per action: Q itself
    losses = ("huber", "mse")
    hyperparameters = {
        "num_envs": Hyperparameter(1, "environment copies stepped together", low=1),
        "buffer_size": Hyperparameter(10_000, "N, the replay memory's capacity", low=1),
        "learning_rate": Hyperparameter(2.5e-4, "Adam's step size", above=0.0),
        "anneal_lr": Hyperparameter(False, "decay the learning rate linearly to 0 over training"),
        "batch_size": Hyperparameter(128, "transitions per gradient step", low=1),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "n_step": Hyperparameter(1, "n of the n-step return stored in the replay memory (4.17)", low=1),
        "learning_starts": Hyperparameter(10_000, "steps of random play before learning begins", low=0),
        "train_frequency": Hyperparameter(10, "environment steps between training rounds", low=1),
        "gradient_steps": Hyperparameter(1, "gradient steps per training round", low=1),
        "target_update_interval": Hyperparameter(500, "C: environment steps between target-network updates", low=1),
        "tau": Hyperparameter(1.0, "target update θ̂ ← τθ + (1 − τ)θ̂ (1: a hard copy)", low=0.0, high=1.0),
        "exploration_initial_eps": Hyperparameter(1.0, "ε at the start", low=0.0, high=1.0),
        "exploration_final_eps": Hyperparameter(0.05, "ε after the decay", low=0.0, high=1.0),
        "exploration_fraction": Hyperparameter(0.5, "fraction of training over which ε decays linearly",
                                               low=0.0, high=1.0),
        "max_grad_norm": Hyperparameter(10.0, "global gradient-norm clip", low=0.0),
        "loss": Hyperparameter("huber", "huber (4.27) or mse, the squared TD error of Algorithm 4.17"),
        "double_q": Hyperparameter(False, "Double DQN targets (4.10)"),
        "dueling": Hyperparameter("none", "dueling head: none, mean (4.14) or max (4.13)", choices=DUELING),
        "prioritized": Hyperparameter("none", "prioritized replay: none, proportional or rank (4.15)",
                                      choices=tuple(REPLAY)),
        "priority_alpha": Hyperparameter(0.6, "α of P(i) ∝ p_i^α (4.15); 0 is uniform", low=0.0, high=1.0),
        "priority_beta": Hyperparameter(0.4, "β_0 of the IS weights (4.16), annealed linearly to 1",
                                        low=0.0, high=1.0),
        "noisy": Hyperparameter(False, "NoisyLinear layers (4.19) explore instead of ε-greedy"),
        "hidden": Hyperparameter("120,84", "hidden layer sizes of the Q-network"),
        "activation": Hyperparameter("relu", "relu or tanh", choices=("relu", "tanh")),
    }
    default_steps = {"CartPole-v1": 100_000, "Acrobot-v1": 100_000, "MountainCar-v0": 120_000}
    env_defaults = {
        "CartPole-v1": {**CARTPOLE_ROUNDS, "double_q": True, "loss": "mse"},
        # rl-zoo's tuned settings (its QR-DQN's for Acrobot, its DQN's for MountainCar); their learning targets are
        # in the slow suite
        "Acrobot-v1": ACROBOT,
        "MountainCar-v0": {"buffer_size": 10_000, "learning_rate": 4e-3, "batch_size": 128, "learning_starts": 1000,
                           "gamma": 0.98, "target_update_interval": 600, "train_frequency": 16, "gradient_steps": 8,
                           "exploration_fraction": 0.2, "exploration_final_eps": 0.07, "hidden": "256,256"},
    }

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        parse_hidden(values["hidden"], f"{cls.name}.hidden")
        if values["loss"] not in cls.losses:
            raise ValueError(f"{cls.name}.loss: expected one of {', '.join(map(repr, cls.losses))}, got "
                             f"{values['loss']!r}{cls.loss_note}")
        if values["buffer_size"] < values["batch_size"]:
            raise ValueError(f"{cls.name}.buffer_size: the replay memory ({values['buffer_size']}) must hold at "
                             f"least one batch (batch_size = {values['batch_size']})")

    loss_note = ""  # why a subclass accepts only its own loss

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.envs = self.make_vector_env(hp["num_envs"])
        obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        if not isinstance(act_space, spaces.Discrete) or not isinstance(obs_space, spaces.Box):
            raise IncompatibleEnvironmentError(
                f"{self.name}: needs a Box observation space and a Discrete action space (one Q-value per action; "
                f"dueling={hp['dueling']!r} splits them into V and A), got {obs_space} and {act_space}")
        self.num_actions = int(act_space.n)
        self.q_network = QNetwork(obs_space, self.num_actions, parse_hidden(hp["hidden"]), hp["activation"],
                                  self.rng, self.num_atoms, hp["dueling"], hp["noisy"])
        self.target_network = copy.deepcopy(self.q_network)
        self._parameters = list(self.q_network.parameters())
        self._target_pairs = list(zip(self.target_network.parameters(), self._parameters))
        self.optimizer = Adam(self._parameters, lr=hp["learning_rate"], fused=True)
        replay = REPLAY[hp["prioritized"]]
        options = {} if replay is ReplayBuffer else {"alpha": hp["priority_alpha"], "beta": hp["priority_beta"]}
        self.buffer = replay(hp["buffer_size"], obs_space.shape, obs_dtype=obs_space.dtype, num_envs=hp["num_envs"],
                             n_step=hp["n_step"], gamma=hp["gamma"], seed=self.rng, **options)
        self.epsilon_schedule = linear_schedule(hp["exploration_initial_eps"], hp["exploration_final_eps"],
                                                hp["exploration_fraction"])
        self.epsilon = 0.0 if hp["noisy"] else hp["exploration_initial_eps"]  # the ε reached so far
        self._obs = None
        self.episode_returns = np.zeros(hp["num_envs"])
        self.episode_lengths = np.zeros(hp["num_envs"], dtype=np.int64)
        self.last_loss = None

    # -- acting -----------------------------------------------------------------------------------------
    def q_from_output(self, output: np.ndarray) -> np.ndarray:
        """Q(s, ·) from the network's output (arrays: acting and targets record no graph). Here the output is Q."""
        return output

    def q_values(self, obs, noise: bool = False) -> np.ndarray:
        """Q(s, ·) for a batch of observations. A noisy network answers with its mean weights unless `noise`."""
        if self.hp["noisy"]:
            self.q_network.train(noise)  # NoisyLinear draws on its noise only in training mode
        return self.q_from_output(self.q_network.infer(as_input(obs)))

    def act(self, obs, deterministic: bool = True):
        """The greedy action argmax_a Q(s, a). With `deterministic=False`, the action training would take now:
        ε-greedy with the ε the schedule has reached (`self.epsilon`: the initial ε before any training), or the
        greedy action of the noisy network under its current noise."""
        single = np.ndim(obs) == len(self.envs.single_observation_space.shape)
        batch = np.asarray(obs)[None] if single else obs
        if deterministic:
            actions = np.argmax(self.q_values(batch), axis=1)
        else:
            actions = self._epsilon_greedy(batch, self.epsilon)
        return int(actions[0]) if single else actions

    def _epsilon_greedy(self, obs, epsilon: float) -> np.ndarray:
        """Per observation, with probability ε a uniformly random action, else argmax_a Q(s, a) (under the noisy
        network's current noise). The draws come first, a uniform and a random action per observation, and the
        network runs only when some observation acts greedily."""
        n = len(obs)
        if n == 1:  # one environment: Python numbers, where a NumPy draw of one element costs several times more
            explore, random_action = self.rng.random() < epsilon, self.rng.integers(self.num_actions)
            return np.array([random_action if explore else self.q_values(obs, noise=True)[0].argmax()])
        explore, random_actions = self.rng.random(n) < epsilon, self.rng.integers(self.num_actions, size=n)
        if explore.all():
            return random_actions
        return np.where(explore, random_actions, np.argmax(self.q_values(obs, noise=True), axis=1))

    def _random_actions(self, n: int) -> np.ndarray:
        """n uniformly random actions (the play before learning starts); the same draws as `_epsilon_greedy`'s."""
        if n == 1:
            return np.array([self.rng.integers(self.num_actions)])
        return self.rng.integers(self.num_actions, size=n)

    # -- training ---------------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        hp, n = self.hp, self.hp["num_envs"]
        learning_starts, train_frequency, target_update_interval = (
            hp["learning_starts"], hp["train_frequency"], hp["target_update_interval"])
        if hp["prioritized"] != "none":  # β reaches 1 at the last gradient step
            updates = (total_steps - learning_starts) // train_frequency * hp["gradient_steps"]
            self.buffer.beta_steps = max(updates, 1)
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
        while self.num_timesteps < total_steps:
            progress = self.num_timesteps / total_steps
            if not hp["noisy"]:
                self.epsilon = self.epsilon_schedule(progress)
            if hp["anneal_lr"]:
                self.optimizer.param_groups[0]["lr"] = hp["learning_rate"] * (1.0 - progress)
            if self.num_timesteps < learning_starts:
                actions = self._random_actions(n)
            else:
                actions = self._epsilon_greedy(self._obs, self.epsilon)
            next_obs, rewards, terminated, truncated, info = self.envs.step(actions)
            real_next = info["final_obs"] if "final_obs" in info else next_obs  # the true s' of ended copies
            self.buffer.add(self._obs, actions, rewards, real_next, terminated, truncated)
            self._obs = next_obs
            stop = self._record_vector_step(rewards, terminated, truncated, hooks)
            if self.num_timesteps > learning_starts:
                if _crossed(self.num_timesteps, n, train_frequency):
                    for _ in range(hp["gradient_steps"]):
                        self.last_loss = self._train_step()
                if _crossed(self.num_timesteps, n, target_update_interval):
                    self._update_target(hp["tau"])
            hooks.on_boundary(self)  # the whole state, environments included, is in state_dict() here
            if stop:
                return

    def _train_step(self) -> float:
        hp = self.hp
        batch = self.buffer.sample(hp["batch_size"])
        if hp["noisy"]:  # fresh noise for this step, in both networks
            self.q_network.train()
            self.q_network.reset_noise(self.rng)
            self.target_network.reset_noise(self.rng)
        weights = batch.weights if hp["prioritized"] != "none" else None
        loss, priorities = self.td_loss(batch, weights)
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self._parameters, hp["max_grad_norm"])
        self.optimizer.step()
        if weights is not None:
            self.buffer.update_priorities(batch.indices, priorities)  # p_i = |δ_i| + ε
        return loss.item()

    def td_loss(self, batch, weights=None):
        """The loss of one minibatch and each transition's new priority |δ_j| = |Y_j − Q(φ_j, A_j)|."""
        next_obs = as_input(batch.next_obs)
        next_target = self.target_network.infer(next_obs)
        next_online = self.q_network.infer(next_obs) if self.hp["double_q"] else None
        targets = td_targets(batch.rewards, batch.discounts, batch.terminated.astype(np.float32), next_target,
                             next_online).astype(np.float32)                                    # (4.9) / (4.10)
        q = self.q_network(as_batch(batch.obs))
        q_taken = ad.take_along_axis(q, batch.actions.astype(np.int64)[:, None], axis=1).reshape(-1)
        loss = regression_loss(self.hp["loss"], q_taken, ad.tensor(targets), weights)
        return loss, np.abs(targets - q_taken.numpy())

    def _update_target(self, tau: float) -> None:
        """θ̂ ← θ (a hard copy, τ = 1), or θ̂ ← τθ + (1 − τ)θ̂ (the soft update)."""
        soft_update(self._target_pairs, tau)

    # -- checkpoints ------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = {**super().state_dict(), **self._vector_progress(), "q_network": self.q_network.state_dict(),
                 "target_network": self.target_network.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "buffer": self.buffer.state_dict(), "epsilon": self.epsilon}
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.q_network.load_state_dict(state["q_network"])
        self.target_network.load_state_dict(state["target_network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.buffer.load_state_dict(state["buffer"])
        self._load_vector_progress(state)
        self.epsilon = float(state["epsilon"])
