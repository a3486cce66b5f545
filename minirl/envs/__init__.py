"""Environments with Gymnasium's API (book ch. 2.1): spaces, the registry, our own environments, wrappers.

    env = minirl.envs.make("FrozenLake-v1")
    obs, info = env.reset(seed=0)
"""

from minirl.envs import spaces
from minirl.envs.core import Env
from minirl.envs.registration import EnvSpec, make, register, registry, spec
from minirl.envs.registration import list  # noqa: A004
from minirl.envs.wrappers import TimeLimit, Wrapper

# importing the packages registers their environments
from minirl.envs import classic_control, toy_text  # noqa: E402,F401

__all__ = ["Env", "EnvSpec", "TimeLimit", "Wrapper", "make", "register", "registry", "spaces", "spec", "list"]
