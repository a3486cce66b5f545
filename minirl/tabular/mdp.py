"""Markov reward processes and Markov decision processes with a known model (book ch. 2.3).

    MRP <S, P, R, γ>       P[s, s'] = p(s' | s),        R[s] = R(s)                        (2.11)
    MDP <S, A, P, R, γ>    P[s, a, s'] = p(s' | s, a),  R[s, a] or R[s, a, s']              (2.15), (2.16)

Conventions used by every model-based function in `minirl.tabular`:

- States and actions are the integers 0..S-1 and 0..A-1; `states` / `actions` may name them.
- A policy is an (S, A) array whose row s is π(·|s) (2.17). A deterministic policy a = π(s) (2.38) is the
  one-hot array of `deterministic_policy(actions, A)`.
- The reward of a step may depend on s' (R of shape (S, A, S)); planning needs only its expectation
  r(s, a) = Σ_s' p(s'|s, a) R(s, a, s'), kept as `expected_reward`.
- Terminal states are absorbing with reward 0, so their value is 0 and the usual sums stop there. Whatever
  P and R say for a state listed in `terminal_states` is replaced by a self-loop with reward 0.
- The return counts the reward of the state it starts from: G = Σ_{t>=0} γ^t R_t (2.13), as in the book's
  MRP examples (figs 2.6-2.8).
"""

from __future__ import annotations

import numpy as np

_ATOL = 1e-8  # how far a row of probabilities may be from summing to 1


def _as_float_array(x, name: str) -> np.ndarray:
    a = np.array(x, dtype=np.float64)  # a copy: the model never aliases its caller's arrays
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[:3].tolist()
        raise ValueError(f"{name} must be finite, got non-finite entries at {bad}")
    return a


def _check_gamma(gamma) -> float:
    gamma = float(gamma)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
    return gamma


def check_stochastic(P: np.ndarray, name: str = "P") -> None:
    """Raise a clear error unless every row of P (over its last axis) is a probability distribution."""
    if np.any(P < 0):
        where = tuple(int(i) for i in np.argwhere(P < 0)[0])
        raise ValueError(f"{name} must be non-negative, but {name}{list(where)} = {P[where]}")
    sums = P.sum(axis=-1)
    bad = np.abs(sums - 1.0) > _ATOL
    if P.ndim == 1 and bad:
        raise ValueError(f"{name} must sum to 1 (a distribution), but sums to {sums:.6g}")
    if np.any(bad):
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"every row of {name} must sum to 1 (a distribution over next states), but row "
                         f"{name}[{', '.join(map(str, where))}, :] sums to {sums[where]:.6g}")


def _terminal_mask(terminal_states, num_states: int) -> np.ndarray:
    """Terminal states as a boolean mask of length S (from indices or a mask)."""
    t = np.asarray([] if terminal_states is None else terminal_states)
    if t.dtype == bool:
        if t.shape != (num_states,):
            raise ValueError(f"terminal_states as a mask must have shape ({num_states},), got {t.shape}")
        return t.copy()
    mask = np.zeros(num_states, dtype=bool)
    idx = t.astype(np.int64).ravel()
    if np.any((idx < 0) | (idx >= num_states)):
        raise ValueError(f"terminal_states must be in 0..{num_states - 1}, got {idx.tolist()}")
    mask[idx] = True
    return mask


def _initial_distribution(rho0, terminal: np.ndarray) -> np.ndarray:
    if rho0 is None:
        if terminal.all():
            raise ValueError("every state is terminal; give an initial_distribution")
        return (~terminal) / np.sum(~terminal)
    rho0 = _as_float_array(rho0, "initial_distribution")
    if rho0.shape != terminal.shape:
        raise ValueError(f"initial_distribution must have shape (S,) = {terminal.shape}, got {rho0.shape}")
    check_stochastic(rho0, "initial_distribution")
    return rho0


