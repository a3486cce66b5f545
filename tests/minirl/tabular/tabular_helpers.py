"""Helpers shared by the tabular tests."""

from minirl.envs import Wrapper


class FirstActions(Wrapper):
    """Records the first action of every episode (to measure how often a method goes left from A)."""

    def __init__(self, env):
        super().__init__(env)
        self.first = []

    def reset(self, **kwargs):
        self.fresh = True
        return self.env.reset(**kwargs)

    def step(self, action):
        if self.fresh:
            self.first.append(int(action))
            self.fresh = False
        return self.env.step(action)
