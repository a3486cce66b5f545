"""`check_env(env)`: run an environment briefly and report every way it breaks the API (single or vector env).

    from minirl.envs import check_env
    check_env(MyEnv())        # returns quietly, or raises EnvCheckError listing the problems

It checks the spaces, the shape of what `reset` and `step` return (a 2-tuple and a 5-tuple, the Gymnasium API, not
the old Gym 4-tuple), that every observation lies in the observation space (and says why when it does not:
shape, dtype or bounds), the types of rewards and flags, a vector env's `final_obs` bookkeeping, and seeding: two
runs from ``reset(seed=s)`` with the same actions must be identical, which fails when an env draws from NumPy's
global generator instead of `self.np_random`.
"""

from __future__ import annotations

import inspect

import numpy as np

from minirl.envs.spaces import Box, Space


class EnvCheckError(AssertionError):
    """The environment breaks the API; the message lists each problem found."""


def check_env(env, seed: int = 0, steps: int = 40) -> None:
    """Raise `EnvCheckError` listing the API violations found in `steps` random steps from ``reset(seed)``."""
    problems: dict[str, str] = {}  # kind of problem -> the first message about it (each kind reported once)
    vector = bool(getattr(env, "is_vector_env", False))
    for name in ("observation_space", "action_space"):
        if not isinstance(getattr(env, name, None), Space):
            _add(problems, f"env.{name} must be a minirl.envs.spaces.Space, got {getattr(env, name, None)!r}")
    if not problems:
        parameters = inspect.signature(env.reset).parameters
        if not {"seed", "options"} <= parameters.keys() and not any(
            p.kind is p.VAR_KEYWORD for p in parameters.values()
        ):
            _add(problems, "reset must accept the keyword arguments seed and options: "
                           "reset(*, seed=None, options=None)")
        first = _rollout(env, vector, seed, steps, problems)
        if first is not None:
            second = _rollout(env, vector, seed, steps, problems)
            if second is not None and len(first) == len(second):
                for t, (a, b) in enumerate(zip(first, second)):
                    if not _same(a, b):
                        _add(problems, "seeding", (
                            f"seeding is not deterministic: two runs from reset(seed={seed}) with the same actions "
                            f"differ at record {t} ({_short(a)} vs {_short(b)}); draw randomness from self.np_random, "
                            "which super().reset(seed=seed) seeds, never from np.random or random"))
                        break
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems.values())
        raise EnvCheckError(f"check_env({env}) found {len(problems)} problem(s):\n{listing}")


def _rollout(env, vector: bool, seed: int, steps: int, problems: dict):
    """Reset with `seed`, take `steps` seeded random actions; the list of what came back, or None if unusable."""
    out = env.reset(seed=seed)
    if not (isinstance(out, tuple) and len(out) == 2):
        _add(problems, f"reset(seed={seed}) must return a tuple (obs, info), got {_describe(out)}")
        return None
    obs, info = out
    _check_obs(env, obs, "reset", problems)
    if not isinstance(info, dict):
        _add(problems, f"reset must return a dict as info, got {type(info).__name__}")
    record = [obs]
    env.action_space.seed(seed)
    for _ in range(steps):
        out = env.step(env.action_space.sample())
        if not (isinstance(out, tuple) and len(out) == 5):
            old_api = " (the old Gym API returned (obs, reward, done, info))" if isinstance(out, tuple) else ""
            _add(problems, "step must return a tuple (obs, reward, terminated, truncated, info), got "
                           f"{_describe(out)}{old_api}")
            return None
        obs, reward, terminated, truncated, info = out
        _check_obs(env, obs, "step", problems)
        if not isinstance(info, dict):
            _add(problems, f"step must return a dict as info, got {type(info).__name__}")
            info = {}
        if vector:
            _check_vector_step(env, reward, terminated, truncated, info, problems)
        else:
            if isinstance(reward, bool) or not isinstance(reward, (int, float, np.integer, np.floating)):
                _add(problems, "reward", f"the reward must be a real number (a float), got {type(reward).__name__}: "
                                         f"{_short(reward)}")
            for name, flag in (("terminated", terminated), ("truncated", truncated)):
                if not isinstance(flag, (bool, np.bool_)):
                    _add(problems, name, f"{name} must be a bool, got {type(flag).__name__}: {flag!r}")
        record.append((obs, reward, terminated, truncated))
        if not vector and (np.any(terminated) or np.any(truncated)):
            obs, _ = env.reset()  # continues the seeded generator, which must be reproducible too
            record.append(obs)
    return record


def _add(problems: dict, message: str, detailed: str | None = None) -> None:
    """Record a problem once: `message` names its kind, `detailed` (if given) is what the report shows."""
    problems.setdefault(message, detailed if detailed is not None else message)


def _check_vector_step(env, rewards, terminations, truncations, info, problems: dict) -> None:
    n = env.num_envs
    if not (isinstance(rewards, np.ndarray) and rewards.shape == (n,) and rewards.dtype.kind in "iuf"):
        _add(problems, f"rewards must be a numeric array of shape ({n},), got {_describe(rewards)}")
    for name, flags in (("terminations", terminations), ("truncations", truncations)):
        if not (isinstance(flags, np.ndarray) and flags.shape == (n,) and flags.dtype == bool):
            _add(problems, f"{name} must be a bool array of shape ({n},), got {_describe(flags)}")
    if "final_obs" in info:
        ended = np.logical_or(terminations, truncations)
        if "_final_obs" not in info or not np.array_equal(info["_final_obs"], ended):
            _add(problems, 'info["_final_obs"] must mark exactly the copies that terminated or truncated')
        if not env.observation_space.contains(info["final_obs"]):
            _add(problems, 'info["final_obs"] must be batched like the observations and lie in observation_space')
    elif np.any(terminations) or np.any(truncations):
        _add(problems, 'when a copy ends, info["final_obs"] must hold its last observation (same-step autoreset)')


def _check_obs(env, obs, where: str, problems: dict) -> None:
    space = env.observation_space
    if not space.contains(obs):
        _add(problems, f"obs from {where}",
             f"the observation from {where} is not in observation_space {space}: {_why_not_in(space, obs)}")


def _why_not_in(space, x) -> str:
    if isinstance(space, Box):
        a = np.asarray(x)
        if a.shape != space.shape:
            return f"its shape is {a.shape}, the space's is {space.shape}"
        if not np.can_cast(a.dtype, space.dtype):
            return f"its dtype is {a.dtype}, which does not fit the space's {space.dtype} (cast it)"
        outside = np.flatnonzero(~((a >= space.low) & (a <= space.high)))
        if outside.size:
            i = outside[0]
            return (f"entry {np.unravel_index(i, a.shape)} = {a.flat[i]} is outside "
                    f"[{space.low.flat[i]}, {space.high.flat[i]}]")
    return f"got {_short(x)}"


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except TypeError:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _describe(x) -> str:
    if isinstance(x, tuple):
        return f"a tuple of {len(x)}"
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {_short(x)}"


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."
