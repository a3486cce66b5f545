"""Actor-Critic: a policy (the actor) and a value function (the critic) that both learn at every step (book ch. 5.3,
Algorithm 5.19, L20491–20547; appendix B.60; Konda and Tsitsiklis 2000, Sutton et al. 2000). The box, line by line,
its one environment being the `num_envs` copies of a vector env (`num_envs=1`, `n_steps=1` is the box exactly):

    for t = 0, 1, 2, ...                                                              `_train`
        run π_θ for one step, keeping (S_t, A_t, R_t, S_{t+1})                        one step of every copy
        Â_t = R_t + γ V_ψ(S_{t+1}) − V_ψ(S_t)                                         `l_step_targets` − V(S_t)
        J(θ) = Σ_t log π_θ(A_t|S_t) Â_t,   J_V(ψ) = Σ_t Â_t²                          `actor_critic_losses`
        ψ ← ψ − η_ψ ∇J_V(ψ),   θ ← θ + η_θ ∇J(θ)                                      `_update`: one Adam step

The box writes ψ = ψ + η_ψ ∇J_V; the critic descends its squared error, as (5.6) says. Both steps use the same Â,
computed before either network moves, and Â is a constant in J(θ): the actor does not move the critic.

The L-step critic (5.6)–(5.8) and actor (5.9)–(5.10), `n_steps` = L: S_i's target Σ_{t=i}^{i+L−1} γ^{t−i} R_t
+ γ^L V(S_{i+L}) is known L steps after S_i. A window of each copy's last L transitions (buffers/n_step.py, the one
n-step DQN uses) hands out, at every step, the transition that has just got its L rewards; target − V(S_i) is its
Â and the critic's error alike. An episode that ends inside the window ends the sum there (m < L rewards, γ^m):
after a termination the target has no bootstrap; after a truncation it bootstraps from V of the true final
observation (info["final_obs"]); every transition still waiting in that copy's window is learned from at once.
L = 1 is the default, the book's usual choice (the TD(0) error), and the box.

The Q critics (L20549–20591), switch `critic`:
    "v" (default)       V_ψ(s), as in the box
    "sarsa"             Q_ψ(s, ·), one output per action, fitted to R + γ Q(S', A'), A' ~ π_θ(·|S')        (5.12)
    "expected_sarsa"    Q_ψ(s, ·), fitted to R + γ Σ_a π_θ(a|S') Q(S', a)                                (5.13)
With a Q critic the actor's advantage is Â = Q(S, A) − Σ_a π_θ(a|S) Q(S, a) (5.11), and an L-step target
bootstraps with Q(S_{i+L}, A') or Σ_a π Q(S_{i+L}, a) in place of V(S_{i+L}). One output per action needs a
Discrete action space. (Appendix B.61's QAC bootstraps with max_a' Q and weights log π by Q(S, A) itself; the
chapter's (5.11)–(5.13) are what is here.)

Implementation details:
 1. separate actor and critic MLPs with orthogonal init (networks.py), and one Adam with a parameter group for
    each, at its own step size (Adam treats every parameter alone: the same steps as two Adams); one backward pass
    of −J(θ) + J_V(ψ) gives each network its own loss's gradient, as their parameters are disjoint;
 2. `shared_trunk` puts both heads on one trunk (the book: the two networks often share their lower layers,
    L20480); the trunk, in the critic's group, learns from −J(θ) + vf_coef·J_V(ψ);
 3. each step's losses sum over the transitions the windows hand out, divided by `num_envs`: the step size does
    not grow with the copies;
 4. η_θ = 1e-4 is ten times smaller than η_ψ = 1e-3 (the book's CartPole code has the same ratio, 1e-3 and 1e-2,
    L23069–23275): the actor follows a critic that has had time to fit; both decay linearly to 0 (`anneal_lr`);
 5. no gradient clipping by default (`max_grad_norm`): with one transition per copy per step, a clip tight enough
    to matter shortens the rare large steps of terminal transitions (R − V(S)) and not the many small ones, so the
    critic no longer descends J_V and drifts upward (on CartPole a clip of 0.5 held V near 1/(1 − γ) = 100);
 6. `ent_coef` adds an entropy bonus to J (the box has none; 0 by default);
 7. a Gaussian policy (Box actions, V critic) is sampled unclipped; its actions are clipped to the bounds only
    for the environment.

The agent's class is `ActorCriticAgent` (CLI name `actor_critic`): `networks.ActorCritic` is the pair of networks it
trains, which REINFORCE, A2C and PPO use too.
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from minirl.algos import networks
from minirl.algos.base import Agent, Hyperparameter
from minirl.algos.on_policy import checked_spaces
from minirl.buffers.n_step import NStepAccumulator
from minirl.envs import spaces
from minirl.optim.adam import Adam
from minirl.optim.clip_grad import clip_grad_norm_

CRITICS = ("v", "sarsa", "expected_sarsa")


def l_step_targets(returns, discounts, terminated, bootstrap):
    """Σ_{k<m} γ^k R_{i+k} + γ^m (1 − terminated) · bootstrap, the target of (5.7) with m = L, or m < L rewards
    where the episode ended first (`returns` and `discounts` = γ^m as the n-step window hands them out)."""
    return returns + discounts * (1.0 - terminated) * bootstrap


def bootstrap_values(critic: str, next_values, next_probs=None, next_actions=None):
    """The critic's value of S' = S_{i+m}, where the L-step sum stops: V(S') ("v"); Q(S', A') with A' drawn from
    π(·|S') ("sarsa", 5.12); Σ_a π(a|S') Q(S', a) ("expected_sarsa", 5.13)."""
    if critic == "v":
        return next_values
    if critic == "sarsa":
        return next_values[np.arange(len(next_actions)), next_actions]
    return (next_probs * next_values).sum(axis=1)


def q_advantages(q_values, probs, actions):
    """Â = Q(S, A) − Σ_a π(a|S) Q(S, a)   (5.11): Q minus the V it averages to under π."""
    return q_values[np.arange(len(actions)), actions] - (probs * q_values).sum(axis=1)


def actor_critic_losses(dist, critic_values, actions, targets, num_envs: int = 1):
    """−J(θ), the critic's J(ψ) and the entropy of π, each a sum over the transitions divided by `num_envs`, and
    the advantages Â. `critic_values` is V(S), shape (B,), or Q(S, ·), shape (B, n); `targets` the L-step targets.

        V critic:  Â = target − V(S),                      J_V(ψ) = Σ (target − V(S))² = Σ Â²    (box, 5.7)
        Q critic:  Â = Q(S, A) − Σ_a π(a|S) Q(S, a) (5.11), J_Q(ψ) = Σ (target − Q(S, A))²     (5.12), (5.13)
        J(θ) = Σ log π_θ(A|S) Â, with Â a constant (the critic learns from J_V alone)           (5.10)

    (5.7) halves J_V, which only halves η_ψ; the box's Σ Â² is used here.
    """
    if critic_values.ndim == 1:
        estimate = critic_values
        advantages = targets - critic_values.numpy()
    else:
        estimate = ad.take_along_axis(critic_values, actions.astype(np.int64)[:, None], axis=1).reshape(-1)
        advantages = q_advantages(critic_values.numpy(), dist.probs.numpy(), actions)
    dtype = critic_values.dtype
    policy_loss = -(dist.log_prob(actions) * ad.tensor(advantages.astype(dtype))).sum() / num_envs     # −J(θ)
    critic_loss = ((ad.tensor(targets.astype(dtype)) - estimate) ** 2).sum() / num_envs              # J_V(ψ)
    return policy_loss, critic_loss, dist.entropy().sum() / num_envs, advantages


class ActorCriticAgent(Agent):
    """Online actor-critic: both networks step after every environment step (Algorithm 5.19), L-step critic."""

    name = "actor_critic"
    hyperparameters = {
        "num_envs": Hyperparameter(4, "environment copies stepped together (1: the box's single environment)",
                                   low=1),
        "n_steps": Hyperparameter(1, "L: rewards summed before the critic bootstraps (5.7); 1 is the box's TD(0)",
                                  low=1),
        "gamma": Hyperparameter(0.99, "γ, the discount factor", low=0.0, high=1.0),
        "actor_learning_rate": Hyperparameter(1e-4, "η_θ: Adam's step size for the actor",
                                              above=0.0),
        "critic_learning_rate": Hyperparameter(1e-3, "η_ψ: Adam's step size for the critic (and a shared trunk)",
                                               above=0.0),
        "anneal_lr": Hyperparameter(True, "decay both step sizes linearly to 0 over training"),
        "adam_eps": Hyperparameter(1e-5, "Adam's ε", low=0.0),
        "critic": Hyperparameter("v", "the critic: v (V_ψ, the box), sarsa (Q_ψ, 5.12) or expected_sarsa (5.13)",
                                 choices=CRITICS),
        "shared_trunk": Hyperparameter(False, "actor and critic as two heads on one MLP trunk (one optimizer)"),
        "vf_coef": Hyperparameter(0.5, "weight of the critic's loss with a shared trunk", low=0.0),
        "ent_coef": Hyperparameter(0.0, "weight of the entropy bonus added to J(θ)", low=0.0),
        "max_grad_norm": Hyperparameter(None, "global gradient-norm clip of each network; None: no clip",
                                        above=0.0, kind=float),
        "hidden": Hyperparameter("64,64", "hidden layer sizes of actor and critic (or of the shared trunk)"),
        "activation": Hyperparameter("tanh", "tanh or relu", choices=("tanh", "relu")),
        "log_std_init": Hyperparameter(0.0, "initial log std of a Gaussian policy"),
    }
    default_steps = {"CartPole-v1": 100_000}

    @classmethod
    def check_hyperparameters(cls, values: dict) -> None:
        networks.parse_hidden(values["hidden"], f"{cls.name}.hidden")

    def __init__(self, env, seed: int = 0, **overrides):
        super().__init__(env, seed, **overrides)
        hp = self.hp
        self.envs = self.make_vector_env(hp["num_envs"])
        obs_space, act_space = checked_spaces(self.envs, self.name)
        self.discrete = isinstance(act_space, spaces.Discrete)
        if hp["critic"] != "v" and not self.discrete:
            raise ValueError(f"{self.name}.critic: {hp['critic']!r} is a Q critic, one output per action, and needs a "
                             f"Discrete action space; {self.env_id} has {act_space}. Use critic='v' (V_ψ) for "
                             f"continuous actions")
        self.policy = networks.ActorCritic(obs_space, act_space, networks.parse_hidden(hp["hidden"]),
                                           hp["activation"], rng=self.rng, log_std_init=hp["log_std_init"],
                                           q_critic=hp["critic"] != "v", shared_trunk=hp["shared_trunk"])
        # one Adam, a parameter group per network with its own step size: the same steps as two Adams
        actor, critic = [], []  # θ: actor.* and log_std; ψ: critic.* and a shared trunk.*
        for name, parameter in self.policy.named_parameters():
            (actor if name.startswith("actor.") or name == "log_std" else critic).append(parameter)
        self.optimizer = Adam([{"params": actor, "lr": hp["actor_learning_rate"]},                    # θ, η_θ
                               {"params": critic, "lr": hp["critic_learning_rate"]}],                 # ψ (trunk), η_ψ
                              eps=hp["adam_eps"], fused=True)
        # each copy's last L transitions, waiting for their L rewards
        self.window = NStepAccumulator(hp["n_steps"], hp["gamma"], hp["num_envs"], obs_space.shape,
                                       () if self.discrete else act_space.shape,
                                       action_dtype=np.int64 if self.discrete else np.float32)
        self.action_low, self.action_high = (None, None) if self.discrete else (act_space.low, act_space.high)
        self._obs = None  # the copies' current observations
        self.episode_returns = np.zeros(hp["num_envs"])
        self.episode_lengths = np.zeros(hp["num_envs"], dtype=np.int64)
        self.last_stats: dict = {}

    # -- acting -----------------------------------------------------------------------------------------
    def _env_action(self, actions):
        return actions if self.discrete else np.clip(actions, self.action_low, self.action_high)

    def act(self, obs, deterministic: bool = True):
        single = np.ndim(obs) == len(self.envs.single_observation_space.shape)
        x = np.asarray(obs, dtype=np.float32)
        with ad.no_grad():
            dist = self.policy.distribution(ad.tensor(x[None] if single else x))
        action = self._env_action(dist.mode() if deterministic else dist.sample(self.rng))
        return action[0] if single else action

    # -- Algorithm 5.19 ---------------------------------------------------------------------------------
    def _train(self, total_steps, hooks):
        if self._obs is None:
            self._obs, _ = self.envs.reset(seed=self.seed)
        while self.num_timesteps < total_steps:
            if self.hp["anneal_lr"]:
                self._anneal(1.0 - self.num_timesteps / total_steps)
            with ad.no_grad():
                actions = self.policy.distribution(ad.tensor(self._obs)).sample(self.rng)    # A_t ~ π_θ(·|S_t)
            next_obs, rewards, terminated, truncated, info = self.envs.step(self._env_action(actions))
            real_next = info["final_obs"] if "final_obs" in info else next_obs  # S_{t+1} of a copy that ended
            finished = self.window.push(self._obs, actions, rewards, real_next, terminated, truncated)
            self._obs = next_obs
            stop = self._record_vector_step(rewards, terminated, truncated, hooks)
            if len(finished["rewards"]):  # nothing for the first L − 1 steps
                self.last_stats = self._update(finished)
            hooks.on_boundary(self)  # everything, the windows included, is in state_dict() here
            if stop:
                return

    def _anneal(self, fraction: float) -> None:
        actor, critic = self.optimizer.param_groups
        actor["lr"] = self.hp["actor_learning_rate"] * fraction
        critic["lr"] = self.hp["critic_learning_rate"] * fraction

    def _update(self, finished) -> dict:
        """One step of each network on the transitions whose L-step targets are complete."""
        hp = self.hp
        with ad.no_grad():
            next_dist, next_values = self.policy.distribution_and_value(ad.tensor(finished["next_obs"]))
        next_probs = next_dist.probs.numpy() if hp["critic"] == "expected_sarsa" else None
        next_actions = next_dist.sample(self.rng) if hp["critic"] == "sarsa" else None                # A' ~ π(·|S')
        bootstrap = bootstrap_values(hp["critic"], next_values.numpy(), next_probs, next_actions)
        targets = l_step_targets(finished["rewards"], finished["discounts"],
                                 finished["terminated"].astype(np.float64), bootstrap)                  # (5.7)
        dist, values = self.policy.distribution_and_value(ad.tensor(finished["obs"]))
        policy_loss, critic_loss, entropy, advantages = actor_critic_losses(dist, values, finished["actions"],
                                                                             targets, hp["num_envs"])
        critic_weight = hp["vf_coef"] if hp["shared_trunk"] else 1.0  # separate networks: each its own loss
        loss = policy_loss - hp["ent_coef"] * entropy + critic_weight * critic_loss
        self.optimizer.zero_grad()
        loss.backward()  # separate networks: the actor's parameters get J's gradient, the critic's J_V's
        if hp["max_grad_norm"] is not None:
            for group in self.optimizer.param_groups:
                clip_grad_norm_(group["params"], hp["max_grad_norm"])
        self.optimizer.step()                 # θ ← θ + η_θ ∇J(θ) (Adam on −J);  ψ ← ψ − η_ψ ∇J_V(ψ)   (5.9), (5.6)
        return {"policy_loss": policy_loss.item(), "value_loss": critic_loss.item(), "entropy": entropy.item(),
                "advantage": float(np.mean(advantages))}

    # -- checkpoints -------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {**super().state_dict(), **self._vector_progress(), "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(), "window": self.window.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.window.load_state_dict(state["window"])
        self._load_vector_progress(state)


__all__ = ["ActorCriticAgent", "actor_critic_losses", "bootstrap_values", "l_step_targets", "q_advantages"]