class MRP:
    """A Markov reward process <S, P, R, γ> (book 2.3.2): P (S, S) row-stochastic, R (S,) with R_t = R(S_t)."""

    def __init__(self, P, R, gamma: float, terminal_states=None, states=None):
        P, R = _as_float_array(P, "P"), _as_float_array(R, "R")
        if P.ndim != 2 or P.shape[0] != P.shape[1]:
            raise ValueError(f"MRP: P must have shape (S, S), got {P.shape}")
        if R.shape != (P.shape[0],):
            raise ValueError(f"MRP: R must have shape (S,) = ({P.shape[0]},) to match P {P.shape}, got {R.shape}")
        check_stochastic(P, "P")
        self.terminal = _terminal_mask(terminal_states, P.shape[0])
        P[self.terminal] = np.eye(P.shape[0])[self.terminal]
        R[self.terminal] = 0.0
        self.P, self.R, self.gamma = P, R, _check_gamma(gamma)
        self.states = list(states) if states is not None else list(range(P.shape[0]))

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    def solve(self) -> np.ndarray:
        """The exact values by the inverse-matrix method: v = R + γPv  =>  v = (I - γP)^{-1} R  (2.28), (2.29).

        O(S^3). States that absorb with reward 0 (terminal ones, or any such self-loop) get v = 0, which
        also makes the system solvable at γ = 1 when every other state eventually reaches one of them.
        """
        S = self.num_states
        A = np.eye(S) - self.gamma * self.P
        b = self.R.copy()
        zero = self.terminal | ((np.diag(self.P) == 1.0) & (self.R == 0.0))
        A[zero] = np.eye(S)[zero]  # the equation v(s) = 0 replaces v(s) = 0 + γ v(s)
        b[zero] = 0.0
        try:
            return np.linalg.solve(A, b)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"I - γP is singular (γ = {self.gamma}): some states never reach an absorbing zero-reward state, "
                "so their undiscounted values are unbounded; use γ < 1") from None

    def evaluate(self, tol: float = 1e-10, max_iters: int = 100_000) -> np.ndarray:
        """The values by iterating the Bellman expectation equation v <- R + γPv (2.26) until a sweep moves
        no value by more than `tol` (converges for γ < 1 by the contraction (2.44))."""
        v = np.zeros(self.num_states)
        for _ in range(max_iters):
            v_new = self.R + self.gamma * self.P @ v  # (2.26)
            if np.max(np.abs(v_new - v)) < tol:
                return v_new
            v = v_new
        raise RuntimeError(f"MRP.evaluate: no convergence to tol={tol} within {max_iters} sweeps")

    def sample_trajectory(self, start: int, rng: np.random.Generator | int | None = None,
                          horizon: int = 1000) -> list[int]:
        """States S_0 = start, S_1, ... sampled by S_{t+1} ~ P[S_t, :] (2.10), until a terminal state or
        `horizon` states."""
        rng = np.random.default_rng(rng)
        states = [int(start)]
        while len(states) < horizon and not self.terminal[states[-1]]:
            states.append(int(rng.choice(self.num_states, p=self.P[states[-1]])))
        return states

    def return_of(self, trajectory) -> float:
        """G = Σ_t γ^t R(S_t) over the given states (2.12) for γ = 1, (2.13) otherwise."""
        rewards = self.R[np.asarray(trajectory, dtype=np.int64)]
        return float(np.sum(self.gamma ** np.arange(len(rewards)) * rewards))

    def sample_return(self, start: int, rng: np.random.Generator | int | None = None, horizon: int = 1000) -> float:
        """The return of one sampled trajectory from `start`: one Monte-Carlo sample of V(start) (2.14)."""
        return self.return_of(self.sample_trajectory(start, rng, horizon))

    def as_mdp(self) -> "MDP":
        """The same process as an MDP with a single action whose reward is R(s), paid on leaving s (so the
        first reward of an episode is that of its start state, as in (2.13))."""
        return MDP(self.P[:, None, :], self.R[:, None], self.gamma, terminal_states=self.terminal,
                   states=self.states)

    def __repr__(self) -> str:
        return f"MRP(num_states={self.num_states}, gamma={self.gamma})"


