"""Vector environments: N copies of an environment behind one batched `reset` / `step` (Gymnasium's vector API).

    envs = minirl.envs.make_vec("CartPole-v1", num_envs=16, seed=0)
    obs, info = envs.reset()                                   # obs.shape == (16, 4)
    obs, rewards, terminations, truncations, info = envs.step(envs.action_space.sample())

Two implementations:
    VectorizedEnv   our own envs' copies live in arrays and step in one NumPy operation (make_vec's default where
                    the registry has a `vector_entry_point`, e.g. all classic-control envs)
    SyncVectorEnv   any env: the copies step one after another in a Python loop

Seeding. ``reset(seed=s)`` seeds copy i with ``s + i`` (a list gives one seed per copy), and copy i then follows
exactly the trajectory of a single env reset with seed ``s + i`` and given the same actions.

Autoreset convention (same step). When a copy's episode ends at a step (terminated or truncated), that copy is
reset within the same step:
    - the returned `obs[i]` is the first observation of copy i's new episode;
    - `info["final_obs"]` is batched like `obs`: row i holds the last observation of the episode that ended, and
      rows of copies that did not end hold the same as `obs` (so it is always "the next observation" of the
      transition just made); `info["_final_obs"]` is the boolean mask of copies that ended. Both keys are present
      only at steps where some copy ended; `info["final_info"]` holds those copies' last infos (SyncVectorEnv).
    - `rewards[i]`, `terminations[i]`, `truncations[i]` belong to the step that ended the episode.
An agent storing the transition (s, a, r, s') uses s' = info["final_obs"][i] when copy i ended, and then:
    truncated  -> bootstrap: target = r + gamma * V(s')   (the time limit is not part of the MDP)
    terminated -> do not:    target = r                   (a terminal state has value 0)
Never bootstrap from `obs[i]` of a copy that ended: it belongs to the next episode.

Each copy's time limit (`max_episode_steps`) is tracked separately and reported as truncation.
"""

from minirl.envs.spaces.utils import batch_space, concatenate, iterate
from minirl.envs.vector.vector_env import SyncVectorEnv, VectorEnv, batch_infos
from minirl.envs.vector.vectorized import VectorizedEnv

__all__ = ["VectorEnv", "SyncVectorEnv", "VectorizedEnv", "batch_infos", "batch_space", "concatenate", "iterate"]
