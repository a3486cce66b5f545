"""minirl: every algorithm of *Deep Reinforcement Learning: Fundamentals, Research and Applications*
(Dong, Ding, Zhang et al.), written from scratch on our own autodiff (`autodiff`) and kernels (`kernels`).

Subpackages are imported on demand (``import minirl.tabular``) so that ``import minirl`` stays cheap.
"""

__version__ = "0.1.0"