class MDP:
    """A finite Markov decision process <S, A, P, R, γ> with a known model (book 2.3.3, eq. 2.15).

    P: (S, A, S) with P[s, a, s'] = p(s'|s, a), each P[s, a, :] a distribution.
    R: (S, A) reward of taking a in s, or (S, A, S) reward of the transition s -a-> s'.
    terminal_states: indices (or a boolean mask) of absorbing zero-reward states; their rows are overwritten.
    initial_distribution: ρ0 of (2.18), the distribution of S_0 (S,); default uniform over non-terminal states.
    states, actions: optional names, e.g. ``states=["g", "t1", ...]``.
    """

    def __init__(self, P, R, gamma: float, terminal_states=None, initial_distribution=None, states=None,
                 actions=None):
        P, R = _as_float_array(P, "P"), _as_float_array(R, "R")
        if P.ndim != 3 or P.shape[0] != P.shape[2]:
            raise ValueError(f"MDP: P must have shape (S, A, S) = (states, actions, next states), got {P.shape}")
        S, A, _ = P.shape
        if R.shape not in ((S, A), (S, A, S)):
            raise ValueError(f"MDP: R must have shape (S, A) = {(S, A)} or (S, A, S) = {(S, A, S)} to match "
                             f"P {P.shape}, got {R.shape}")
        check_stochastic(P, "P")
        self.terminal = _terminal_mask(terminal_states, S)
        P[self.terminal] = np.eye(S)[self.terminal][:, None, :]  # absorbing under every action
        R[self.terminal] = 0.0
        self.P, self.R, self.gamma = P, R, _check_gamma(gamma)
        # r(s, a) = Σ_s' p(s'|s, a) R(s, a, s'): all that the Bellman equations need
        self.expected_reward = R if R.ndim == 2 else np.einsum("sat,sat->sa", P, R)
        self.initial_distribution = _initial_distribution(initial_distribution, self.terminal)
        self.states = list(states) if states is not None else list(range(S))
        self.actions = list(actions) if actions is not None else list(range(A))

    outcomes = None  # set by `from_outcomes`: the (probs, next_states, rewards) tables it was built from

    @classmethod
    def from_outcomes(cls, probs, next_states, rewards, gamma: float, **kwargs) -> "MDP":
        """An MDP from the list of outcomes of every (s, a), the way Gymnasium's toy-text ``env.P[s][a]`` lists
        ``(probability, next state, reward, terminated)``: three (S, A, K) arrays, outcome k of (s, a)
        happening with probability probs[s, a, k]. Several outcomes may share a next state with different
        rewards (slipping into the cliff and walking into the start both end at the start), so R(s, a, s') is
        kept as the mean reward given s'. The tables themselves are kept in `mdp.outcomes`;
        `DiscreteMDPEnv` samples from them in their order, as Gymnasium does. kwargs go to `MDP`.
        """
        probs = np.asarray(probs, dtype=np.float64)
        next_states = np.asarray(next_states, dtype=np.int64)
        rewards = np.broadcast_to(np.asarray(rewards, dtype=np.float64), probs.shape)
        if probs.ndim != 3 or next_states.shape != probs.shape:
            raise ValueError(f"from_outcomes: probs and next_states must both have shape (S, A, K), got "
                             f"{probs.shape} and {next_states.shape}")
        S, A, _ = probs.shape
        P = np.zeros((S, A, S))
        mass = np.zeros((S, A, S))  # Σ_k p_k r_k over the outcomes k that lead to s'
        s_idx, a_idx = np.indices((S, A))
        for k in range(probs.shape[2]):
            np.add.at(P, (s_idx, a_idx, next_states[..., k]), probs[..., k])
            np.add.at(mass, (s_idx, a_idx, next_states[..., k]), probs[..., k] * rewards[..., k])
        R = np.divide(mass, P, out=np.zeros_like(P), where=P > 0)  # E[r | s, a, s']
        mdp = cls(P, R, gamma, **kwargs)
        probs, next_states, rewards = probs.copy(), next_states.copy(), rewards.copy()
        t = mdp.terminal
        probs[t], next_states[t], rewards[t] = 0.0, np.flatnonzero(t)[:, None, None], 0.0  # absorbing
        probs[t, :, 0] = 1.0
        mdp.outcomes = (probs, next_states, rewards)
        return mdp

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    @property
    def num_actions(self) -> int:
        return self.P.shape[1]

    @property
    def terminal_states(self) -> np.ndarray:
        return np.flatnonzero(self.terminal)

    def reward(self, s: int, a: int, s_next: int) -> float:
        """The reward of one transition s -a-> s' (R(s, a) when R does not depend on s')."""
        return float(self.R[s, a] if self.R.ndim == 2 else self.R[s, a, s_next])

    def induced_mrp(self, policy) -> MRP:
        """The MRP that following π turns the MDP into:
        P^π[s, s'] = Σ_a π(a|s) p(s'|s, a),  R^π[s] = Σ_a π(a|s) r(s, a)  (used by (2.26) and (2.40))."""
        policy = check_policy(policy, self)
        P_pi = np.einsum("sa,sat->st", policy, self.P)
        R_pi = np.einsum("sa,sa->s", policy, self.expected_reward)
        return MRP(P_pi, R_pi, self.gamma, terminal_states=self.terminal, states=self.states)

    def __repr__(self) -> str:
        return f"MDP(num_states={self.num_states}, num_actions={self.num_actions}, gamma={self.gamma})"


