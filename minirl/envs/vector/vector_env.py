"""`VectorEnv`, the batched interface, and `SyncVectorEnv`, which runs any env's copies one after another.

See `minirl.envs.vector` for the autoreset convention both follow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minirl.envs.spaces.utils import batch_space, concatenate, iterate


class VectorEnv:
    """`num_envs` copies of one environment behind one batched `reset` / `step`.

    Attributes: `num_envs`, `single_observation_space` / `single_action_space` (one copy's spaces) and
    `observation_space` / `action_space` (the batched spaces, e.g. Box of shape (num_envs, *obs_shape)).
    """

    is_vector_env = True
    metadata: dict = {"autoreset_mode": "same_step"}
    spec = None
    render_mode = None
    closed = False
    num_envs: int
    single_observation_space = None
    single_action_space = None
    observation_space = None
    action_space = None
    # set by `make_vec(..., seed=s)`: the seed of the first `reset()` that is given none
    _first_reset_seed: int | None = None

    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict | None = None):
        """-> (observations, info). `seed` is an int (copy i gets seed + i) or one seed (or None) per copy."""
        raise NotImplementedError(f"{type(self).__name__}.reset is not implemented")

    def step(self, actions):
        """-> (observations, rewards, terminations, truncations, info), each batched over the copies."""
        raise NotImplementedError(f"{type(self).__name__}.step is not implemented")

    def render(self):
        return None

    def close(self) -> None:
        self.closed = True

    @property
    def unwrapped(self) -> "VectorEnv":
        return self

    def get_wrapper_attr(self, name: str):
        return getattr(self, name)

    def copy_seeds(self, seed) -> list[int | None]:
        """One seed per copy, by Gymnasium's rule: an int s seeds copy i with s + i."""
        if seed is None and self._first_reset_seed is not None:
            seed, self._first_reset_seed = self._first_reset_seed, None
        if seed is None:
            return [None] * self.num_envs
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(self.num_envs)]
        seeds = list(seed)
        if len(seeds) != self.num_envs:
            raise ValueError(f"{type(self).__name__}.reset: got {len(seeds)} seeds for {self.num_envs} copies")
        return seeds

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self) -> str:
        name = f"{self.spec.id}, " if self.spec is not None else ""
        return f"{type(self).__name__}({name}num_envs={self.num_envs})"


def batch_infos(infos: Sequence[dict]) -> dict:
    """Per-copy info dicts -> one dict of arrays, plus a mask ``info["_key"]`` of the copies that had `key`."""
    n, batched = len(infos), {}
    for key in dict.fromkeys(k for info in infos for k in info):
        has = np.array([key in info for info in infos])
        first = next(info[key] for info in infos if key in info)
        if isinstance(first, dict):
            batched[key] = batch_infos([info.get(key, {}) for info in infos])
        else:
            if isinstance(first, (bool, int, float, np.number, np.bool_)):
                column = np.zeros(n, dtype=np.asarray(first).dtype)
            elif isinstance(first, np.ndarray):
                column = np.zeros((n, *first.shape), dtype=first.dtype)
            else:
                column = np.full(n, None, dtype=object)
            for i in np.flatnonzero(has):
                column[i] = infos[i][key]
            batched[key] = column
        batched["_" + key] = has
    return batched


class SyncVectorEnv(VectorEnv):
    """Copies of any env, stepped one after another in a Python loop (the generic, slower vector env).

        envs = SyncVectorEnv([lambda: make("FrozenLake-v1") for _ in range(8)])
    """

    def __init__(self, env_fns: Sequence[Callable[[], object]]):
        self.envs = [fn() for fn in env_fns]
        if not self.envs:
            raise ValueError("SyncVectorEnv: env_fns is empty")
        self.num_envs = len(self.envs)
        first = self.envs[0]
        self.single_observation_space, self.single_action_space = first.observation_space, first.action_space
        for i, env in enumerate(self.envs[1:], start=1):
            if env.observation_space != first.observation_space or env.action_space != first.action_space:
                raise ValueError(
                    f"SyncVectorEnv: copy {i} has spaces ({env.observation_space}, {env.action_space}) but copy 0 has "
                    f"({first.observation_space}, {first.action_space}); all copies must share their spaces"
                )
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = {**first.metadata, "autoreset_mode": "same_step"}
        self._observations = None

    def reset(self, *, seed=None, options=None):
        results = [env.reset(seed=s, options=options) for env, s in zip(self.envs, self.copy_seeds(seed))]
        self._observations = [obs for obs, _ in results]
        return concatenate(self.single_observation_space, self._observations), batch_infos([i for _, i in results])

    def step(self, actions):
        if self._observations is None:
            raise RuntimeError("SyncVectorEnv: call reset() before step()")
        actions = iterate(self.action_space, actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"SyncVectorEnv.step: got {len(actions)} actions for {self.num_envs} copies")
        rewards = np.zeros(self.num_envs)
        terminations = np.zeros(self.num_envs, dtype=bool)
        truncations = np.zeros(self.num_envs, dtype=bool)
        infos, final_obs, final_infos = [], list(self._observations), [{} for _ in self.envs]
        for i, (env, action) in enumerate(zip(self.envs, actions)):
            obs, rewards[i], terminations[i], truncations[i], info = env.step(action)
            if terminations[i] or truncations[i]:
                # same-step autoreset: keep the last observation for bootstrapping, hand back the new episode's first
                final_obs[i], final_infos[i] = obs, info
                obs, info = env.reset()
            else:
                final_obs[i] = obs
            self._observations[i] = obs
            infos.append(info)
        info = batch_infos(infos)
        done = terminations | truncations
        if done.any():
            info["final_obs"] = concatenate(self.single_observation_space, final_obs)
            info["_final_obs"] = done
            info["final_info"] = batch_infos(final_infos)
            info["_final_info"] = done
        obs = concatenate(self.single_observation_space, self._observations)
        return obs, rewards, terminations, truncations, info

    def render(self):
        return tuple(env.render() for env in self.envs)

    def close(self) -> None:
        if not self.closed:
            for env in self.envs:
                env.close()
        super().close()