# ----------------------------------------------------------------------------------------------------------------
# Policies: (S, A) arrays of probabilities π(a|s)


def check_policy(policy, mdp: MDP) -> np.ndarray:
    """`policy` as a float (S, A) array, after checking its shape and that every row is a distribution."""
    policy = np.asarray(policy, dtype=np.float64)
    expected = (mdp.num_states, mdp.num_actions)
    if policy.shape != expected:
        hint = " (a deterministic policy of action indices? use deterministic_policy(actions, A))" \
            if policy.shape == (mdp.num_states,) else ""
        raise ValueError(f"policy must have shape (S, A) = {expected}, got {policy.shape}{hint}")
    check_stochastic(policy, "policy")
    return policy


def uniform_policy(mdp: MDP) -> np.ndarray:
    """π(a|s) = 1/A: the equiprobable random policy."""
    return np.full((mdp.num_states, mdp.num_actions), 1.0 / mdp.num_actions)


def deterministic_policy(actions, num_actions: int) -> np.ndarray:
    """The one-hot (S, A) policy of a deterministic policy a = π(s) (2.38), given as S action indices."""
    actions = np.asarray(actions, dtype=np.int64)
    return np.eye(num_actions)[actions]


def greedy_policy_from(q, ties: str = "first", atol: float = 1e-9) -> np.ndarray:
    """The greedy policy π(s) = argmax_a q(s, a) of an (S, A) action-value table (2.41).

    ties="first": a one-hot policy on the lowest-index best action (deterministic, so comparable across runs);
    ties="split": equal probability on every action within `atol` of the best.
    """
    q = np.asarray(q, dtype=np.float64)
    best = q >= q.max(axis=1, keepdims=True) - atol
    if ties == "first":
        return deterministic_policy(best.argmax(axis=1), q.shape[1])
    if ties == "split":
        return best / best.sum(axis=1, keepdims=True)
    raise ValueError(f"ties must be 'first' or 'split', got {ties!r}")


def policy_actions(policy) -> np.ndarray:
    """The most probable action of every state (the action of a deterministic policy)."""
    return np.asarray(policy).argmax(axis=1)


def random_mdp(num_states: int, num_actions: int, gamma: float = 0.9, seed=None, *,
               reward_depends_on_next_state: bool = False, sparsity: float = 0.0) -> MDP:
    """A random MDP for tests and experiments: Dirichlet(1) transition rows (entries zeroed with probability
    `sparsity`, at least one kept), standard-normal rewards."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(num_states), size=(num_states, num_actions))
    if sparsity > 0:
        keep = rng.random(P.shape) >= sparsity
        kept = rng.integers(num_states, size=(num_states, num_actions))  # one sure successor per (s, a)
        keep[np.arange(num_states)[:, None], np.arange(num_actions), kept] = True
        P = P * keep
        P /= P.sum(axis=-1, keepdims=True)
    shape = (num_states, num_actions, num_states) if reward_depends_on_next_state else (num_states, num_actions)
    return MDP(P, rng.standard_normal(shape), gamma)
